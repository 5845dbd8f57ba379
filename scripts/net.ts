/**
 * The loopback helpers the local run, the tests and the benchmark share: one way to find a free port and
 * one way to wait for a health check.
 */
import * as net from "node:net";

/** A port nothing listens on now (the kernel picks it). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** A loopback port held open until the service that will listen on it is about to start. */
export interface PortReservation {
    readonly port: number;
    /** Stops holding the port; once. */
    release(): Promise<void>;
}

/**
 * Holds `port` (0: one the kernel picks) on `host` by listening on it, so that nothing else takes it
 * between the choice and the service's own `listen`; or throws a one-line error when it is in use.
 * Anything that connects meanwhile is hung up on.
 */
export function reservePort(port = 0, host = "127.0.0.1"): Promise<PortReservation> {
    return new Promise((resolve, reject) => {
        const server = net.createServer((socket) => socket.destroy());
        server.unref();
        server.once("error", (err: NodeJS.ErrnoException) => {
            reject(
                err.code === "EADDRINUSE"
                    ? Object.assign(
                          new Error(
                              `Port ${port} on ${host} is in use by another program; choose another (e.g. PORT=${port === 65535 ? port - 1 : port + 1}), or stop that program`,
                          ),
                          { code: err.code },
                      )
                    : err,
            );
        });
        server.listen({ port, host, exclusive: true }, () => {
            let released: Promise<void> | undefined;
            resolve({
                port: (server.address() as net.AddressInfo).port,
                release: () => (released ??= new Promise<void>((r) => server.close(() => r()))),
            });
        });
    });
}

export interface WaitHealthyOptions {
    /** Give up after this long. @default 30000 */
    timeoutMs?: number;
    /** Called before each attempt; throwing stops the wait (e.g. the process already exited). */
    alive?: () => void;
    /** Request headers, e.g. credentials for a route that requires them. */
    headers?: Record<string, string>;
}

/** Resolves once `url` answers 2xx; throws after the timeout, naming the URL. */
export async function waitHealthy(url: string, options: WaitHealthyOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        options.alive?.();
        try {
            if ((await fetch(url, { headers: options.headers, signal: AbortSignal.timeout(1000) })).ok) {
                return;
            }
        } catch {
            // Not listening yet.
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`);
}
