import pino from "pino";
import { portFromEnv } from "../../kit/src/http";
import { Gateway } from "./gateway";
import { parseRoutes } from "./routes";

/** Reads `TIMEOUT_MS`: how long a backend may take before the gateway answers 504. */
function timeoutFromEnv(): number {
    const text = process.env.TIMEOUT_MS ?? "10000";
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
        throw new Error(`TIMEOUT_MS is ${JSON.stringify(text)}; allowed: a whole number of milliseconds above 0`);
    }
    return value;
}

function main(): void {
    const logger = pino({ level: process.env.LOG_LEVEL ?? "info", base: { service: "api" } });
    const routes = parseRoutes(process.env.ROUTES);
    const gateway = new Gateway({ routes, timeoutMs: timeoutFromEnv(), logger });
    const port = portFromEnv();
    const host = process.env.HOST ?? "0.0.0.0";
    gateway.server.listen(port, host, () => {
        logger.info({ address: gateway.server.address(), routes }, "listening");
    });
    let closing = false;
    const shutdown = () => {
        if (closing) {
            return;
        }
        closing = true;
        logger.info("shutting down: finishing in-flight requests");
        // Below ECS's 30 s stop timeout, so that the process exits by itself.
        setTimeout(() => process.exit(1), 25_000).unref();
        gateway.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
}

try {
    main();
} catch (err) {
    console.error((err as Error).message);
    process.exit(1);
}
