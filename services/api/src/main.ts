import pino from "pino";
import { exitOnSignals, portFromEnv } from "../../kit/src/http";
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
    exitOnSignals(() => gateway.close(), logger);
}

try {
    main();
} catch (err) {
    console.error((err as Error).message);
    process.exit(1);
}
