import pino from "pino";
import { exitOnSignals, portFromEnv, wholeNumberFromEnv } from "@berth/kit/http";
import { exitCodeFor } from "@berth/kit/listen";
import { serviceTracing, shutDownServiceTracing } from "@berth/kit/tracing";
import { authFromEnv } from "./auth";
import { DEFAULT_TIMEOUT_MS, Gateway } from "./gateway";
import { parseRoutes } from "./routes";

function booleanFromEnv(name: string): boolean {
    const text = process.env[name] ?? "false";
    if (text !== "true" && text !== "false") {
        throw new Error(`${name} is ${JSON.stringify(text)}; allowed: true, false`);
    }
    return text === "true";
}

async function main(): Promise<void> {
    const logger = pino({ level: process.env.LOG_LEVEL ?? "info", base: { service: "api" } });
    const routes = parseRoutes(process.env.ROUTES);
    const gateway = new Gateway({
        routes,
        timeoutMs: wholeNumberFromEnv("TIMEOUT_MS", DEFAULT_TIMEOUT_MS, 1),
        connections: wholeNumberFromEnv("UPSTREAM_CONNECTIONS", 128, 1),
        trustProxy: booleanFromEnv("TRUST_PROXY"),
        auth: await authFromEnv(process.env, routes),
        commit: process.env.BERTH_COMMIT,
        logger,
        // The gateway hands each span's context on explicitly; it needs no context manager.
        tracing: serviceTracing({ name: "api", contextManager: false }),
    });
    const port = portFromEnv();
    const host = process.env.HOST ?? "0.0.0.0";
    await new Promise<void>((resolve, reject) => {
        gateway.server.once("error", reject);
        gateway.server.listen(port, host, () => {
            gateway.server.off("error", reject);
            logger.info({ address: gateway.server.address(), routes }, "listening");
            resolve();
        });
    });
    // The last requests' spans leave after the server has stopped, before the process exits.
    exitOnSignals({ close: () => gateway.close().then(shutDownServiceTracing), tracker: gateway.tracker, log: logger });
}

main().catch((err: Error) => {
    console.error(err.message);
    process.exit(exitCodeFor(err));
});
