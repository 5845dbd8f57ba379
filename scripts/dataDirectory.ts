/**
 * The embedded database's data directory has one owner at a time. Two PGlite instances on the same files
 * each keep their own buffers and write-ahead log position: the second one's writes (or its mere opening
 * and closing, which writes a checkpoint) overwrite what the first acknowledged, and the directory can end
 * up unreadable. So a run takes a lock beside the directory before it looks inside, and refuses to start
 * when another process holds it.
 *
 * The lock is `<dataDir>.lock`, created with O_EXCL (atomic on local file systems), holding who owns it:
 * pid, host, the kernel's boot id and the process's start time (so that a pid reused after a crash or a
 * reboot is not taken for the owner). A lock whose owner is gone is taken over under a second O_EXCL file,
 * so that two runs finding the same stale lock cannot both take it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";

/** A data directory that cannot be used as it is; the message says which, what is wrong and what to do. */
export class DataDirectoryError extends Error {}

/** Who holds a data directory, as written in its lock file. */
export interface LockOwner {
    pid: number;
    hostname: string;
    /** Linux's `/proc/sys/kernel/random/boot_id`: a pid from another boot is not this one. */
    bootId?: string;
    /** The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22). */
    processStart?: string;
    /** ISO time the lock was taken. */
    since: string;
    /** What holds it, for people: e.g. "npm start, gateway on port 8080". */
    note?: string;
}

export interface DataDirectoryLock {
    readonly path: string;
    /** Removes the lock file if it is still this process's; once. */
    release(): void;
}

const readText = (file: string): string | undefined => {
    try {
        return readFileSync(file, "utf8").trim();
    } catch {
        return undefined;
    }
};

const bootId = () => readText("/proc/sys/kernel/random/boot_id");

/** Field 22 of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses. */
function processStart(pid: number): string | undefined {
    const stat = readText(`/proc/${pid}/stat`);
    return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

function me(note?: string): LockOwner {
    return { pid: process.pid, hostname: hostname(), bootId: bootId(), processStart: processStart(process.pid), since: new Date().toISOString(), note };
}

/** Whether the owner written in a lock still runs; undefined when that cannot be told (another host). */
function ownerAlive(owner: LockOwner): boolean | undefined {
    if (owner.hostname !== hostname()) {
        return undefined;
    }
    const boot = bootId();
    if (owner.bootId && boot && owner.bootId !== boot) {
        return false;
    }
    try {
        process.kill(owner.pid, 0);
    } catch (err) {
        // EPERM: a process of another user has the pid, so something runs there.
        if ((err as NodeJS.ErrnoException).code === "ESRCH") {
            return false;
        }
    }
    const start = processStart(owner.pid);
    return !(owner.processStart && start && owner.processStart !== start);
}

function parseOwner(text: string | undefined): LockOwner | undefined {
    try {
        const owner = JSON.parse(text ?? "") as LockOwner;
        return Number.isInteger(owner.pid) && typeof owner.hostname === "string" ? owner : undefined;
    } catch {
        return undefined;
    }
}

/** Creates `file` with `content` only if it does not exist; false when it does. */
function createExclusive(file: string, content: string): boolean {
    let fd: number;
    try {
        fd = openSync(file, "wx");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") {
            return false;
        }
        throw err;
    }
    try {
        writeSync(fd, content);
    } finally {
        closeSync(fd);
    }
    return true;
}

function describeOwner(owner: LockOwner): string {
    return `process ${owner.pid}${owner.note ? ` (${owner.note})` : ""} on ${owner.hostname}, since ${owner.since}`;
}

/**
 * Takes the lock of `dataDir`, or throws a `DataDirectoryError` naming the process that holds it and how
 * to run a second copy. A lock left by a process that no longer runs is taken over (and said so in `log`).
 */
export function lockDataDirectory(dataDir: string, options: { note?: string; log?: (line: string) => void } = {}): DataDirectoryLock {
    const dir = path.resolve(dataDir);
    const lockPath = `${dir}.lock`;
    mkdirSync(path.dirname(dir), { recursive: true });
    const content = JSON.stringify(me(options.note));
    for (let attempt = 0; attempt < 5; attempt++) {
        if (createExclusive(lockPath, content)) {
            let released = false;
            const release = () => {
                if (!released) {
                    released = true;
                    process.off("exit", release);
                    if (readText(lockPath) === content) {
                        rmSync(lockPath, { force: true });
                    }
                }
            };
            // A run that ends by an error still frees its directory; only SIGKILL or a crash leave a lock behind.
            process.on("exit", release);
            return { path: lockPath, release };
        }
        const text = readText(lockPath);
        const owner = parseOwner(text);
        if (text === undefined) {
            continue; // removed in between: try again
        }
        const alive = owner ? ownerAlive(owner) : undefined;
        if (owner === undefined || alive !== false) {
            const who =
                owner === undefined
                    ? `a lock file that cannot be read (${lockPath}); if no other run uses the directory, delete that file`
                    : alive === undefined
                      ? `${describeOwner(owner)}, another host: if that run is gone, delete ${lockPath}`
                      : describeOwner(owner);
            throw new DataDirectoryError(
                `The data directory ${dir} is in use by ${who}. Stop that run first, or run a second copy on a data ` +
                    `directory of its own: npm start -- --data-dir <another directory> (empty or new; add --fresh to empty it first).`,
            );
        }
        takeOver(lockPath, text, owner, options.log);
    }
    throw new DataDirectoryError(`The lock of the data directory ${dir} (${lockPath}) changed hands repeatedly while this run tried to take it; try again.`);
}

/**
 * Removes a stale lock, under `<lock>.takeover` (O_EXCL) so that of two runs finding it, one removes it and
 * the other sees the new owner's lock; the stale text is compared again under it.
 */
function takeOver(lockPath: string, staleText: string, owner: LockOwner, log?: (line: string) => void): void {
    const guard = `${lockPath}.takeover`;
    if (!createExclusive(guard, JSON.stringify(me()))) {
        const holder = parseOwner(readText(guard));
        if (holder && ownerAlive(holder) === false) {
            rmSync(guard, { force: true });
        }
        return;
    }
    try {
        if (readText(lockPath) === staleText) {
            unlinkSync(lockPath);
            log?.(`Took over the data directory's lock from ${describeOwner(owner)}, which no longer runs (it stopped without releasing it).`);
        }
    } finally {
        rmSync(guard, { force: true });
    }
}

/** What a data directory holds before PGlite opens it. */
export type DataDirectoryState = "absent" | "empty" | "database";

/**
 * Refuses a directory PGlite would silently initialise over: PGlite runs initdb wherever `PG_VERSION` is
 * missing, so a damaged or foreign directory would lose its files' meaning and get the seed records back.
 */
export function inspectDataDirectory(dataDir: string): DataDirectoryState {
    const dir = path.resolve(dataDir);
    if (!existsSync(dir)) {
        return "absent";
    }
    if (!statSync(dir).isDirectory()) {
        throw new DataDirectoryError(`The data directory ${dir} is not a directory. Move it away, or choose another with --data-dir.`);
    }
    const entries = readdirSync(dir);
    if (entries.length === 0) {
        return "empty";
    }
    if (!entries.includes("PG_VERSION")) {
        throw new DataDirectoryError(
            `The data directory ${dir} is not empty but holds no PostgreSQL database (PG_VERSION is missing): it is damaged, ` +
                `or not a data directory. Nothing was changed. ${keepACopy(dir)}`,
        );
    }
    return "database";
}

/** How to keep a damaged directory and start again, for an error message. */
export function keepACopy(dir: string): string {
    return `To keep a copy and start again with an empty database: mv ${dir} ${dir}.damaged && npm start ` + `(or npm start -- --fresh, which deletes it).`;
}

/**
 * A note beside the data directory, left when the directory vanished under a running database, so that the
 * next start says what happened instead of silently making a new one.
 */
export function lostNotePath(dataDir: string): string {
    return `${path.resolve(dataDir)}.lost`;
}

export function writeLostNote(dataDir: string, text: string): void {
    try {
        mkdirSync(path.dirname(path.resolve(dataDir)), { recursive: true });
        writeFileSync(lostNotePath(dataDir), `${new Date().toISOString()} ${text}\n`);
    } catch {
        // The parent is gone too and cannot be made again: the log line is all there is.
    }
}

/** The note left by a run whose data directory vanished, and removes it; undefined when there is none. */
export function takeLostNote(dataDir: string): string | undefined {
    const text = readText(lostNotePath(dataDir));
    if (text !== undefined) {
        rmSync(lostNotePath(dataDir), { force: true });
    }
    return text;
}
