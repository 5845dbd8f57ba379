/**
 * What `npm start` leaves for `berth status --local` and `berth logs --local`: a file naming the running
 * services (`.berth/local-run.json`, removed on stop) and their log lines (`.berth/local.log`, one JSON
 * object a line: time, service, line). The log file stays small: past `LOCAL_LOG_MAX_BYTES` it becomes
 * `local.log.1` (the one before is dropped) and a new one starts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalSystem } from "./local";

export const LOCAL_RUN_FILE = path.join(".berth", "local-run.json");
export const LOCAL_LOG_FILE = path.join(".berth", "local.log");
export const LOCAL_LOG_MAX_BYTES = 5 * 1024 * 1024;

/** The running local system, as `berth` reads it. */
export interface LocalRun {
    /** `npm start`'s process. */
    pid: number;
    url: string;
    services: Array<{ name: string; index: number; url: string; healthPath: string; pid?: number }>;
    /** The jobs it runs on their schedules, and where `berth job run --local` asks it to run one now (scripts/localJobs.ts). */
    jobs?: { url: string; names: string[] };
}

/** The run file's content for a started system. */
export function localRunOf(pid: number, system: Pick<LocalSystem, "url" | "services" | "jobs">): LocalRun {
    return {
        pid,
        url: system.url,
        jobs: system.jobs && { url: system.jobs.url, names: system.jobs.names },
        services: system.services.map((s) => ({ name: s.service.name, index: s.index, url: s.url, healthPath: s.service.healthPath, pid: s.process.pid })),
    };
}

/** One line of the local log file. */
export interface LocalLogEntry {
    /** Milliseconds since the epoch, when `npm start` read the line. */
    t: number;
    /** The service, with its instance (`users.1`) when it runs several. */
    service: string;
    line: string;
}

export interface LocalLogWriter {
    write(service: string, line: string): void;
    close(): void;
}

/** Appends entries to `file`, starting it afresh, and rolls it over past `maxBytes`. */
export function localLogWriter(file: string, maxBytes = LOCAL_LOG_MAX_BYTES, now: () => number = Date.now): LocalLogWriter {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let fd = fs.openSync(file, "w");
    let size = 0;
    return {
        write(service, line) {
            const text = `${JSON.stringify({ t: now(), service, line } satisfies LocalLogEntry)}\n`;
            if (size + Buffer.byteLength(text) > maxBytes && size > 0) {
                fs.closeSync(fd);
                fs.renameSync(file, `${file}.1`);
                fd = fs.openSync(file, "w");
                size = 0;
            }
            fs.writeSync(fd, text);
            size += Buffer.byteLength(text);
        },
        close() {
            fs.closeSync(fd);
        },
    };
}
