/**
 * `berth job run` against fakes of Step Functions (and once the real SFN client against a fake endpoint), as
 * tests/cli.test.ts does for the other commands.
 */
import * as assert from "assert";
import * as os from "os";
import { fakeJsonEndpoint } from "./support/awsEndpoint";
import { sdkApis } from "../cli/aws";
import { type AwsApis, type Deps, type StackView } from "../cli/context";
import { JOB_POLL_INTERVAL_MS } from "../cli/job";
import { run } from "../cli/main";
import { NoStackError } from "../cli/stack";

const MACHINE = "arn:aws:states:eu-west-1:111122223333:stateMachine:retention-run-1a2b3c4";
const OUTPUTS = {
    clusterName: "berth-dev-cluster-1a2b3c4",
    services: {},
    jobs: { retention: { stateMachineArn: MACHINE, schedule: "cron(0 3 * * ? *)", logGroupName: "/berth/dev/retention" } },
};
const CONFIG = { "aws:region": "eu-west-1", "berth:environment": "test" };

function unexpected(name: string): never {
    throw new Error(`unexpected AWS call ${name}`);
}

function fakeAws(sfn: Partial<AwsApis["sfn"]>): AwsApis {
    const wrap = <T extends object>(name: string, impl: Partial<T>) =>
        new Proxy(impl as T, { get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (() => unexpected(`${name}.${String(k)}`)) });
    return { ecs: wrap("ecs", {}), elb: wrap("elb", {}), cloudwatch: wrap("cloudwatch", {}), logs: wrap("logs", {}), sfn: wrap("sfn", sfn) };
}

function harness(aws: AwsApis, stack: StackView | Error = { name: "dev", project: "berth", outputs: async () => OUTPUTS, config: async () => CONFIG }) {
    const out: string[] = [];
    const err: string[] = [];
    const progress: string[] = [];
    let now = Date.parse("2026-12-03T12:00:00Z");
    const slept: number[] = [];
    const deps: Deps = {
        stacks: {
            select: async () => {
                if (stack instanceof Error) {
                    throw stack;
                }
                return stack;
            },
        },
        aws: () => aws,
        term: { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: true, progress: (l) => progress.push(l) },
        now: () => now,
        sleep: async (ms) => {
            slept.push(ms);
            now += ms;
        },
        which: () => undefined,
        run: async () => 0,
        interrupted: new AbortController().signal,
        cwd: os.tmpdir(),
        localUrl: "http://127.0.0.1:1",
        fetch: (() => unexpected("fetch")) as unknown as typeof fetch,
    };
    return { deps, out, err, progress, slept };
}

/** An execution that runs `polls` reads, then ends with `end`. */
function execution(polls: number, end: { status: string; error?: string; cause?: string }) {
    const started: unknown[] = [];
    let reads = 0;
    const sfn: Partial<AwsApis["sfn"]> = {
        startExecution: async (input) => {
            started.push(input);
            return { executionArn: `${MACHINE.replace(":stateMachine:", ":execution:")}:${input.name}`, startDate: new Date(), $metadata: {} };
        },
        describeExecution: async () => (++reads > polls ? { ...end, $metadata: {} } : { status: "RUNNING", $metadata: {} }) as never,
    };
    return { sfn, started };
}

describe("berth job run", () => {
    it("starts the job's state machine, shows its status while it waits, and exits 0 when the run succeeds", async () => {
        const { sfn, started } = execution(2, { status: "SUCCEEDED" });
        const h = harness(fakeAws(sfn));
        assert.strictEqual(await run(["job", "run", "retention"], h.deps), 0, h.err.join("\n"));
        assert.strictEqual((started[0] as any).stateMachineArn, MACHINE);
        assert.match((started[0] as any).name, /^berth-run-20261203T120000Z-[0-9a-f]{6}$/);
        assert.deepStrictEqual(h.progress.slice(-2), ["job retention: RUNNING for 0s", "job retention: RUNNING for 5s"]);
        assert.deepStrictEqual(h.slept, [JOB_POLL_INTERVAL_MS, JOB_POLL_INTERVAL_MS]);
        assert.deepStrictEqual(h.out, ["job retention succeeded in 10s"]);
    });

    it("exits 1 and says why when the run fails, with the error, the cause and where the logs are", async () => {
        const { sfn } = execution(0, {
            status: "FAILED",
            error: "States.TaskFailed",
            cause: '{"StopCode":"EssentialContainerExited","Containers":[{"ExitCode":1}]}',
        });
        const h = harness(fakeAws(sfn));
        assert.strictEqual(await run(["job", "run", "retention"], h.deps), 1);
        assert.deepStrictEqual(h.out, [
            "job retention failed after 0s",
            '  States.TaskFailed: {"StopCode":"EssentialContainerExited","Containers":[{"ExitCode":1}]}',
            "  logs: /berth/dev/retention",
        ]);
    });

    it("exits 1 when the run timed out, and prints the outcome as JSON with --json", async () => {
        const { sfn } = execution(1, { status: "TIMED_OUT" });
        const h = harness(fakeAws(sfn));
        assert.strictEqual(await run(["job", "run", "retention", "--json"], h.deps), 1);
        const outcome = JSON.parse(h.out.join("\n"));
        assert.deepStrictEqual([outcome.job, outcome.status, outcome.seconds], ["retention", "TIMED_OUT", 5]);
    });

    it("names the stack's jobs when the job is unknown, and exits 2 before calling AWS", async () => {
        const h = harness(fakeAws({}));
        assert.strictEqual(await run(["job", "run", "nightly"], h.deps), 2);
        assert.deepStrictEqual(h.err, ['berth: job "nightly" not found in stack dev; jobs: retention']);
        const none = harness(fakeAws({}), { name: "dev", project: "berth", outputs: async () => ({}), config: async () => CONFIG });
        assert.strictEqual(await run(["job", "run", "retention"], none.deps), 2);
        assert.match(none.err[0], /jobs: none \(has the stack been deployed\?\)$/);
    });

    it("says when there is no stack, and refuses an unknown job command, each in one line", async () => {
        const h = harness(fakeAws({}), new NoStackError("no stack selected; pass --stack <name> or run `pulumi stack select <name>`"));
        assert.strictEqual(await run(["job", "run", "retention"], h.deps), 2);
        assert.deepStrictEqual(h.err, ["berth: no stack selected; pass --stack <name> or run `pulumi stack select <name>`"]);
        const bad = harness(fakeAws({}));
        assert.strictEqual(await run(["job", "list"], bad.deps), 2);
        assert.deepStrictEqual(bad.err, ['berth: unknown job command "list"; allowed: berth job run <job>']);
    });

    it("says when AWS refuses to start it, in one line", async () => {
        const denied = Object.assign(new Error("User is not authorized to perform: states:StartExecution\n  at x"), { name: "AccessDeniedException" });
        const h = harness(
            fakeAws({
                startExecution: async () => {
                    throw denied;
                },
            }),
        );
        assert.strictEqual(await run(["job", "run", "retention"], h.deps), 2);
        assert.deepStrictEqual(h.err, ["berth: AWS refused the call (AccessDeniedException): User is not authorized to perform: states:StartExecution"]);
    });

    it("berth logs <job> reads the job's log group", async () => {
        const asked: string[] = [];
        const aws = {
            ...fakeAws({}),
            logs: {
                filterLogEvents: async (input: { logGroupName?: string }) => {
                    asked.push(input.logGroupName!);
                    return {
                        events: [
                            {
                                timestamp: Date.parse("2026-12-03T11:59:00Z"),
                                logStreamName: "retention/retention/0123abcd",
                                message: '{"level":30,"msg":"deleted 3 user_events older than 90 days"}',
                                eventId: "1",
                            },
                        ],
                        $metadata: {},
                    };
                },
            },
        } as AwsApis;
        const h = harness(aws);
        assert.strictEqual(await run(["logs", "retention"], h.deps), 0, h.err.join("\n"));
        assert.deepStrictEqual(asked, ["/berth/dev/retention"]);
        assert.match(h.out.join("\n"), /deleted 3 user_events older than 90 days/);
    });

    it("berth show lists the stack's jobs with their schedule and state machine", async () => {
        const h = harness(fakeAws({}));
        assert.strictEqual(await run(["show"], h.deps), 0);
        const at = h.out.indexOf("Jobs (berth job run <job>)");
        assert.ok(at > 0, h.out.join("\n"));
        const rows = h.out[at + 1].split("\n");
        assert.match(rows[0], /^ {2}Name +Schedule \(UTC\) +Commit +State machine$/);
        assert.match(rows[1], new RegExp(`^ {2}retention +cron\\(0 3 \\* \\* \\? \\*\\) +- +${MACHINE}$`));
    });

    it("succeeds when Step Functions throttles a call once: the SDK client retries it", async function () {
        this.timeout(20000);
        const { requestHandler, targets } = fakeJsonEndpoint({
            protocol: "1.0",
            throttleOnce: "StartExecution",
            answers: {
                StartExecution: { executionArn: `${MACHINE}:x`, startDate: 1764763200 },
                DescribeExecution: { executionArn: `${MACHINE}:x`, stateMachineArn: MACHINE, status: "SUCCEEDED", startDate: 1764763200 },
            },
            unexpected: "InvalidArn",
        });
        const real = sdkApis("eu-west-1", CONFIG, { requestHandler, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
        const h = harness({ ...fakeAws({}), sfn: real.sfn });
        assert.strictEqual(await run(["job", "run", "retention"], h.deps), 0, h.err.join("\n"));
        assert.deepStrictEqual(targets, ["StartExecution", "StartExecution", "DescribeExecution"]);
    });
});
