/**
 * The jobs in the local run (`npm start`): on demand, on their schedule, with their timeout and retries, and
 * `berth job run <job> --local` against a real local jobs endpoint.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import type { CatalogJob } from "../catalog";
import type { Deps } from "../cli/context";
import { run as berth } from "../cli/main";
import { startLocalJobs, type LocalJobs } from "../scripts/localJobs";
import { LOCAL_RUN_FILE } from "../scripts/localLog";
import { ROOT } from "./support/pulumi";

/** A job whose main prints a line, then exits with $EXIT_CODE, or hangs with $HANG. */
const MAIN = `console.log("attempt " + process.pid);
if (process.env.HANG) { setInterval(() => {}, 1000); } else { process.exitCode = Number(process.env.EXIT_CODE ?? 0); }
`;

function fakeJob(over: Partial<CatalogJob> = {}): CatalogJob {
    return {
        name: "fake",
        kind: "job",
        schedule: "cron(0 3 * * ? *)",
        timeoutSeconds: 60,
        retries: 0,
        cpu: 256,
        memory: 512,
        database: false,
        platform: "linux/amd64",
        user: "10001:10001",
        directory: "",
        build: { context: ".", dockerfile: "" },
        ...over,
    };
}

describe("jobs in the local run", function () {
    this.timeout(60_000);
    // Under the repository, so that the child finds ts-node as `npm start`'s services do.
    let root: string;
    let running: LocalJobs | undefined;
    before(() => {
        fs.mkdirSync(path.join(ROOT, ".berth"), { recursive: true });
        root = fs.mkdtempSync(path.join(ROOT, ".berth", "jobs-test-"));
        fs.mkdirSync(path.join(root, "fake", "src"), { recursive: true });
        fs.writeFileSync(path.join(root, "fake", "src", "main.ts"), MAIN);
    });
    afterEach(async () => {
        await running?.stop();
        running = undefined;
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    async function start(job: CatalogJob, env: Record<string, string> = {}, now?: () => number) {
        const lines: string[] = [];
        running = await startLocalJobs({
            jobs: [{ ...job, directory: "fake" }],
            root,
            env: () => ({ ...process.env, ...env }),
            output: new PassThrough().resume(),
            logSink: (name, line) => lines.push(`${name}: ${line}`),
            retryScale: 0.01,
            now,
        });
        return { jobs: running, lines };
    }

    it("runs a job on demand and reports success, its lines in the run's log", async () => {
        const { jobs, lines } = await start(fakeJob());
        const outcome = await jobs.run("fake");
        assert.deepStrictEqual([outcome.job, outcome.status], ["fake", "SUCCEEDED"]);
        assert.strictEqual(lines.filter((l) => /^fake: attempt \d+$/.test(l)).length, 1);
    });

    it("retries a failing job as many times as declared, then reports the failure", async () => {
        const { jobs, lines } = await start(fakeJob({ retries: 2 }), { EXIT_CODE: "3" });
        const outcome = await jobs.run("fake");
        assert.deepStrictEqual([outcome.status, outcome.error], ["FAILED", "exit code 3 after 3 attempts"]);
        assert.strictEqual(lines.filter((l) => l.startsWith("fake: attempt")).length, 3);
    });

    it("stops a job past its timeout and reports it timed out", async () => {
        const { jobs } = await start(fakeJob({ timeoutSeconds: 1, retries: 3 }), { HANG: "1" });
        const outcome = await jobs.run("fake");
        assert.deepStrictEqual([outcome.status, outcome.error], ["TIMED_OUT", "past its timeout of 1 s"]);
    });

    it("plans each job's next run from its expression, and leaves to AWS what only AWS computes", async () => {
        const base = Date.parse("2026-12-03T16:40:12Z");
        const { jobs } = await start(fakeJob({ schedule: "cron(0 3 * * ? *)" }), {}, () => base);
        assert.strictEqual(jobs.next.get("fake")?.toISOString(), "2026-12-04T03:00:00.000Z");
        await jobs.stop();
        const last = await start(fakeJob({ schedule: "cron(0 0 L * ? *)" }), {}, () => base);
        assert.strictEqual(last.jobs.next.get("fake"), undefined);
    });

    it("runs a job when its schedule comes, then plans the next run", async () => {
        // A clock a few hundred milliseconds before a minute starts: `cron(* * * * ? *)` fires then.
        const skew = 60_000 - (Date.now() % 60_000) - 400;
        const { jobs, lines } = await start(fakeJob({ schedule: "cron(* * * * ? *)" }), {}, () => Date.now() + skew);
        const first = jobs.next.get("fake")!.getTime();
        const deadline = Date.now() + 20_000;
        while (!lines.some((l) => l.startsWith("fake: attempt")) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(
            lines.some((l) => l.startsWith("fake: attempt")),
            "the job did not run on its schedule",
        );
        while (jobs.next.get("fake")!.getTime() === first && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.strictEqual(jobs.next.get("fake")!.getTime(), first + 60_000);
    });

    it("answers berth job run --local with the outcome and its exit code, and names the jobs for an unknown one", async () => {
        const { jobs } = await start(fakeJob(), { EXIT_CODE: "1" });
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "berth-jobs-cwd-"));
        fs.mkdirSync(path.join(cwd, ".berth"));
        fs.writeFileSync(
            path.join(cwd, LOCAL_RUN_FILE),
            JSON.stringify({ pid: process.pid, url: "http://127.0.0.1:1", services: [], jobs: { url: jobs.url, names: jobs.names } }),
        );
        const out: string[] = [];
        const err: string[] = [];
        const deps = {
            term: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false, progress: () => {} },
            interrupted: new AbortController().signal,
            cwd,
            fetch,
        } as unknown as Deps;
        assert.strictEqual(await berth(["job", "run", "fake", "--local"], deps), 1);
        assert.match(out[0], /^job fake failed after \d+s$/);
        assert.strictEqual(out[1], "  exit code 1");
        // Its lines are in the run's log, for berth logs <job> --local.
        fs.writeFileSync(path.join(cwd, ".berth", "local.log"), `${JSON.stringify({ t: Date.now(), service: "fake", line: "attempt 1" })}\n`);
        const logged = { ...deps, now: () => Date.now(), sleep: async () => {} } as Deps;
        assert.strictEqual(await berth(["logs", "fake", "--local"], logged), 0, err.join("\n"));
        assert.ok(
            out.some((l) => l.includes("attempt 1")),
            out.join("\n"),
        );
        assert.strictEqual(await berth(["job", "run", "nightly", "--local"], deps), 2);
        assert.deepStrictEqual(err, ['berth: job "nightly" not found in the local run; jobs: fake']);
        const refused = await fetch(`${jobs.url}/jobs/fake/run`);
        assert.deepStrictEqual([refused.status, refused.headers.get("allow")], [405, "POST"]);
        const unknown = await fetch(`${jobs.url}/jobs/nightly/run`, { method: "POST" });
        assert.deepStrictEqual([unknown.status, ((await unknown.json()) as { error: string }).error], [404, 'job "nightly" not found; jobs: fake']);
        fs.rmSync(cwd, { recursive: true, force: true });
    });
});
