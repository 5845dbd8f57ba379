import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { type AwsApis, type Deps, type StackView } from "../cli/context";
import { run } from "../cli/main";
import { sdkApis } from "../cli/aws";
import { automationStacks, NoStackError } from "../cli/stack";
import { fakeJsonEndpoint } from "./support/awsEndpoint";
import * as http from "http";
import { startLocal, type LocalSystem } from "../scripts/local";
import { LOCAL_LOG_FILE, LOCAL_RUN_FILE, localLogWriter, localRunOf } from "../scripts/localLog";
import { PassThrough } from "stream";

/** The outputs of a deployed `dev` stack, as `pulumi stack output --json` shows them. */
const OUTPUTS = {
    url: "http://berth-dev-alb-123.eu-west-1.elb.amazonaws.com",
    clusterName: "berth-dev-cluster-1a2b3c4",
    dashboardUrl: "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=berth-dev",
    alarmTopicArn: "arn:aws:sns:eu-west-1:111122223333:berth-dev-alarms",
    services: {
        api: {
            kind: "public",
            repositoryUrl: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api",
            imageTag: "0a1b2c3-build7",
            commit: "0a1b2c3",
            logGroupName: "/berth/dev/api",
            serviceName: "api-service-9f8e7d6",
        },
        users: {
            kind: "backend",
            repositoryUrl: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/users",
            imageTag: "4d5e6f7-build7",
            commit: "4d5e6f7",
            logGroupName: "/berth/dev/users",
            serviceName: "users-service-1234567",
            discoveryName: "users",
        },
    },
    database: {
        address: "berth-dev.abc.eu-west-1.rds.amazonaws.com",
        port: 5432,
        name: "berth",
        secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1",
        identifier: "berth-dev",
    },
    pipeline: {
        deployRoleArn: "arn:aws:iam::111122223333:role/berth/dev/deploy",
        oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
    },
};

const CONFIG = { "aws:region": "eu-west-1", "berth:environment": "test" };

function fakeStack(overrides: Partial<StackView> = {}): StackView {
    return { name: "dev", project: "berth", outputs: async () => OUTPUTS, config: async () => CONFIG, ...overrides };
}

/** An AWS call no test expects fails loudly. */
function unexpected(name: string): never {
    throw new Error(`unexpected AWS call ${name}`);
}

function fakeAws(partial: { [K in keyof AwsApis]?: Partial<AwsApis[K]> } = {}): AwsApis {
    const wrap = <T extends object>(name: string, impl: Partial<T> | undefined) =>
        new Proxy((impl ?? {}) as T, { get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (() => unexpected(`${name}.${String(k)}`)) });
    return {
        ecs: wrap("ecs", partial.ecs),
        elb: wrap("elb", partial.elb),
        cloudwatch: wrap("cloudwatch", partial.cloudwatch),
        logs: wrap("logs", partial.logs),
        sfn: wrap("sfn", partial.sfn),
    };
}

interface Harness {
    deps: Deps;
    out: string[];
    err: string[];
    selected: Array<string | undefined>;
    progress: string[];
}

function harness(options: { stack?: StackView | Error; aws?: AwsApis; deps?: Partial<Deps> } = {}): Harness {
    const out: string[] = [];
    const err: string[] = [];
    const selected: Array<string | undefined> = [];
    const progress: string[] = [];
    const deps: Deps = {
        stacks: {
            async select(name) {
                selected.push(name);
                if (options.stack instanceof Error) {
                    throw options.stack;
                }
                return options.stack ?? fakeStack();
            },
        },
        aws: () => options.aws ?? fakeAws(),
        term: { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: true, progress: (l) => progress.push(l) },
        now: () => Date.parse("2026-12-03T12:00:00Z"),
        sleep: async () => {},
        which: () => undefined,
        run: async () => 0,
        interrupted: new AbortController().signal,
        cwd: os.tmpdir(),
        localUrl: "http://127.0.0.1:1",
        fetch: (() => unexpected("fetch")) as unknown as typeof fetch,
        ...options.deps,
    };
    return { deps, out, err, selected, progress };
}

describe("berth command line", () => {
    describe("arguments and errors", () => {
        it("prints the usage and exits 2 without a command, 0 with --help", async () => {
            const none = harness();
            assert.strictEqual(await run([], none.deps), 2);
            assert.match(none.err.join("\n"), /usage: berth <command>/);
            for (const args of [["--help"], ["status", "-h"]]) {
                const help = harness();
                assert.strictEqual(await run(args, help.deps), 0);
                assert.match(help.out.join("\n"), /status \[service\]/);
                assert.deepStrictEqual(help.err, []);
            }
        });

        it("refuses an unknown option in one line and exits 2", async () => {
            const h = harness();
            assert.strictEqual(await run(["show", "--stak", "dev"], h.deps), 2);
            assert.match(h.err[0], /^berth: Unknown option '--stak'/);
        });

        it("refuses an unknown command", async () => {
            const h = harness();
            assert.strictEqual(await run(["deploy"], h.deps), 2);
            assert.deepStrictEqual(h.err, ['berth: unknown command "deploy"; commands: show, status, logs, exec, job (berth --help)']);
        });

        it("passes --stack to the stack resolver, and nothing for the current stack", async () => {
            const named = harness();
            await run(["show", "--stack", "prod"], named.deps);
            assert.deepStrictEqual(named.selected, ["prod"]);
            const current = harness();
            await run(["show"], current.deps);
            assert.deepStrictEqual(current.selected, [undefined]);
        });

        it("says when there is no stack, in one line without a stack trace", async () => {
            const h = harness({ stack: new NoStackError("no stack selected; pass --stack <name> or run `pulumi stack select <name>`") });
            assert.strictEqual(await run(["show"], h.deps), 2);
            assert.deepStrictEqual(h.err, ["berth: no stack selected; pass --stack <name> or run `pulumi stack select <name>`"]);
        });

        it("says when the Pulumi CLI is missing (the real Automation API, PATH without pulumi)", async function () {
            this.timeout(60000);
            const saved = process.env.PATH;
            const empty = fs.mkdtempSync(path.join(os.tmpdir(), "berth-cli-path-"));
            process.env.PATH = `${empty}${path.delimiter}${path.dirname(process.execPath)}`;
            try {
                await assert.rejects(
                    automationStacks(path.resolve(__dirname, "..")).select("dev"),
                    (e: Error) => e instanceof NoStackError && /the Pulumi CLI is not installed or not on PATH/.test(e.message) && !e.message.includes("\n"),
                );
            } finally {
                process.env.PATH = saved;
            }
        });
    });

    describe("show", () => {
        it("lists the URL, services with kind, routes, images and commits, the database without its password, the dashboard and the pipeline role", async () => {
            const h = harness();
            assert.strictEqual(await run(["show"], h.deps), 0);
            const text = h.out.join("\n");
            assert.match(text, /URL +http:\/\/berth-dev-alb-123\.eu-west-1\.elb\.amazonaws\.com/);
            assert.match(text, /Dashboard +https:\/\/console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#dashboards:name=berth-dev/);
            assert.match(
                text,
                /api +public +http:\/\/berth-dev-alb-123\.eu-west-1\.elb\.amazonaws\.com\/\* \(default route\) +0a1b2c3 +111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/api:0a1b2c3-build7/,
            );
            assert.match(
                text,
                /users +backend +\/users\/\* via gateway, http:\/\/users \(Service Connect\) +4d5e6f7 +111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/users:4d5e6f7-build7/,
            );
            assert.match(
                text,
                /Database +berth-dev\.abc\.eu-west-1\.rds\.amazonaws\.com:5432\/berth \(berth-dev; user and password in arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1\)/,
            );
            assert.match(text, /Pipeline +deploy role +arn:aws:iam::111122223333:role\/berth\/dev\/deploy/);
            assert.doesNotMatch(text, /password=|"password"/i);
        });

        it("shows what a worker consumes where other services show their routes", async () => {
            const outputs = {
                ...OUTPUTS,
                services: {
                    ...OUTPUTS.services,
                    "product-events": {
                        kind: "worker",
                        repositoryUrl: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/product-events",
                        imageTag: "0a1b2c3-build7",
                        commit: "0a1b2c3",
                        logGroupName: "/berth/dev/product-events",
                        serviceName: "product-events-service-1a2b3c4",
                    },
                },
            };
            const h = harness({ stack: fakeStack({ outputs: async () => outputs as never }) });
            assert.strictEqual(await run(["show"], h.deps), 0);
            assert.match(h.out.join("\n"), /product-events +worker +consumes product-changed from its queue +0a1b2c3/);
        });

        it("gives the same facts as JSON with --json", async () => {
            const h = harness();
            assert.strictEqual(await run(["show", "--json"], h.deps), 0);
            const view = JSON.parse(h.out.join("\n"));
            assert.strictEqual(view.url, OUTPUTS.url);
            assert.deepStrictEqual(
                view.services.map((s: { name: string; kind: string }) => [s.name, s.kind]),
                [
                    ["api", "public"],
                    ["users", "backend"],
                ],
            );
            assert.strictEqual(view.database.endpoint, "berth-dev.abc.eu-west-1.rds.amazonaws.com:5432/berth");
        });
    });

    describe("status", () => {
        const at = (iso: string) => new Date(iso);
        function ecsService(name: string, over: Record<string, unknown> = {}) {
            return {
                serviceName: name,
                status: "ACTIVE",
                runningCount: 2,
                desiredCount: 2,
                pendingCount: 0,
                taskDefinition: `arn:aws:ecs:eu-west-1:111122223333:task-definition/berth-dev-${name.split("-")[0]}:7`,
                deployments: [
                    {
                        id: "ecs-svc/111",
                        status: "PRIMARY",
                        rolloutState: "COMPLETED",
                        createdAt: at("2026-12-03T11:00:00Z"),
                        taskDefinition: `arn:aws:ecs:eu-west-1:111122223333:task-definition/berth-dev-${name.split("-")[0]}:7`,
                    },
                ],
                events: [
                    { createdAt: at("2026-12-03T11:05:00Z"), message: `(service ${name}) has reached a steady state.` },
                    { createdAt: at("2026-12-03T11:01:00Z"), message: `(service ${name}) has started 2 tasks.` },
                ],
                ...over,
            };
        }
        const healthyEcs = (services: Record<string, ReturnType<typeof ecsService>>, calls: string[] = []) => ({
            describeServices: async (input: { services?: string[] }) => {
                calls.push(`describeServices ${input.services!.join(",")}`);
                return {
                    services: input.services!.filter((n) => services[n]).map((n) => services[n]),
                    failures: input.services!.filter((n) => !services[n]).map((n) => ({ arn: n, reason: "MISSING" })),
                } as never;
            },
            describeTaskDefinition: async (input: { taskDefinition?: string }) =>
                ({
                    taskDefinition: { containerDefinitions: [{ environment: [{ name: "BERTH_COMMIT", value: "from-env" }] }] },
                    tags: input.taskDefinition!.includes("berth-dev-api") ? [{ key: "berth:commit", value: "0a1b2c3" }] : [],
                }) as never,
        });

        it("shows tasks, deployment, revision and commit, targets, alarms and events, and exits 0 when all is well", async () => {
            const aws = fakeAws({
                ecs: healthyEcs({
                    "api-service-9f8e7d6": ecsService("api-service-9f8e7d6", { loadBalancers: [{ targetGroupArn: "arn:tg/api" }] }),
                    "users-service-1234567": ecsService("users-service-1234567"),
                }),
                elb: {
                    describeTargetHealth: async () =>
                        ({
                            TargetHealthDescriptions: [
                                { Target: { Id: "10.0.1.5", Port: 8080 }, TargetHealth: { State: "healthy" } },
                                { Target: { Id: "10.0.2.6", Port: 8080 }, TargetHealth: { State: "healthy" } },
                            ],
                        }) as never,
                },
                cloudwatch: { describeAlarms: async () => ({ MetricAlarms: [] }) as never },
            });
            const h = harness({ aws });
            assert.strictEqual(await run(["status"], h.deps), 0);
            const text = h.out.join("\n");
            assert.match(text, /^api \(public, ECS service api-service-9f8e7d6\): healthy$/m);
            assert.match(text, /Tasks +2 running \/ 2 desired \/ 0 pending/);
            assert.match(text, /Deployment +ecs-svc\/111 COMPLETED since 2026-12-03T11:00:00.000Z/);
            assert.match(text, /Revision +berth-dev-api:7, commit 0a1b2c3/);
            // A task definition without the tag: the commit its tasks get as BERTH_COMMIT.
            assert.match(text, /Revision +berth-dev-users:7, commit from-env/);
            assert.match(text, /Targets +2 healthy/);
            assert.match(text, /2026-12-03T11:05:00.000Z  \(service api-service-9f8e7d6\) has reached a steady state\./);
            assert.match(text, /^users \(backend, ECS service users-service-1234567\): healthy$/m);
            // The waits are announced beside the output, never in it.
            assert.deepStrictEqual(h.progress, ["Reading the current stack through Pulumi", "Asking ECS, ELB and CloudWatch about api, users"]);
        });

        it("exits 1 and says why when tasks are missing, targets are unhealthy or an alarm is in ALARM", async () => {
            const prefixes: string[] = [];
            const aws = fakeAws({
                ecs: healthyEcs({
                    "api-service-9f8e7d6": ecsService("api-service-9f8e7d6", { runningCount: 1, loadBalancers: [{ targetGroupArn: "arn:tg/api" }] }),
                }),
                elb: {
                    describeTargetHealth: async () =>
                        ({
                            TargetHealthDescriptions: [
                                { Target: { Id: "10.0.1.5", Port: 8080 }, TargetHealth: { State: "unhealthy", Reason: "Target.FailedHealthChecks" } },
                            ],
                        }) as never,
                },
                cloudwatch: {
                    describeAlarms: async (input) => {
                        prefixes.push(`${input.AlarmNamePrefix} ${input.StateValue}`);
                        return {
                            MetricAlarms: [
                                { AlarmName: "berth-dev-api-5xx-rate", StateUpdatedTimestamp: at("2026-12-03T11:58:00Z") },
                                // Another service whose name starts with this one's: not this service's alarm.
                                { AlarmName: "berth-dev-api-admin-cpu" },
                            ],
                        } as never;
                    },
                },
            });
            const h = harness({ aws });
            assert.strictEqual(await run(["status", "api"], h.deps), 1);
            assert.deepStrictEqual(prefixes, ["berth-dev-api- ALARM"]);
            const text = h.out.join("\n");
            assert.match(
                text,
                /^api \(public, ECS service api-service-9f8e7d6\): UNHEALTHY: 1 of 2 tasks running; 1 unhealthy target; no healthy target; alarm berth-dev-api-5xx-rate$/m,
            );
            assert.match(text, /10\.0\.1\.5:8080 unhealthy \(Target\.FailedHealthChecks\)/);
            assert.match(text, /berth-dev-api-5xx-rate in ALARM since 2026-12-03T11:58:00.000Z/);
            assert.doesNotMatch(text, /api-admin/);
        });

        it("reports a worker's queue alarms, which are all the alarms it has", async () => {
            const outputs = {
                ...OUTPUTS,
                services: {
                    "product-events": {
                        kind: "worker",
                        repositoryUrl: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/product-events",
                        imageTag: "0a1b2c3-build7",
                        commit: "0a1b2c3",
                        logGroupName: "/berth/dev/product-events",
                        serviceName: "product-events-service-1a2b3c4",
                    },
                },
            };
            const aws = fakeAws({
                ecs: healthyEcs({ "product-events-service-1a2b3c4": ecsService("product-events-service-1a2b3c4") }),
                cloudwatch: {
                    describeAlarms: async () =>
                        ({
                            MetricAlarms: [
                                { AlarmName: "berth-dev-product-events-dead-letters", StateUpdatedTimestamp: at("2026-12-03T12:00:00Z") },
                                // A backend's alarm name under the same prefix is no worker's.
                                { AlarmName: "berth-dev-product-events-tasks-below-desired" },
                            ],
                        }) as never,
                },
            });
            const h = harness({ aws, stack: fakeStack({ outputs: async () => outputs as never }) });
            assert.strictEqual(await run(["status", "product-events"], h.deps), 1);
            const text = h.out.join("\n");
            assert.match(
                text,
                /^product-events \(worker, ECS service product-events-service-1a2b3c4\): UNHEALTHY: alarm berth-dev-product-events-dead-letters$/m,
            );
            assert.doesNotMatch(text, /tasks-below-desired/);
        });

        it("exits 1 when the current deployment FAILED", async () => {
            const failed = ecsService("users-service-1234567");
            failed.deployments[0] = {
                ...failed.deployments[0],
                rolloutState: "FAILED",
                rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
            } as never;
            const aws = fakeAws({ ecs: healthyEcs({ "users-service-1234567": failed }), cloudwatch: { describeAlarms: async () => ({}) as never } });
            const h = harness({ aws });
            assert.strictEqual(await run(["status", "users", "--json"], h.deps), 1);
            const [s] = JSON.parse(h.out.join("\n"));
            assert.deepStrictEqual(s.problems, ["deployment ecs-svc/111 FAILED"]);
            assert.strictEqual(s.deployment.reason, "ECS deployment circuit breaker: tasks failed to start.");
        });

        it("names the services the stack has when the service is unknown, and exits 2", async () => {
            const h = harness({ aws: fakeAws() });
            assert.strictEqual(await run(["status", "orders"], h.deps), 2);
            assert.deepStrictEqual(h.err, ['berth: service "orders" not found in stack dev; services: api, users']);
        });

        it("says when ECS no longer has the service", async () => {
            const h = harness({ aws: fakeAws({ ecs: healthyEcs({}) }) });
            assert.strictEqual(await run(["status", "users"], h.deps), 2);
            assert.deepStrictEqual(h.err, [
                "berth: service users: ECS service users-service-1234567 not found in cluster berth-dev-cluster-1a2b3c4; has it been destroyed?",
            ]);
        });

        it("says when there are no AWS credentials, in one line", async () => {
            const noCredentials = Object.assign(new Error("Could not load credentials from any providers\n    at somewhere"), {
                name: "CredentialsProviderError",
            });
            const h = harness({
                aws: fakeAws({
                    ecs: {
                        describeServices: async () => {
                            throw noCredentials;
                        },
                    },
                }),
            });
            assert.strictEqual(await run(["status"], h.deps), 2);
            assert.strictEqual(h.err.length, 1);
            assert.match(h.err[0], /^berth: no usable AWS credentials \(CredentialsProviderError: Could not load credentials from any providers\); log in/);
        });

        it("reads the stack's aws:* settings as the program does, and names a wrong one in one line", async () => {
            const h = harness({
                stack: fakeStack({ config: async () => ({ ...CONFIG, "aws:assumeRole": "arn:aws:iam::111122223333:role/deploy" }) }),
                deps: { aws: (region, config) => sdkApis(region, config) },
            });
            assert.strictEqual(await run(["status"], h.deps), 2);
            assert.strictEqual(h.err.length, 1);
            assert.match(
                h.err[0],
                /^berth: stack dev: Invalid stack configuration: - aws:assumeRole is "arn:aws:iam::111122223333:role\/deploy"; allowed: \{"roleArn"/,
            );
        });

        it("succeeds when ECS throttles a call once: the SDK client retries it", async function () {
            this.timeout(20000);
            // A fake AWS endpoint behind the real ECS client: the first call is throttled, as ECS answers it.
            const { requestHandler, targets } = fakeJsonEndpoint({
                protocol: "1.1",
                throttleOnce: "DescribeServices",
                answers: {
                    DescribeServices: {
                        services: [
                            { serviceName: "users-service-1234567", status: "ACTIVE", runningCount: 1, desiredCount: 1, pendingCount: 0, deployments: [] },
                        ],
                        failures: [],
                    },
                },
                unexpected: "InvalidParameterException",
            });
            const real = sdkApis("eu-west-1", CONFIG, { requestHandler, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
            const aws = { ...fakeAws({ cloudwatch: { describeAlarms: async () => ({}) as never } }), ecs: real.ecs };
            const h = harness({ aws });
            assert.strictEqual(await run(["status", "users"], h.deps), 0, h.err.join("\n"));
            assert.deepStrictEqual(targets, ["DescribeServices", "DescribeServices"]);
            assert.match(h.out.join("\n"), /^users \(backend, ECS service users-service-1234567\): healthy$/m);
        });
    });

    describe("logs", () => {
        const NOW = Date.parse("2026-12-03T12:00:00Z");
        const event = (id: string, iso: string, message: unknown, task = "0123456789abcdef0123456789abcdef") => ({
            eventId: id,
            timestamp: Date.parse(iso),
            ingestionTime: Date.parse(iso) + 50,
            logStreamName: `users/users/${task}`,
            message: typeof message === "string" ? message : JSON.stringify(message),
        });

        it("reads the service's log group from --since ago and prints time, task, level, message and the other fields", async () => {
            const asked: unknown[] = [];
            const aws = fakeAws({
                logs: {
                    filterLogEvents: async (input) => {
                        asked.push(input);
                        return input.nextToken
                            ? ({
                                  events: [
                                      event("e2", "2026-12-03T11:59:30Z", {
                                          level: 50,
                                          time: 1,
                                          pid: 1,
                                          hostname: "h",
                                          msg: "query failed",
                                          err: { code: "57P01" },
                                      }),
                                  ],
                              } as never)
                            : ({
                                  events: [event("e1", "2026-12-03T11:59:00Z", { level: 30, msg: "request completed", reqId: "r-1", statusCode: 200 })],
                                  nextToken: "page2",
                              } as never);
                    },
                },
            });
            const h = harness({ aws });
            assert.strictEqual(await run(["logs", "users", "--since", "5m", "--filter", "{ $.level >= 30 }"], h.deps), 0);
            assert.deepStrictEqual(asked, [
                { logGroupName: "/berth/dev/users", startTime: NOW - 5 * 60_000, filterPattern: "{ $.level >= 30 }", nextToken: undefined },
                { logGroupName: "/berth/dev/users", startTime: NOW - 5 * 60_000, filterPattern: "{ $.level >= 30 }", nextToken: "page2" },
            ]);
            assert.deepStrictEqual(h.out, [
                '2026-12-03T11:59:00.000Z 01234567 INFO  request completed {"reqId":"r-1","statusCode":200}',
                '2026-12-03T11:59:30.000Z 01234567 ERROR query failed {"err":{"code":"57P01"}}',
            ]);
        });

        it("prints CloudWatch's events as JSON lines with --json, and only one task's with --task", async () => {
            const aws = fakeAws({
                logs: {
                    filterLogEvents: async () =>
                        ({
                            events: [
                                event("e1", "2026-12-03T11:59:00Z", "plain text line", "aaaa1111"),
                                event("e2", "2026-12-03T11:59:01Z", "other task", "bbbb2222"),
                            ],
                        }) as never,
                },
            });
            const h = harness({ aws });
            assert.strictEqual(await run(["logs", "users", "--json", "--task", "aaaa"], h.deps), 0);
            assert.deepStrictEqual(
                h.out.map((l) => JSON.parse(l)),
                [
                    {
                        logStreamName: "users/users/aaaa1111",
                        timestamp: Date.parse("2026-12-03T11:59:00Z"),
                        ingestionTime: Date.parse("2026-12-03T11:59:00Z") + 50,
                        message: "plain text line",
                    },
                ],
            );
        });

        it("follows: polls from the last event seen, prints each event once, and stops on Ctrl-C", async () => {
            const interrupt = new AbortController();
            const starts: number[] = [];
            const sleeps: number[] = [];
            const pages = [
                [event("e1", "2026-12-03T11:59:00Z", "one"), event("e2", "2026-12-03T11:59:05Z", "two")],
                // FilterLogEvents from the last timestamp includes it again: e2 must not print twice.
                [event("e2", "2026-12-03T11:59:05Z", "two"), event("e3", "2026-12-03T11:59:05Z", "three")],
                [event("e3", "2026-12-03T11:59:05Z", "three"), event("e4", "2026-12-03T11:59:09Z", "four")],
            ];
            const aws = fakeAws({
                logs: {
                    filterLogEvents: async (input) => {
                        starts.push(input.startTime!);
                        return { events: pages[starts.length - 1] ?? [] } as never;
                    },
                },
            });
            const h = harness({
                aws,
                deps: {
                    interrupted: interrupt.signal,
                    sleep: async (ms) => {
                        sleeps.push(ms);
                        if (sleeps.length === 3) {
                            interrupt.abort();
                        }
                    },
                },
            });
            assert.strictEqual(await run(["logs", "users", "--follow"], h.deps), 0);
            assert.deepStrictEqual(
                h.out.map((l) => l.split(" ").pop()),
                ["one", "two", "three", "four"],
            );
            assert.deepStrictEqual(starts, [NOW - 10 * 60_000, Date.parse("2026-12-03T11:59:05Z"), Date.parse("2026-12-03T11:59:05Z")]);
            assert.ok(
                sleeps.every((ms) => ms >= 1000 && ms <= 10_000),
                `poll interval ${sleeps} is bounded`,
            );
        });

        it("refuses a bad --since and an unknown service, each in one line", async () => {
            const bad = harness({ aws: fakeAws() });
            assert.strictEqual(await run(["logs", "users", "--since", "ten minutes"], bad.deps), 2);
            assert.deepStrictEqual(bad.err, ['berth: --since is "ten minutes"; allowed: a duration such as 30s, 10m, 2h or 1d']);
            const unknown = harness({ aws: fakeAws() });
            assert.strictEqual(await run(["logs", "orders"], unknown.deps), 2);
            assert.deepStrictEqual(unknown.err, ['berth: service "orders" not found in stack dev; services: api, users']);
        });
    });

    describe("exec", () => {
        const TASK = "arn:aws:ecs:eu-west-1:111122223333:task/berth-dev-cluster-1a2b3c4/5f6e7d8c9b0a";
        const ecs = (calls: unknown[], over: Record<string, unknown> = {}) => ({
            listTasks: async (input: unknown) => {
                calls.push(["listTasks", input]);
                return { taskArns: [TASK] } as never;
            },
            describeTasks: async () =>
                ({
                    tasks: [
                        {
                            taskArn: TASK,
                            enableExecuteCommand: true,
                            containers: [
                                { name: "otel-collector", runtimeId: "x-1" },
                                { name: "users", runtimeId: "5f6e7d8c9b0a-123456" },
                            ],
                            ...over,
                        },
                    ],
                }) as never,
            executeCommand: async (input: unknown) => {
                calls.push(["executeCommand", input]);
                return {
                    clusterArn: "arn:aws:ecs:eu-west-1:111122223333:cluster/berth-dev-cluster-1a2b3c4",
                    session: {
                        sessionId: "ecs-execute-command-0abc",
                        streamUrl: "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-0abc",
                        tokenValue: "token",
                    },
                } as never;
            },
            endpoint: async () => "https://ecs.eu-west-1.amazonaws.com",
        });

        it("opens ECS Exec in a running task and starts the Session Manager plugin with the AWS CLI's arguments", async () => {
            const calls: unknown[] = [];
            const runs: Array<[string, string[]]> = [];
            const h = harness({
                aws: fakeAws({ ecs: ecs(calls) }),
                stack: fakeStack({ config: async () => ({ ...CONFIG, "aws:profile": "team" }) }),
                deps: {
                    which: (c) => (c === "session-manager-plugin" ? "/usr/local/bin/session-manager-plugin" : undefined),
                    run: async (c, a) => {
                        runs.push([c, a]);
                        return 0;
                    },
                },
            });
            assert.strictEqual(await run(["exec", "users", "ls", "-la", "/app"], h.deps), 0);
            assert.deepStrictEqual(calls, [
                ["listTasks", { cluster: "berth-dev-cluster-1a2b3c4", serviceName: "users-service-1234567", desiredStatus: "RUNNING" }],
                ["executeCommand", { cluster: "berth-dev-cluster-1a2b3c4", task: TASK, container: "users", interactive: true, command: "ls -la /app" }],
            ]);
            assert.deepStrictEqual(runs, [
                [
                    "/usr/local/bin/session-manager-plugin",
                    [
                        JSON.stringify({
                            sessionId: "ecs-execute-command-0abc",
                            streamUrl: "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-0abc",
                            tokenValue: "token",
                        }),
                        "eu-west-1",
                        "StartSession",
                        "team",
                        '{"Target":"ecs:berth-dev-cluster-1a2b3c4_5f6e7d8c9b0a_5f6e7d8c9b0a-123456"}',
                        "https://ecs.eu-west-1.amazonaws.com",
                    ],
                ],
            ]);
        });

        it("opens a shell when no command is given, with berth's options before the service", async () => {
            const calls: unknown[] = [];
            const h = harness({ aws: fakeAws({ ecs: ecs(calls) }), deps: { which: () => "/bin/smp" } });
            assert.strictEqual(await run(["exec", "--stack", "dev", "users"], h.deps), 0);
            assert.strictEqual((calls[1] as [string, { command: string }])[1].command, "/bin/sh");
        });

        it("passes everything after the service (and after --) to the task, berth's options included", async () => {
            const calls: unknown[] = [];
            const h = harness({ aws: fakeAws({ ecs: ecs(calls) }), deps: { which: () => "/bin/smp" } });
            assert.strictEqual(await run(["exec", "users", "--", "grep", "--stack", "-r", "/app"], h.deps), 0);
            assert.strictEqual((calls[1] as [string, { command: string }])[1].command, "grep --stack -r /app");
            assert.deepStrictEqual(h.selected, [undefined]);
        });

        it("says the Session Manager plugin is missing, with where to get it, before calling AWS", async () => {
            const h = harness({ aws: fakeAws() });
            assert.strictEqual(await run(["exec", "users"], h.deps), 2);
            assert.deepStrictEqual(h.err, [
                "berth: the Session Manager plugin (session-manager-plugin) is not on PATH; berth exec needs it to open a session in the task. " +
                    "Install it: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html",
            ]);
        });

        it("says when ECS Exec is off for the task", async () => {
            const h = harness({ aws: fakeAws({ ecs: ecs([], { enableExecuteCommand: false }) }), deps: { which: () => "/bin/smp" } });
            assert.strictEqual(await run(["exec", "users"], h.deps), 2);
            assert.match(h.err[0], /^berth: ECS Exec is off for service users; turn it on with `pulumi config set berth:ecsExec true && pulumi up`/);
        });
    });

    describe("local run (npm start)", () => {
        let dir: string;
        let server: http.Server;
        let healthyUrl: string;
        let deadUrl: string;

        before(async () => {
            server = http.createServer((req, res) => {
                res.statusCode = req.url === "/health" ? 200 : 404;
                res.end("{}");
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            healthyUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
            // A port nothing listens on: bound, then closed.
            const closed = http.createServer();
            await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
            deadUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
            await new Promise((resolve) => closed.close(resolve));
        });
        after(() => server.close());

        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-cli-local-"));
        });

        function writeRun(services: Array<{ name: string; index?: number; url: string }>, pid = process.pid) {
            fs.mkdirSync(path.join(dir, ".berth"), { recursive: true });
            fs.writeFileSync(
                path.join(dir, LOCAL_RUN_FILE),
                JSON.stringify({
                    pid,
                    url: services[0].url,
                    services: services.map((s) => ({ index: 0, healthPath: "/health", ...s })),
                }),
            );
        }

        it("status --local asks each service's health endpoint and exits 1 when one does not answer", async () => {
            writeRun([
                { name: "api", url: healthyUrl },
                { name: "users", url: deadUrl },
            ]);
            const h = harness({ deps: { cwd: dir, fetch } });
            assert.strictEqual(await run(["status", "--local"], h.deps), 1);
            assert.match(h.out[0], new RegExp(`^Local run \\(npm start, pid ${process.pid}\\), gateway ${healthyUrl}$`));
            assert.match(h.out[1], /^ {2}api +http:\/\/127\.0\.0\.1:\d+\/health +healthy \(HTTP 200\)$/);
            assert.match(h.out[2], /^ {2}users +http:\/\/127\.0\.0\.1:\d+\/health +UNHEALTHY \(ECONNREFUSED\)$/);
            assert.deepStrictEqual(h.selected, [], "--local reads no stack");
        });

        it("status falls back to the local run when there is no stack, and says so", async () => {
            writeRun([{ name: "api", url: healthyUrl }]);
            const h = harness({
                stack: new NoStackError("no stack selected; pass --stack <name> or run `pulumi stack select <name>`"),
                deps: { cwd: dir, fetch },
            });
            assert.strictEqual(await run(["status"], h.deps), 0);
            assert.deepStrictEqual(h.err, [
                "berth: no stack selected; pass --stack <name> or run `pulumi stack select <name>`; showing the local run (npm start)",
            ]);
            assert.match(h.out[1], /api .* healthy \(HTTP 200\)/);
        });

        it("says when no local run is there, or when it has stopped", async () => {
            const none = harness({ deps: { cwd: dir } });
            assert.strictEqual(await run(["status", "--local"], none.deps), 2);
            assert.deepStrictEqual(none.err, ["berth: no local run found (.berth/local-run.json); start one with `npm start`, or name a stack with --stack"]);
            // A pid no process has: far above Linux's pid_max.
            writeRun([{ name: "api", url: healthyUrl }], 2 ** 30);
            const stopped = harness({ deps: { cwd: dir } });
            assert.strictEqual(await run(["status", "--local"], stopped.deps), 2);
            assert.match(stopped.err[0], /^berth: the local run \(npm start, pid 1073741824\) is no longer running/);
        });

        it("logs --local prints the service's lines from npm start's log file, since --since, filtered", async () => {
            writeRun([
                { name: "api", url: healthyUrl },
                { name: "users", url: deadUrl },
            ]);
            let t = Date.parse("2026-12-03T11:40:00Z");
            const writer = localLogWriter(path.join(dir, LOCAL_LOG_FILE), 1024 * 1024, () => t);
            writer.write("users", JSON.stringify({ level: 30, msg: "too old" }));
            t = Date.parse("2026-12-03T11:55:00Z");
            writer.write("users", JSON.stringify({ level: 30, time: 1, msg: "request completed", reqId: "r-9" }));
            writer.write("api", JSON.stringify({ level: 30, msg: "gateway line" }));
            writer.write("users.1", "plain line from the second instance");
            writer.write("users", JSON.stringify({ level: 30, msg: "health check" }));
            writer.close();
            const h = harness({ deps: { cwd: dir } });
            assert.strictEqual(await run(["logs", "users", "--local", "--since", "10m", "--filter", "e"], h.deps), 0);
            assert.deepStrictEqual(h.out, [
                '2026-12-03T11:55:00.000Z users    INFO  request completed {"reqId":"r-9"}',
                "2026-12-03T11:55:00.000Z users.1  -     plain line from the second instance",
                "2026-12-03T11:55:00.000Z users    INFO  health check",
            ]);
        });

        it("keeps the log file small: past its limit it becomes local.log.1 and a new one starts", () => {
            const file = path.join(dir, "local.log");
            const writer = localLogWriter(file, 200, () => 0);
            for (let i = 0; i < 10; i++) {
                writer.write("users", `line ${i} ${"x".repeat(20)}`);
            }
            writer.close();
            assert.ok(fs.statSync(file).size <= 200);
            assert.ok(fs.statSync(`${file}.1`).size <= 200);
            const last = fs
                .readFileSync(file, "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l).line);
            assert.strictEqual(last[last.length - 1], `line 9 ${"x".repeat(20)}`);
        });
    });

    describe("against a real local run", function () {
        this.timeout(120_000);
        let system: LocalSystem | undefined;
        let dir: string;

        before(async () => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-cli-run-"));
            const writer = localLogWriter(path.join(dir, LOCAL_LOG_FILE));
            // The embedded database in memory, so that the test neither reads nor changes .berth/pgdata.
            system = await startLocal({ port: 0, output: new PassThrough().resume(), database: {}, logSink: (service, line) => writer.write(service, line) });
            fs.writeFileSync(path.join(dir, LOCAL_RUN_FILE), JSON.stringify(localRunOf(process.pid, system)));
        });
        after(async () => {
            await system?.stop();
        });

        it("status --local finds every service healthy, and logs --local shows the users service's request lines", async () => {
            const status = harness({ deps: { cwd: dir, fetch } });
            assert.strictEqual(await run(["status", "--local"], status.deps), 0, status.out.join("\n"));
            for (const name of ["api", "users", "products"]) {
                assert.match(status.out.join("\n"), new RegExp(`^ {2}${name} .* healthy \\(HTTP 200\\)$`, "m"));
            }
            const answer = await fetch(`${system!.url}/users`, { signal: AbortSignal.timeout(10_000) });
            assert.strictEqual(answer.status, 200);
            // The service writes its line after answering; the log file gets it as npm start reads it.
            let lines: string[] = [];
            for (let i = 0; i < 50 && !lines.some((l) => /\/users/.test(l)); i++) {
                await new Promise((r) => setTimeout(r, 100));
                const h = harness({ deps: { cwd: dir, now: Date.now } });
                assert.strictEqual(await run(["logs", "users", "--local"], h.deps), 0);
                lines = h.out;
            }
            assert.ok(
                lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z users +[A-Z]+ +.*\/users/.test(l)),
                lines.join("\n"),
            );
        });
    });
});
