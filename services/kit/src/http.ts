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
