/**
 * `berth status` and `berth logs` for the local run (`npm start`), so the habit is the same on a laptop:
 * the services' health endpoints, from the run file `npm start` writes, and their lines from its log file
 * (scripts/localLog.ts). `--filter` is a plain substring here: CloudWatch's pattern syntax is AWS's alone.
 */
import * as fs from "fs";
import * as path from "path";
import { LOCAL_LOG_FILE, LOCAL_RUN_FILE, type LocalLogEntry, type LocalRun } from "../scripts/localLog";
import { CliError, EXIT, type Deps } from "./context";
import { FOLLOW_INTERVAL_MS, formatLine, sinceMs, type LogsOptions } from "./logs";

/** A health check that takes longer than this counts as failed (the services answer in milliseconds). */
const HEALTH_TIMEOUT_MS = 2000;

export function readLocalRun(deps: Deps): LocalRun {
    const file = path.join(deps.cwd, LOCAL_RUN_FILE);
    let run: LocalRun;
    try {
        run = JSON.parse(fs.readFileSync(file, "utf8")) as LocalRun;
    } catch {
        throw new CliError(`no local run found (${LOCAL_RUN_FILE}); start one with \`npm start\`, or name a stack with --stack`);
    }
    if (!alive(run.pid)) {
        throw new CliError(`the local run (npm start, pid ${run.pid}) is no longer running; start it again with \`npm start\``);
    }
    return run;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        // EPERM: it exists, under another user.
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

export async function localStatus(deps: Deps, only: string | undefined, asJson: boolean): Promise<number> {
    const run = readLocalRun(deps);
    const services = run.services.filter((s) => !only || s.name === only);
    if (services.length === 0) {
        throw new CliError(`service ${JSON.stringify(only)} not found in the local run; services: ${[...new Set(run.services.map((s) => s.name))].join(", ")}`);
    }
    const results = await Promise.all(
        services.map(async (s) => {
            const url = `${s.url}${s.healthPath}`;
            try {
                const response = await deps.fetch(url, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
                await response.arrayBuffer();
                return { ...s, healthy: response.ok, detail: `HTTP ${response.status}` };
            } catch (error) {
                const e = error as { cause?: { code?: string }; name?: string; message?: string };
                return { ...s, healthy: false, detail: e.cause?.code ?? e.name ?? String(error) };
            }
        }),
    );
    if (asJson) {
        deps.term.out(JSON.stringify({ local: true, pid: run.pid, url: run.url, services: results }, null, 2));
    } else {
        deps.term.out(`Local run (npm start, pid ${run.pid}), gateway ${run.url}`);
        for (const r of results) {
            const label = services.filter((s) => s.name === r.name).length > 1 ? `${r.name}.${r.index}` : r.name;
            deps.term.out(`  ${label.padEnd(12)} ${`${r.url}${r.healthPath}`.padEnd(36)} ${r.healthy ? "healthy" : "UNHEALTHY"} (${r.detail})`);
        }
    }
    return results.every((r) => r.healthy) ? EXIT.ok : EXIT.unhealthy;
}

export async function localLogs(deps: Deps, service: string | undefined, options: LogsOptions): Promise<number> {
    if (!service) {
        throw new CliError("logs needs a service: berth logs <service> [--follow] [--since 10m] [--filter text] [--json]");
    }
    const run = readLocalRun(deps);
    // A job's lines are in the run's log too (scripts/localJobs.ts).
    if (!run.services.some((s) => s.name === service) && !run.jobs?.names.includes(service)) {
        throw new CliError(
            `service ${JSON.stringify(service)} not found in the local run; services: ${[...new Set(run.services.map((s) => s.name))].join(", ")}`,
        );
    }
    const file = path.join(deps.cwd, LOCAL_LOG_FILE);
    const since = deps.now() - sinceMs(options.since ?? "10m");
    let offset = 0;
    let rest = "";
    for (;;) {
        let chunk = "";
        try {
            const size = fs.statSync(file).size;
            if (size < offset) {
                // Rolled over (or a new run): read the new file from its start.
                offset = 0;
                rest = "";
            }
            const fd = fs.openSync(file, "r");
            try {
                const buffer = Buffer.alloc(size - offset);
                fs.readSync(fd, buffer, 0, buffer.length, offset);
                chunk = buffer.toString("utf8");
                offset = size;
            } finally {
                fs.closeSync(fd);
            }
        } catch {
            chunk = "";
        }
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const text of lines) {
            let entry: LocalLogEntry;
            try {
                entry = JSON.parse(text) as LocalLogEntry;
            } catch {
                continue;
            }
            const ofService = entry.service === service || entry.service.startsWith(`${service}.`);
            if (
                !ofService ||
                entry.t < since ||
                (options.filter && !entry.line.includes(options.filter)) ||
                (options.task && !entry.service.startsWith(options.task))
            ) {
                continue;
            }
            deps.term.out(options.json ? JSON.stringify(entry) : formatLine({ timestamp: entry.t, task: entry.service, message: entry.line, raw: {} }));
        }
        if (!options.follow || deps.interrupted.aborted) {
            return EXIT.ok;
        }
        await deps.sleep(FOLLOW_INTERVAL_MS, deps.interrupted);
        if (deps.interrupted.aborted) {
            return EXIT.ok;
        }
    }
}
