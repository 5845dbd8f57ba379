/**
 * `npm start`: the whole system on this machine. The gateway listens on PORT (default 8080).
 */
import { portFromEnv } from "@berth/kit/http";
import { tracingDestination } from "@berth/kit/tracing";
import * as fs from "node:fs";
import * as path from "node:path";
import { localDatabaseChoice, startLocal, type LocalSystem } from "./local";
import { LOCAL_LOG_FILE, LOCAL_RUN_FILE, localLogWriter, localRunOf } from "./localLog";

const ROOT = path.resolve(__dirname, "..");

const USAGE = "allowed: --fresh (empty the embedded database first), --data-dir <directory> (the embedded database's directory; default .berth/pgdata)";

/** The command line's options, or an error naming the one that is wrong. */
function parseFlags(args: readonly string[]): { fresh: boolean; dataDir?: string } {
    let fresh = false;
    let dataDir: string | undefined;
    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (arg === "--fresh") {
            fresh = true;
        } else if (arg === "--data-dir" || arg.startsWith("--data-dir=")) {
            const value = arg === "--data-dir" ? args[++i] : arg.slice("--data-dir=".length);
            if (value === undefined || value === "" || value.startsWith("--")) {
                throw new Error(`--data-dir needs a directory; ${USAGE}`);
            }
            dataDir = value;
        } else {
            throw new Error(`Unknown option ${arg}; ${USAGE}`);
        }
    }
    return { fresh, dataDir };
}

async function main(): Promise<void> {
    const flags = parseFlags(process.argv.slice(2));
    // Everything that can refuse the start is checked before the data directory is opened: the options,
    // PORT and the OTEL_* settings here, the gateway's port and a server of your own in `startLocal`.
    const port = portFromEnv();
    // Checked here once, so that a wrong OTEL_* value is one message rather than every service exiting.
    const traces = tracingDestination(process.env);
    const database = localDatabaseChoice(process.env, flags.fresh, flags.dataDir);

    // Registered before the start, so that a signal during it stops what has started (and frees the data
    // directory) instead of killing this process and leaving the services behind.
    let system: LocalSystem | undefined;
    let stopping = false;
    const stop = (code: number) => {
        if (stopping) {
            return;
        }
        stopping = true;
        console.log("\nStopping...");
        fs.rmSync(path.join(ROOT, LOCAL_RUN_FILE), { force: true });
        void system?.stop().then(() => process.exit(code));
    };
    process.on("SIGINT", () => stop(0));
    process.on("SIGTERM", () => stop(0));
    // For `berth status --local` and `berth logs --local`.
    const log = localLogWriter(path.join(ROOT, LOCAL_LOG_FILE));
    system = await startLocal({ port, database, logSink: (service, line) => log.write(service, line) });
    if (stopping) {
        await system.stop();
        process.exit(0);
    }
    fs.writeFileSync(path.join(ROOT, LOCAL_RUN_FILE), `${JSON.stringify(localRunOf(process.pid, system), null, 2)}\n`);
    console.log("\nBerth runs locally:");
    for (const s of system.services) {
        console.log(`  ${s.service.name.padEnd(10)} ${s.url}${s.service.routes.length ? `  (${s.service.routes.join(", ")} through the gateway)` : ""}`);
    }
    if (system.database) {
        console.log(`  database   ${system.database}`);
    }
    for (const name of system.jobs?.names ?? []) {
        const next = system.jobs!.next.get(name);
        console.log(`  ${name.padEnd(10)} job, next run ${next ? next.toISOString() : "on demand only"} (now: npx berth job run ${name} --local)`);
    }
    if (system.broker) {
        console.log(`  messaging  ${system.broker.url} (GET /queues/<worker> for a queue's depth, /queues/<worker>/dead-letters for its failures)`);
    }
    console.log(
        `  traces     ${
            traces === undefined
                ? "off (set OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER=console)"
                : traces.kind === "console"
                  ? "printed by each service (OTEL_TRACES_EXPORTER=console)"
                  : `OTLP ${traces.protocol} to ${traces.url}`
        }`,
    );
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

    for (const s of system.services) {
        s.process.once("exit", (code, signal) => {
            if (!stopping) {
                console.error(`${s.service.name} exited (${code ?? signal}); stopping the others`);
                stop(1);
            }
        });
    }
}

main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
});
