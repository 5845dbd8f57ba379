/**
 * `npm start`: the whole system on this machine. The gateway listens on PORT (default 8080).
 */
import { portFromEnv } from "../services/kit/src/http";
import { tracingDestination } from "../services/kit/src/tracing";
import { localDatabaseChoice, startLocal } from "./local";

async function main(): Promise<void> {
    const flags = process.argv.slice(2);
    const unknown = flags.filter((f) => f !== "--fresh");
    if (unknown.length > 0) {
        throw new Error(`Unknown option ${unknown.join(" ")}; allowed: --fresh (start the embedded database empty)`);
    }
    // Checked here once, so that a wrong OTEL_* value is one message rather than every service exiting.
    const traces = tracingDestination(process.env);
    const system = await startLocal({ port: portFromEnv(), database: localDatabaseChoice(process.env, flags.includes("--fresh")) });
    console.log("\nBerth runs locally:");
    for (const s of system.services) {
        console.log(`  ${s.service.name.padEnd(10)} ${s.url}${s.service.routes.length ? `  (${s.service.routes.join(", ")} through the gateway)` : ""}`);
    }
    if (system.database) {
        console.log(`  database   ${system.database}`);
    }
    console.log(`  traces     ${traces === undefined
        ? "off (set OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER=console)"
        : traces.kind === "console" ? "printed by each service (OTEL_TRACES_EXPORTER=console)" : `OTLP ${traces.protocol} to ${traces.url}`}`);
    const guarded = system.services.filter((s) => s.service.auth !== "none" && s.index === 0);
    for (const s of guarded) {
        console.log(`  ${s.service.routes.join(", ")} require ${s.service.auth === "jwt" ? "a JWT" : "an API key"}`);
    }
    if (system.credentials) {
        // Made up for this run only; printed so that the guarded routes can be tried at once.
        console.log("\nDevelopment credentials (this run only):");
        console.log(`  JWT (12 h):  -H 'authorization: Bearer ${system.credentials.token}'`);
        console.log(`  API key:     -H 'x-api-key: ${system.credentials.apiKey}'`);
    }
    console.log(`\nTry: curl ${system.url}/users   (Ctrl-C stops everything)\n`);

    let stopping = false;
    const stop = () => {
        if (stopping) {
            return;
        }
        stopping = true;
        console.log("\nStopping...");
        system.stop().then(() => process.exit(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    for (const s of system.services) {
        s.process.once("exit", (code, signal) => {
            if (!stopping) {
                console.error(`${s.service.name} exited (${code ?? signal}); stopping the others`);
                stopping = true;
                system.stop().then(() => process.exit(1));
            }
        });
    }
}

main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
});
