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
