/**
 * The embedded database of the local run and of the tests: PGlite (PostgreSQL compiled to WebAssembly, in
 * this process) served on a loopback TCP port, so that the services reach it with the same client, SQL and
 * wire protocol as a real PostgreSQL server.
 *
 * PGlite is one PostgreSQL session. `@electric-sql/pglite-socket` lets several clients connect to it and
 * queues their protocol messages one at a time, but it pins the queue to one client only while a
 * transaction is open, so the Parse/Bind/Execute/Sync messages of two clients' parameterised queries can
 * interleave and bind one client's parameters to the other's statement
 * (https://github.com/electric-sql/pglite/issues/1046, fix proposed in
 * https://github.com/electric-sql/pglite/pull/977). Berth therefore keeps pglite-socket's connection
 * handler (framing, SSL refusal, cancel requests) and gives it a queue that hands the session to one client
 * per *turn*: from its first message until PGlite answers ReadyForQuery with the session idle (status `I`),
 * which covers a whole extended-protocol batch and a whole transaction. A client that keeps its turn open
 * without sending anything for `turnTimeoutMs` (a stopped process in the middle of a transaction) is
 * disconnected and its transaction rolled back, as PostgreSQL's `idle_in_transaction_session_timeout` would.
 */
import { rmSync, statSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";
import { DataDirectoryError, inspectDataDirectory, keepACopy, lockDataDirectory, takeLostNote, writeLostNote, type DataDirectoryLock } from "./dataDirectory";

export interface EmbeddedPostgresOptions {
    /**
     * Where PGlite keeps its files, so that data survives restarts. The directory is locked for this
     * process (see `dataDirectory.ts`) before anything looks inside it.
     * @default in memory, gone when stopped
     */
    dataDir?: string;
    /** Who holds the data directory, for the message a second run prints. @default none */
    lockNote?: string;
    /**
     * Called once when the data directory vanishes or PGlite fails while serving: from then on every
     * connection is refused, so that no write is acknowledged that is not kept.
     * @default the message on stderr
     */
    onLost?: (message: string) => void;
    /** Notices for people (a stale lock taken over, a vanished directory found at start). @default stderr */
    log?: (line: string) => void;
    /** Delete `dataDir` first and start from an empty database. @default false */
    fresh?: boolean;
    /** The loopback port to listen on; 0 picks a free one. @default 0 */
    port?: number;
    /**
     * How long a client may hold the session in the middle of a turn (an open transaction, a batch without
     * its Sync) without sending anything before it is disconnected.
     * @default 10000
     */
    turnTimeoutMs?: number;
}

export interface EmbeddedPostgres {
    /** `postgresql://postgres:postgres@127.0.0.1:<port>/postgres` (PGlite accepts any password). */
    readonly url: string;
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    readonly password: string;
    /** With a data directory: whether this start created the database (then empty, until migrated). */
    readonly created: boolean;
    /** Closes every connection, stops listening and closes PGlite (flushing its files); once. */
    stop(): Promise<void>;
}

const READY_FOR_QUERY_IDLE = [0x5a, 0, 0, 0, 5, 0x49]; // 'Z', length 5, status 'I'

interface Message {
    handlerId: number;
    message: Uint8Array;
    onData: (data: Uint8Array) => void;
    resolve: (bytes: number) => void;
    reject: (err: unknown) => void;
}

/**
 * Runs the clients' protocol messages on the one PGlite session, one client's turn at a time. Implements
 * what `PGLiteSocketHandler` calls on its `queryQueue` (see the package's `index.d.ts`).
 */
class TurnQueue {
    private readonly waiting: Message[] = [];
    private readonly gone = new Set<number>();
    private owner: number | undefined;
    private running = false;
    private idleTimer: NodeJS.Timeout | undefined;

    /** Set once the database may not serve any more (see `fail`): every message is refused from then on. */
    private failure: Error | undefined;

    constructor(
        private readonly db: PGlite,
        private readonly turnTimeoutMs: number,
        private readonly onStuck: (handlerId: number) => void,
        /** Throws when the data may no longer be written (its directory is gone); checked before each message. */
        private readonly check: () => void = () => undefined,
        private readonly onFailure: (err: Error) => void = () => undefined,
    ) {}

    get failed(): boolean {
        return this.failure !== undefined;
    }

    private fail(err: Error): void {
        if (this.failure === undefined) {
            this.failure = err;
            this.onFailure(err);
        }
    }

    enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
        return new Promise((resolve, reject) => {
            this.waiting.push({ handlerId, message, onData, resolve, reject });
            void this.drain();
        });
    }

    clearQueueForHandler(handlerId: number): void {
        for (let i = this.waiting.length - 1; i >= 0; i--) {
            if (this.waiting[i].handlerId === handlerId) {
                this.waiting.splice(i, 1)[0].reject(new Error("client disconnected"));
            }
        }
    }

    async clearTransactionIfNeeded(handlerId: number): Promise<void> {
        this.gone.add(handlerId);
        await this.drain();
    }

    private next(): Message | undefined {
        const i = this.owner === undefined ? 0 : this.waiting.findIndex((m) => m.handlerId === this.owner);
        return i < 0 ? undefined : this.waiting.splice(i, 1)[0];
    }

    private async drain(): Promise<void> {
        if (this.running) {
            return;
        }
        this.running = true;
        clearTimeout(this.idleTimer);
        try {
            for (;;) {
                if (this.owner !== undefined && this.gone.has(this.owner)) {
                    // The client left in the middle of its turn: end it for the next one.
                    if (this.db.isInTransaction()) {
                        await this.db.exec("ROLLBACK");
                    }
                    this.owner = undefined;
                }
                const item = this.next();
                if (!item) {
                    break;
                }
                if (this.failure === undefined) {
                    try {
                        this.check();
                    } catch (err) {
                        this.fail(err as Error);
                    }
                }
                if (this.failure !== undefined) {
                    item.reject(this.failure);
                    continue;
                }
                const tail: number[] = [];
                let bytes = 0;
                try {
                    await this.db.runExclusive(() =>
                        this.db.execProtocolRawStream(item.message, {
                            onRawData: (data) => {
                                bytes += data.length;
                                tail.push(...data.subarray(Math.max(0, data.length - READY_FOR_QUERY_IDLE.length)));
                                tail.splice(0, Math.max(0, tail.length - READY_FOR_QUERY_IDLE.length));
                                item.onData(data);
                            },
                        }),
                    );
                    item.resolve(bytes);
                } catch (err) {
                    // PGlite aborts (a WebAssembly RuntimeError) on a PANIC, e.g. a damaged file; it cannot
                    // run anything after that.
                    if ((err as Error).name === "RuntimeError") {
                        this.fail(err as Error);
                    }
                    item.reject(err);
                }
                const idle = tail.length === READY_FOR_QUERY_IDLE.length && tail.every((b, i) => b === READY_FOR_QUERY_IDLE[i]);
                this.owner = idle ? undefined : item.handlerId;
            }
        } finally {
            this.running = false;
        }
        const owner = this.owner;
        if (owner !== undefined) {
            this.idleTimer = setTimeout(() => {
                if (this.owner === owner) {
                    this.onStuck(owner);
                }
            }, this.turnTimeoutMs);
            this.idleTimer.unref();
        }
    }
}

/**
 * Starts PGlite and serves it on 127.0.0.1. With a data directory: locks it, refuses a directory PGlite
 * would initialise over, and reports a directory PostgreSQL cannot open by what PostgreSQL said.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
    const log = options.log ?? ((line: string) => console.error(line));
    const dataDir = options.dataDir === undefined ? undefined : path.resolve(options.dataDir);
    const lock = dataDir === undefined ? undefined : lockDataDirectory(dataDir, { note: options.lockNote, log });
    try {
        return await open(dataDir, lock, options, log);
    } catch (err) {
        lock?.release();
        throw err;
    }
}

async function open(
    dataDir: string | undefined,
    lock: DataDirectoryLock | undefined,
    options: EmbeddedPostgresOptions,
    log: (line: string) => void,
): Promise<EmbeddedPostgres> {
    const created = prepareDataDirectory(dataDir, options, log);
    const db = await openPGlite(dataDir);
    const check = directoryCheck(dataDir);
    const { server, handlers, queue } = serve(db, dataDir, options, log, check);
    const host = "127.0.0.1";
    try {
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(options.port ?? 0, host, resolve);
        });
    } catch (err) {
        await db.close();
        throw err;
    }
    const port = (server.address() as net.AddressInfo).port;
    const [user, password, database] = ["postgres", "postgres", "postgres"];
    let stopped: Promise<void> | undefined;
    return {
        url: `postgresql://${user}:${password}@${host}:${port}/${database}`,
        host,
        port,
        database,
        user,
        password,
        created,
        stop: () =>
            (stopped ??= (async () => {
                const closed = new Promise<void>((resolve) => server.close(() => resolve()));
                await Promise.all([...handlers.values()].map((h) => h.detach(true)));
                await closed;
                try {
                    check();
                } catch (err) {
                    if (!queue.failed) {
                        writeLostNote(dataDir!, (err as Error).message);
                        log(`${(err as Error).message}: the records written since are gone.`);
                    }
                }
                // A PGlite that aborted cannot close; its files are as the abort left them.
                await db.close().catch(() => undefined);
                lock?.release();
            })()),
    };
}

/** Empties the directory when `fresh`; true when it holds no database yet (telling when a run lost the last one). */
function prepareDataDirectory(dataDir: string | undefined, options: EmbeddedPostgresOptions, log: (line: string) => void): boolean {
    let created = false;
    if (dataDir !== undefined) {
        if (options.fresh) {
            rmSync(dataDir, { recursive: true, force: true });
        }
        created = inspectDataDirectory(dataDir) !== "database";
        const lost = takeLostNote(dataDir);
        if (lost !== undefined && created) {
            log(`The data directory ${dataDir} vanished while a run served it (${lost}); its records are gone. Starting with a new, empty database there.`);
        }
    }
    return created;
}

/**
 * Throws when the directory is no longer the one opened: a directory deleted (or deleted and made again)
 * under the running database takes writes that no later start would find.
 */
function directoryCheck(dataDir: string | undefined): () => void {
    const identity = dataDir === undefined ? undefined : statSync(path.join(dataDir, "PG_VERSION"));
    return () => {
        if (dataDir === undefined || identity === undefined) {
            return;
        }
        let now;
        try {
            now = statSync(path.join(dataDir, "PG_VERSION"));
        } catch {
            throw new Error(`The data directory ${dataDir} was deleted while the database served it`);
        }
        if (now.ino !== identity.ino || now.dev !== identity.dev) {
            throw new Error(`The data directory ${dataDir} was replaced while the database served it`);
        }
    };
}

/** The socket server (not yet listening) whose clients take turns on `db`; a failure refuses every request after it. */
function serve(
    db: PGlite,
    dataDir: string | undefined,
    options: EmbeddedPostgresOptions,
    log: (line: string) => void,
    check: () => void,
): { server: net.Server; handlers: Map<number, PGLiteSocketHandler>; queue: TurnQueue } {
    const handlers = new Map<number, PGLiteSocketHandler>();
    const onFailure = (err: Error) => {
        const message =
            `${err.name === "RuntimeError" ? `The embedded database failed while serving${dataDir ? ` from ${dataDir}` : ""} (${err.message})` : err.message}: ` +
            "every database request is refused from now on, so that nothing is acknowledged that is not kept. Stop this run (Ctrl-C) and start again.";
        if (dataDir !== undefined) {
            writeLostNote(dataDir, err.message);
        }
        (options.onLost ?? log)(message);
        server.close();
        for (const handler of handlers.values()) {
            void handler.detach(true);
        }
    };
    const queue = new TurnQueue(db, options.turnTimeoutMs ?? 10_000, (id) => void handlers.get(id)?.detach(true), check, onFailure);
    const server = net.createServer((socket) => {
        if (queue.failed) {
            socket.destroy();
            return;
        }
        // The handler's queue option is typed with pglite-socket's own (unexported) queue class.
        const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as PGLiteSocketHandlerOptions["queryQueue"], closeOnDetach: true });
        handlers.set(handler.handlerId, handler);
        const forget = () => handlers.delete(handler.handlerId);
        handler.addEventListener("close", forget);
        handler.addEventListener("error", forget);
        handler.attach(socket).catch(() => socket.destroy());
    });
    return { server, handlers, queue };
}

/**
 * PGlite on `dataDir` (or in memory). PostgreSQL's own words go to a buffer, not the console: when the
 * directory cannot be opened, PGlite throws only `Aborted()` or "failed to initialize", and those words
 * say why.
 *
 * Durability: PGlite's defaults, written out. PostgreSQL runs with `synchronous_commit=on`, so a commit
 * returns only after its WAL record was written (`write()`) to the data directory's files, which are
 * plain files in the host's file system (PGlite's NODEFS); a killed process (SIGKILL, a crash) loses no
 * acknowledged commit, and the next start replays the WAL. PGlite starts PostgreSQL with `-F` (fsync
 * off) and its NODEFS has no fsync, so a power loss or an operating-system crash may lose the last
 * commits. `relaxedDurability` stays false (it only lets PGlite return before syncing a browser's
 * IndexedDB/OPFS copy; NODEFS writes in place).
 */
async function openPGlite(dataDir: string | undefined): Promise<PGlite> {
    const said: string[] = [];
    const keep = (text: string) => {
        said.push(text);
        said.splice(0, Math.max(0, said.length - 20));
        return true;
    };
    try {
        return await PGlite.create({
            ...(dataDir ? { dataDir } : {}),
            relaxedDurability: false,
            startParams: [...PGlite.defaultStartParams, "-c", "synchronous_commit=on"],
            onStderr: keep,
            onStdout: keep,
        } as ConstructorParameters<typeof PGlite>[0]);
    } catch (err) {
        if (dataDir === undefined) {
            throw err;
        }
        const why = said
            .filter((line) => /\b(PANIC|FATAL|ERROR|DETAIL|HINT):/.test(line))
            .map((line) => line.replace(/^.*?\b(PANIC|FATAL|ERROR|DETAIL|HINT):\s*/, "$1: "));
        throw new DataDirectoryError(
            `The data directory ${dataDir} cannot be opened: it is damaged. PostgreSQL says: ` +
                `${why.length > 0 ? why.join(" ") : (err as Error).message}. ${keepACopy(dataDir)}`,
        );
    }
}
