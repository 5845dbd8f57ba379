/**
 * A rolling deployment of a backend under load, through the gateway, on this machine: two instances of
 * `users` behind the gateway (as Service Connect balances over a service's tasks), each replaced in turn
 * (SIGTERM, exit, a new process on the same address) while clients keep sending requests. No client may
 * see a failed request.
 */
import * as assert from "node:assert";
import { PassThrough } from "node:stream";
import { startLocal, type LocalSystem } from "../scripts/local";
import { ledgerProblems, postStream, storedUsers } from "./support/localRun";

describe("a rolling restart of a backend under load", function () {
    this.timeout(120_000);
    let system: LocalSystem;
    let logs = "";

    before(async () => {
        const output = new PassThrough();
        output.on("data", (chunk: Buffer) => {
            logs += chunk.toString();
        });
        // The embedded database in memory, so that the test neither reads nor changes .berth/pgdata.
        system = await startLocal({ port: 0, instances: { users: 2 }, output, env: { LOG_LEVEL: "warn" }, database: {} });
    });
    after(async () => {
        await system?.stop();
    });

    it("drops no request while each instance is replaced", async () => {
        const paths = ["/users", "/users/1", "/users/2"];
        const failures: string[] = [];
        let answered = 0;
        let stop = false;
        const client = async (n: number) => {
            for (let i = n; !stop; i++) {
                const path = paths[i % paths.length];
                try {
                    const res = await fetch(`${system.url}${path}`, { signal: AbortSignal.timeout(10_000) });
                    await res.arrayBuffer();
                    if (res.status === 200) {
                        answered++;
                    } else {
                        failures.push(`${path}: ${res.status}`);
                    }
                } catch (err) {
                    failures.push(`${path}: ${(err as Error).message} ${((err as Error).cause as Error | undefined)?.message ?? ""}`);
                }
            }
        };
        const load = Array.from({ length: 16 }, (_, n) => client(n));
        const before = system.services.filter((s) => s.service.name === "users").map((s) => s.process.pid);
        try {
            await new Promise((r) => setTimeout(r, 1000));
            const first = answered;
            await system.restart("users", 0);
            await new Promise((r) => setTimeout(r, 500));
            await system.restart("users", 1);
            await new Promise((r) => setTimeout(r, 1000));
            assert.ok(answered > first, "no request was answered during the restarts");
        } finally {
            stop = true;
            await Promise.all(load);
        }
        const after = system.services.filter((s) => s.service.name === "users").map((s) => s.process.pid);
        assert.ok(
            after.every((pid) => !before.includes(pid)),
            "both instances were replaced",
        );
        const retries = logs.split("\n").filter((l) => l.includes("retrying upstream request")).length;
        console.log(`      ${answered} requests answered, ${failures.length} failed, ${retries} retried by the gateway`);
        assert.deepStrictEqual(failures.slice(0, 10), [], `${failures.length} requests failed`);
    });

    it("answers every POST with its outcome: 201 and kept, or a JSON 502/503 for one that was not executed", async () => {
        // A POST is not retried once sent (it may have run); only one that never reached a backend is.
        const stream = postStream(system.url, "rolling", 8);
        await new Promise((r) => setTimeout(r, 500));
        await system.restart("users", 0);
        await new Promise((r) => setTimeout(r, 300));
        await system.restart("users", 1);
        await new Promise((r) => setTimeout(r, 500));
        const outcomes = await stream.stop();
        assert.deepStrictEqual(
            outcomes.filter((o) => o.status === undefined).map((o) => `${o.email}: ${o.error}`),
            [],
            "POSTs without an answer",
        );
        for (const o of outcomes.filter((o) => o.status !== 201)) {
            assert.ok([502, 503].includes(o.status!), `${o.email}: ${o.status} ${o.body}`);
            assert.match(JSON.parse(o.body!).error.code, /^(bad_gateway|unavailable)$/);
        }
        const databasePort = Number(/on 127\.0\.0\.1:(\d+)$/.exec(system.database ?? "")?.[1]);
        assert.deepStrictEqual(ledgerProblems(outcomes, await storedUsers(databasePort, "rolling"), true), []);
        console.log(`      ${stream.acknowledged()} of ${outcomes.length} POSTs created, the others answered 502/503`);
    });
});
