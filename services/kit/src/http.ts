/** HTTP settings shared by every service, the gateway included; no framework here. */

/**
 * Milliseconds a client connection may stay idle. Longer than the ALB's and Service Connect's idle
 * timeouts (60 s), so that the proxy in front always closes first and never sends a request into a
 * closing socket.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** The listening port from `PORT` (default 8080), or an error that says what is allowed. */
export function portFromEnv(env: NodeJS.ProcessEnv = process.env): number {
    const text = env.PORT ?? "8080";
    const port = Number(text);
    if (text.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`PORT is ${JSON.stringify(text)}; allowed: a whole number from 0 to 65535`);
    }
    return port;
}

/** What `exitOnSignals` logs to; pino loggers and Fastify's `app.log` fit. */
export interface ShutdownLog {
    info(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
}

/**
 * Below ECS's 30 s stop timeout, so that the process exits by itself rather than being killed.
 */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * On SIGTERM or SIGINT: logs, runs `close` (stop accepting, let in-flight requests finish) and exits 0, or 1
 * when closing fails or outlasts `timeoutMs`. Rolling deployments thus drop no request.
 */
export function exitOnSignals(close: () => Promise<void>, log: ShutdownLog, timeoutMs = SHUTDOWN_TIMEOUT_MS): void {
    let closing = false;
    const shutdown = (signal: NodeJS.Signals) => {
        if (closing) {
            return;
        }
        closing = true;
        log.info({ signal }, "shutting down: finishing in-flight requests");
        setTimeout(() => {
            log.error({ timeoutMs }, "in-flight requests outlasted the shutdown timeout");
            process.exit(1);
        }, timeoutMs).unref();
        close().then(
            () => process.exit(0),
            (err: unknown) => {
                log.error({ err }, "shutdown failed");
                process.exit(1);
            },
        );
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
}
