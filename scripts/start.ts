/**
 * `npm start`: the whole system on this machine. The gateway listens on PORT (default 8080).
 */
import { portFromEnv } from "../services/kit/src/http";
import { localDatabaseChoice, startLocal } from "./local";

async function main(): Promise<void> {
    const flags = process.argv.slice(2);
    const unknown = flags.filter((f) => f !== "--fresh");
    if (unknown.length > 0) {
        throw new Error(`Unknown option ${unknown.join(" ")}; allowed: --fresh (start the embedded database empty)`);
    }
    const system = await startLocal({ port: portFromEnv(), database: localDatabaseChoice(process.env, flags.includes("--fresh")) });
    console.log("\nBerth runs locally:");
    for (const s of system.services) {
        console.log(`  ${s.service.name.padEnd(10)} ${s.url}${s.service.routes.length ? `  (${s.service.routes.join(", ")} through the gateway)` : ""}`);
    }
    if (system.database) {
        console.log(`  database   ${system.database}`);
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
