/** HTTP settings and graceful shutdown shared by every service, the gateway included; no framework here. */
import type * as http from "node:http";
import type { Socket } from "node:net";

/**
 * Milliseconds a client connection may stay idle. Longer than the ALB's and Service Connect's idle
 * timeouts (60 s), so that the proxy in front always closes first and never sends a request into a
 * closing socket.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Plain decimal digits only: `Number()` alone would also take `0x1F90`, `1e3`, `0b1` and surrounding
 * spaces, so that a typo could start a service on a port or with a timeout nobody wrote.
 */
const DECIMAL = /^[0-9]{1,15}$/;

/** The listening port from `PORT` (default 8080), or an error that says what is allowed. */
export function portFromEnv(env: NodeJS.ProcessEnv = process.env): number {
    const text = env.PORT ?? "8080";
    const port = Number(text);
    if (!/^[0-9]{1,5}$/.test(text) || port > 65535) {
        throw new Error(`PORT is ${JSON.stringify(text)}; allowed: a whole number from 0 to 65535`);
    }
    return port;
}

/** A whole number of at least `min` from the variable `name` (else `fallback`), or an error naming it. */
export function wholeNumberFromEnv(name: string, fallback: number, min: number, env: NodeJS.ProcessEnv = process.env): number {
    const text = env[name] ?? String(fallback);
    const value = Number(text);
    if (!DECIMAL.test(text) || value < min) {
        throw new Error(`${name} is ${JSON.stringify(text)}; allowed: a whole number of at least ${min}, in decimal digits`);
    }
    return value;
}

/** What shutdown logs to; pino loggers and Fastify's `app.log` fit. */
export interface ShutdownLog {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
}

/**
 * How long in-flight requests may run after SIGTERM before their connections are cut and the process
 * exits 0. ECS sends SIGKILL the container's `stopTimeout` after SIGTERM (30 s in Berth's task
 * definitions; https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html and
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html); this leaves
 * room for logs to flush. It also outlasts the gateway's default upstream timeout (10 s), so a request
 * waiting on a slow backend still gets its answer. (`docker stop` waits 10 s by default: only a request
 * that really runs longer than that meets its SIGKILL.)
 */
export const SHUTDOWN_TIMEOUT_MS = 20_000;

/**
 * After SIGTERM, a connection that carried a request within this many milliseconds is left open for its
 * client's next request, which is answered with `Connection: close`. Closing it at once would race a
 * request the client may be writing at that instant (the client would see a reset); connections idle for
 * longer, and clients that never finished a request, are closed at once.
 */
export const REUSE_GRACE_MS = 1000;

/** How often shutdown looks for connections it may close. */
const SWEEP_MS = 50;

interface Connection {
    /** When the connection opened, or last started or finished a request. */
    lastActive: number;
    current?: { req: http.IncomingMessage; res: http.ServerResponse };
}

/**
 * Follows a node:http server's connections and the request each is serving, so that shutdown can tell an
 * in-flight request (its whole request received, the answer being worked on) from an idle connection, a
 * client that never finished its request head, and a stalled upload.
 */
export class ConnectionTracker {
    private readonly connections = new Map<Socket, Connection>();
    private sweeper?: NodeJS.Timeout;

    constructor(private readonly server: http.Server) {
        server.on("connection", (socket: Socket) => {
            this.connections.set(socket, { lastActive: Date.now() });
            socket.once("close", () => this.connections.delete(socket));
        });
        const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
            const conn = this.connections.get(req.socket);
            if (!conn) {
                return;
            }
            conn.current = { req, res };
            conn.lastActive = Date.now();
            res.once("close", () => {
                if (conn.current?.res === res) {
                    conn.current = undefined;
                }
                conn.lastActive = Date.now();
            });
        };
        server.on("request", onRequest);
        server.on("checkContinue", onRequest);
        server.on("checkExpectation", onRequest);
    }

    /** Connections open now. */
    get size(): number {
        return this.connections.size;
    }

    /**
     * Starts closing every connection that holds no in-flight request, now and until the server is
     * closed. node:http's `server.close()` closes idle connections itself; here that goes through the
     * same rules (see `REUSE_GRACE_MS`).
     */
    drain(): void {
        if (this.sweeper) {
            return;
        }
        this.server.closeIdleConnections = () => this.sweep();
        this.sweep();
        this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweeper.unref();
        this.server.once("close", () => clearInterval(this.sweeper));
    }

    /** Cuts every connection, in-flight requests included. */
    closeAll(): void {
        clearInterval(this.sweeper);
        for (const socket of this.connections.keys()) {
            socket.destroy();
        }
    }

    private sweep(now = Date.now()): void {
        for (const [socket, conn] of this.connections) {
            if (conn.current) {
                const { req, res } = conn.current;
                // Still receiving the body, nothing answered yet: a stalled or slow upload, not in flight.
                if (!req.complete && !res.headersSent) {
                    socket.destroy();
                }
            } else if (now - conn.lastActive >= REUSE_GRACE_MS) {
                socket.destroy();
            }
        }
    }
}

export interface ShutdownOptions {
    /** Stops accepting and resolves once every connection is closed (e.g. Fastify's `app.close()`). */
    close: () => Promise<void>;
    /** The server's connections, so that idle and stalled ones close at once. */
    tracker?: ConnectionTracker;
    log: ShutdownLog;
    /** @default SHUTDOWN_TIMEOUT_MS */
    timeoutMs?: number;
}

/**
 * Graceful shutdown: closes idle connections and those of clients that never finished their request at
 * once, lets in-flight requests finish (their answers carry `Connection: close`), and cuts what is left
 * after `timeoutMs`. Resolves "closed" or "deadline"; rejects when `close` fails.
 */
export async function shutDown(options: ShutdownOptions): Promise<"closed" | "deadline"> {
    const timeoutMs = options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS;
    options.tracker?.drain();
    const closed = options.close();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), timeoutMs);
    });
    try {
        const outcome = await Promise.race([closed.then(() => "closed" as const), deadline]);
        if (outcome === "deadline") {
            options.log.warn({ timeoutMs, open: options.tracker?.size }, "in-flight requests outlasted the shutdown deadline; cutting them");
            options.tracker?.closeAll();
            // Once every connection is cut, closing completes at once; do not wait on it past a second.
            await Promise.race([closed.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
        }
        return outcome;
    } finally {
        clearTimeout(timer);
    }
}

/**
 * On SIGTERM or SIGINT: `shutDown`, then exit 0 (also when the deadline cut requests: that is the
 * designed outcome, and ECS would otherwise SIGKILL). Exits 1 only when closing fails.
 *
 * A signal that arrives while shutting down is absorbed: Ctrl-C reaches every process of the terminal's
 * process group and `npm start` then sends its own SIGTERM, and a supervisor may signal the whole group
 * and then the process; the process's default action on that second signal would cut the in-flight
 * requests whose answers shutdown waits for.
 */
export function exitOnSignals(options: ShutdownOptions): void {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals) => {
        if (closing) {
            options.log.info({ signal }, "already shutting down; signal ignored");
            return;
        }
        closing = true;
        options.log.info({ signal }, "shutting down: finishing in-flight requests");
        shutDown(options).then(
            () => process.exit(0),
            (err: unknown) => {
                options.log.error({ err }, "shutdown failed");
                process.exit(1);
            },
        );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
}
