import { Database } from "@berth/kit/database";
import { runRetention } from "./retention";

// The stack gives the job the database's variables as it gives them to the services (catalog/jobs.ts, `database`).
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: Date.now(), name: "retention", ...line })}\n`);
runRetention(Database.fromEnv("retention"), print).then(
    (code) => {
        process.exitCode = code;
    },
    (err: unknown) => {
        print({ level: 50, msg: (err as Error).message });
        process.exitCode = 1;
    },
);
