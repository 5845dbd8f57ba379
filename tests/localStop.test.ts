/**
 * A stop never leaves a write unanswered: SIGTERM during a stream of POSTs, to the whole run (a terminal
 * closing, a supervisor), to the gateway alone and to the users service alone (as ECS stops a task it
 * replaces). Every request the system executes gets its answer, and a request that gets no answer (or an
 * error answer) was not executed. Each case leaves the data directory to the next run, which checks it.
 */
import * as assert from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../scripts/net";
import { killGroup, ledgerProblems, postStream, servicePid, startRun, storedUsers, type Outcome, type StartedRun } from "./support/localRun";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SIGTERM to the local run during a stream of POSTs", function () {
    this.timeout(240_000);
    let root: string;
    let dataDir: string;
    let port: string;
    let run: StartedRun | undefined;
    before(async () => {
        root = mkdtempSync(path.join(tmpdir(), "berth-localstop-"));
        dataDir = path.join(root, "pgdata");
        port = String(await freePort());
    });
    after(async () => {
        if (run) {
            killGroup(run, "SIGTERM");
            await run.exited;
        }
        rmSync(root, { recursive: true, force: true });
    });

    /**
     * Streams POSTs, signals `target` once writes flow, waits for the run to end, then starts the next run
     * on the same data directory and compares what it holds with what the clients were told.
     */
    async function signalDuringStream(tag: string, target: (run: StartedRun) => void): Promise<{ outcomes: Outcome[]; code: number | string }> {
        run ??= await startRun(["--data-dir", dataDir], { PORT: port });
        const current = run;
        const stream = postStream(current.url, tag, 6);
        while (stream.acknowledged() < 30) {
            await sleep(10);
        }
        target(current);
        const code = await current.exited;
        const outcomes = await stream.stop();
        run = await startRun(["--data-dir", dataDir], { PORT: port });
        const problems = ledgerProblems(outcomes, await storedUsers(run.databasePort, tag), true);
        assert.deepStrictEqual(
            problems,
            [],
            `${problems.length} of ${outcomes.length} requests broke the rule; the stopped run said:\n${current.output().slice(-3000)}`,
        );
        assert.ok(outcomes.some((o) => o.status === 201));
        return { outcomes, code };
    }

    it("to the whole process group (twice, as Ctrl-C and then npm start's own signal): answers what it executes, exits 0", async () => {
        const { code } = await signalDuringStream("group", (r) => {
            killGroup(r, "SIGTERM");
            setTimeout(() => killGroup(r, "SIGTERM"), 30);
        });
        assert.strictEqual(code, 0);
    });

    it("to the gateway alone: answers what it executes, with Connection: close, then the run stops", async () => {
        const { outcomes, code } = await signalDuringStream("gateway", (r) => process.kill(servicePid(r, "api"), "SIGTERM"));
        assert.strictEqual(code, 1, "the run goes on without its gateway");
        // Requests on open connections are served during the shutdown, and their clients told to hang up.
        assert.ok(
            outcomes.some((o) => o.status === 201 && o.connection === "close"),
            "no answer carried Connection: close",
        );
    });

    it("to the users service alone: what reaches it is answered, what does not gets a JSON 502 and was not executed", async () => {
        const { outcomes } = await signalDuringStream("users", (r) => process.kill(servicePid(r, "users"), "SIGTERM"));
        for (const o of outcomes.filter((o) => o.status !== undefined && o.status !== 201)) {
            assert.ok([502, 503].includes(o.status!), `${o.email}: ${o.status} ${o.body}`);
            assert.match(JSON.parse(o.body!).error.code, /^(bad_gateway|unavailable)$/);
        }
    });
});
