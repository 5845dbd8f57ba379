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
import { mkdirSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgresOptions {
    /**
     * Where PGlite keeps its files, so that data survives restarts.
     * @default in memory, gone when stopped
     */
    dataDir?: string;
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

    constructor(private readonly db: PGlite, private readonly turnTimeoutMs: number, private readonly onStuck: (handlerId: number) => void) {}

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
                const tail: number[] = [];
                let bytes = 0;
                try {
                    await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, {
                        onRawData: (data) => {
                            bytes += data.length;
                            tail.push(...data.subarray(Math.max(0, data.length - READY_FOR_QUERY_IDLE.length)));
                            tail.splice(0, Math.max(0, tail.length - READY_FOR_QUERY_IDLE.length));
                            item.onData(data);
                        },
                    }));
                    item.resolve(bytes);
                } catch (err) {
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

/** Starts PGlite and serves it on 127.0.0.1. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
    if (options.dataDir) {
        if (options.fresh) {
            rmSync(options.dataDir, { recursive: true, force: true });
        }
        mkdirSync(path.dirname(options.dataDir), { recursive: true });
    }
    const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
    const handlers = new Map<number, PGLiteSocketHandler>();
    const queue = new TurnQueue(db, options.turnTimeoutMs ?? 10_000, (id) => void handlers.get(id)?.detach(true));
    const server = net.createServer((socket) => {
        // The handler's queue option is typed with pglite-socket's own (unexported) queue class.
        const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as PGLiteSocketHandlerOptions["queryQueue"], closeOnDetach: true });
        handlers.set(handler.handlerId, handler);
        const forget = () => handlers.delete(handler.handlerId);
        handler.addEventListener("close", forget);
        handler.addEventListener("error", forget);
        handler.attach(socket).catch(() => socket.destroy());
    });
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
        stop: () => stopped ??= (async () => {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            await Promise.all([...handlers.values()].map((h) => h.detach(true)));
            await closed;
            await db.close();
        })(),
    };
}
