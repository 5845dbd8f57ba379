/**
 * The job kind (Copilot's Scheduled Job): the catalogue's checks, the next run the local run computes, the state
 * machine's definition, and the whole program under mocks with what each of the job's roles could do.
 */
import * as assert from "assert";
import { durationSeconds, jobScheduleProblem, resolveJobs, type JobDeclaration } from "../catalog/jobs";
import { catalog, jobs } from "../catalog";
import { localSchedule, nextRun, runsPerMonth, type LocalSchedule } from "../core/jobSchedule";
import { loadSettings } from "../config";
import { estimateCost } from "../cost/estimate";
import { USAGE_ASSUMPTIONS } from "../cost/usageAssumptions";
import { jobDefinition, RUN_TASK_SYNC } from "../core/jobStateMachine";
import { evaluateRules, relaxedRules } from "./support/awsRules";
import { evaluate, tagged, type Document } from "./support/iamPolicy";
import { ACCOUNT, REGION, runBerth, stackConfig, type Recorded } from "./support/pulumi";

import { T } from "./support/types";

const job = (over: Partial<JobDeclaration> = {}): JobDeclaration => ({ name: "nightly", kind: "job", schedule: "cron(0 3 * * ? *)", ...over });

describe("jobs", () => {
    describe("in the catalogue", () => {
        it("take a cron or rate schedule, a timeout, retries and a Fargate size, with Copilot's defaults", () => {
            const [j] = resolveJobs([job()], ["api"]);
            assert.deepStrictEqual(
                {
                    schedule: j.schedule,
                    timeoutSeconds: j.timeoutSeconds,
                    retries: j.retries,
                    cpu: j.cpu,
                    memory: j.memory,
                    database: j.database,
                    dockerfile: j.build.dockerfile,
                },
                {
                    schedule: "cron(0 3 * * ? *)",
                    timeoutSeconds: 3600,
                    retries: 0,
                    cpu: 256,
                    memory: 512,
                    database: false,
                    dockerfile: "services/nightly/Dockerfile",
                },
            );
            assert.strictEqual(resolveJobs([job({ schedule: "rate(1 day)", timeout: "1h30m", retries: 10 })], [])[0].timeoutSeconds, 5400);
        });

        const refused: Array<[string, Partial<JobDeclaration>, RegExp]> = [
            [
                "an at() schedule, which runs once",
                { schedule: "at(2027-01-01T00:00:00)" },
                /"schedule" is "at\(2027-01-01T00:00:00\)"; allowed: cron\(minutes hours/,
            ],
            ["a cron with both day fields set", { schedule: "cron(0 3 * * MON *)" }, /"schedule" is "cron\(0 3 \* \* MON \*\)"; allowed: a valid expression/],
            ["a rate in the wrong number", { schedule: "rate(2 day)" }, /"schedule" is "rate\(2 day\)"; allowed: a valid expression \(write rate\(2 days\)\)/],
            ["a five-field Unix cron", { schedule: "cron(0 3 * * *)" }, /"schedule" is "cron\(0 3 \* \* \*\)"/],
            ["a timeout in days", { timeout: "1d" }, /"timeout" is "1d"; allowed: a duration such as "30m"/],
            ["a timeout under a minute", { timeout: "30s" }, /"timeout" is "30s"; allowed: .* from 1m to 24h/],
            ["a timeout over a day", { timeout: "25h" }, /"timeout" is "25h"/],
            ["eleven retries", { retries: 11 }, /"retries" is 11; allowed: a whole number from 0 to 10/],
            ["half a retry", { retries: 1.5 }, /"retries" is 1\.5/],
            [
                "a size Fargate does not run",
                { cpu: 256, memory: 4096 },
                /"cpu" and "memory" are 256 and 4096; allowed: a pair Fargate runs \(with cpu 256, memory must be one of 512, 1024, 2048/,
            ],
            ["root", { user: "0:0" }, /"user" is "0:0"; allowed: a non-root uid:gid/],
            ["an empty command", { command: [] }, /"command" is \[\]/],
            ["an upper-case name", { name: "Nightly" }, /job "Nightly": "name" must be 1-16 lowercase letters/],
        ];
        for (const [what, over, message] of refused) {
            it(`refuse ${what}, naming the job, the key and what is allowed`, () => {
                assert.throws(
                    () => resolveJobs([job(over)], []),
                    (e: Error) => message.test(e.message) && e.message.startsWith("catalog/index.ts: job "),
                );
            });
        }

        it("refuse a job named like a service or another job: their AWS names would collide", () => {
            assert.throws(
                () =>
                    resolveJobs(
                        [job({ name: "users" })],
                        catalog.map((s) => s.name),
                    ),
                /job "users": "name" is a service's/,
            );
            assert.throws(() => resolveJobs([job(), job()], []), /job "nightly": "name" is declared twice/);
        });

        it("read durations of hours, minutes and seconds, and nothing else", () => {
            assert.deepStrictEqual(["30m", "2h", "1h30m", "90s", "1h0m5s", "", "m", "1.5h", "30 m"].map(durationSeconds), [
                1800,
                7200,
                5400,
                90,
                3605,
                undefined,
                undefined,
                undefined,
                undefined,
            ]);
            assert.strictEqual(jobScheduleProblem(undefined), jobScheduleProblem("every night"));
        });

        it("ship the nightly retention job, which uses the database", () => {
            const retention = jobs.find((j) => j.name === "retention");
            assert.ok(retention?.database);
            assert.strictEqual(jobScheduleProblem(retention.schedule), undefined);
        });
    });

    describe("next run, for the local run", () => {
        const at = (iso: string) => new Date(iso);
        const next = (expression: string, after: string) => nextRun(localSchedule(expression) as LocalSchedule, at(after))?.toISOString();

        const cases: Array<[string, string, string]> = [
            ["cron(0 3 * * ? *)", "2026-12-03T16:40:12Z", "2026-12-04T03:00:00.000Z"],
            ["cron(0 3 * * ? *)", "2026-12-03T02:59:59Z", "2026-12-03T03:00:00.000Z"],
            // Strictly after: a run at 03:00 is followed by the next day's.
            ["cron(0 3 * * ? *)", "2026-12-03T03:00:00Z", "2026-12-04T03:00:00.000Z"],
            ["cron(*/15 * * * ? *)", "2026-12-03T16:40:12Z", "2026-12-03T16:45:00.000Z"],
            // 2026-12-05 is a Saturday; day-of-week 2 is Monday (1 is Sunday).
            ["cron(30 8 ? * 2 *)", "2026-12-05T10:00:00Z", "2026-12-07T08:30:00.000Z"],
            ["cron(30 8 ? * MON-FRI *)", "2026-12-04T09:00:00Z", "2026-12-07T08:30:00.000Z"],
            ["cron(0 0 1 JAN,JUL ? *)", "2026-12-03T00:00:00Z", "2027-01-01T00:00:00.000Z"],
            ["cron(0 12 29 2 ? *)", "2026-03-01T00:00:00Z", "2028-02-29T12:00:00.000Z"],
            ["cron(0 12 31 12 ? 2026-2027)", "2026-12-31T12:00:00Z", "2027-12-31T12:00:00.000Z"],
            ["rate(1 day)", "2026-12-03T16:40:12Z", "2026-12-04T16:40:12.000Z"],
            ["rate(5 minutes)", "2026-12-03T16:40:12Z", "2026-12-03T16:45:12.000Z"],
        ];
        for (const [expression, after, expected] of cases) {
            it(`${expression} after ${after} is ${expected}`, () => {
                assert.strictEqual(next(expression, after), expected);
            });
        }

        it("never, for a year that has passed; and names L, W and #, which only AWS computes", () => {
            assert.strictEqual(next("cron(0 0 1 1 ? 2025)", "2026-01-01T00:00:00Z"), undefined);
            for (const expression of ["cron(0 0 L * ? *)", "cron(0 0 ? * 6#3 *)", "cron(0 0 15W * ? *)"]) {
                assert.match((localSchedule(expression) as { problem: string }).problem, /L, W or #/);
            }
        });
    });

    describe("in the cost estimate", () => {
        it("count the runs a month of a schedule: a daily cron 365 / 12, a rate by its interval", () => {
            assert.deepStrictEqual(
                ["cron(0 3 * * ? *)", "rate(1 day)", "cron(*/15 * * * ? *)", "rate(5 minutes)", "cron(0 6 ? * MON *)", "cron(0 0 1 * ? *)"].map((e) =>
                    Number(runsPerMonth(e)!.toFixed(4)),
                ),
                [30.4167, 30.4167, 2920, 8760, 4.3333, 1],
            );
        });

        it("price each job's Fargate minutes, state transitions and Scheduler invocations, and its repository and alarm metrics", () => {
            const settings = loadSettings(stackConfig("dev"), { project: "berth", stack: "dev" }, catalog);
            const usage = { ...USAGE_ASSUMPTIONS.test, jobRunMinutes: 6 };
            const nightly = resolveJobs([job({ cpu: 512, memory: 1024 })], [])[0];
            const withJob = estimateCost(settings, catalog, usage, [nightly]);
            const without = estimateCost(settings, catalog, usage, []);
            const line = withJob.items.find((i) => i.id === "job:nightly")!;
            // 365 / 12 runs of 6 minutes at 0.5 vCPU ($0.04048/h) and 1 GB ($0.004445/h), $0.025 per 1,000 transitions, $1 per million invocations.
            const runs = 365 / 12;
            const expected = runs * 0.1 * (0.5 * 0.04048 + 1 * 0.004445) + (runs * 0.025) / 1000 + runs / 1e6;
            assert.strictEqual(line.monthly, Math.round(expected * 100) / 100);
            assert.match(line.detail, /^30\.417 runs \(cron\(0 3 \* \* \? \*\)\) × \(6 min of 0\.5 vCPU\/1 GB x86/);
            assert.strictEqual(
                without.items.find((i) => i.id.startsWith("job:")),
                undefined,
            );
            assert.ok(withJob.items.find((i) => i.id === "ecr")!.monthly > without.items.find((i) => i.id === "ecr")!.monthly, "the job's repository");
            assert.match(
                withJob.items.find((i) => i.id === "alarms")!.detail,
                new RegExp(`^\\(${Number(/^\((\d+)/.exec(without.items.find((i) => i.id === "alarms")!.detail)![1]) + 2} metrics`),
            );
        });
    });

    describe("the state machine's definition", () => {
        const run = { cluster: "c", taskDefinition: "td:3", subnets: ["s1", "s2"], securityGroups: ["g"], timeoutSeconds: 1800, retries: 2 };

        it("runs one task with runTask.sync on Fargate, without a public IP, within the timeout, retried with backoff", () => {
            const d = jobDefinition(run, "x") as any;
            const state = d.States[d.StartAt];
            assert.strictEqual(d.TimeoutSeconds, 1800);
            assert.strictEqual(state.Resource, RUN_TASK_SYNC);
            assert.deepStrictEqual(state.Parameters.NetworkConfiguration.AwsvpcConfiguration, {
                Subnets: ["s1", "s2"],
                SecurityGroups: ["g"],
                AssignPublicIp: "DISABLED",
            });
            assert.strictEqual(state.Parameters.LaunchType, "FARGATE");
            assert.deepStrictEqual(state.Retry, [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 1.5 }]);
            assert.strictEqual(state.End, true);
        });

        it("has no Retry for a job without retries", () => {
            const d = jobDefinition({ ...run, retries: 0 }, "x") as any;
            assert.strictEqual(d.States[d.StartAt].Retry, undefined);
        });
    });

    describe("deployed (dev, under mocks)", () => {
        let all: Recorded[];
        let outputs: any;
        const one = (type: string, name: string) => {
            const found = all.filter((r) => r.type === type && r.name === name);
            assert.strictEqual(found.length, 1, `${type} ${name}: ${found.length} found`);
            return found[0];
        };
        const policyOf = (role: string): Document => JSON.parse(one(T.rolePolicy, `retention-${role}-policy`).inputs.policy);

        before(async function () {
            this.timeout(120_000);
            const run = await runBerth(stackConfig("dev"));
            all = run.h.resources;
            outputs = run.outputs;
        });

        it("schedules the state machine with EventBridge Scheduler, on the job's schedule in UTC, through a role that may start it alone", () => {
            const schedule = one(T.schedule, "retention-schedule");
            const machine = one(T.stateMachine, "retention-run");
            assert.strictEqual(schedule.inputs.scheduleExpression, jobs.find((j) => j.name === "retention")!.schedule);
            assert.strictEqual(schedule.inputs.scheduleExpressionTimezone, "UTC");
            assert.strictEqual(schedule.inputs.target.arn, machine.outputs.arn);
            const role = one(T.role, "retention-scheduler-role");
            assert.strictEqual(schedule.inputs.target.roleArn, role.outputs.arn);
            const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement[0];
            assert.deepStrictEqual([trust.Principal.Service, trust.Condition.StringEquals["aws:SourceAccount"]], ["scheduler.amazonaws.com", ACCOUNT]);
            const policy = policyOf("scheduler-role");
            assert.strictEqual(evaluate([policy], { action: "states:StartExecution", resource: machine.outputs.arn }), "allow");
            const restart = all.find((r) => r.type === T.stateMachine && r.name !== "retention-run")!;
            assert.notStrictEqual(
                evaluate([policy], { action: "states:StartExecution", resource: restart.outputs.arn }),
                "allow",
                "the scheduler may start another state machine",
            );
            assert.notStrictEqual(evaluate([policy], { action: "states:StopExecution", resource: machine.outputs.arn }), "allow");
        });

        it("runs the job's task definition in the cluster's private subnets with no public IP, its timeout and retries, logging every execution", () => {
            const machine = one(T.stateMachine, "retention-run");
            const definition = JSON.parse(machine.inputs.definition);
            const state = definition.States[definition.StartAt];
            const task = one(T.taskDefinition, "retention-task");
            const privateSubnets = all
                .filter((r) => r.type === T.subnet && /private/.test(r.name))
                .map((s) => s.id)
                .sort();
            assert.ok(privateSubnets.length > 0);
            assert.deepStrictEqual([...state.Parameters.NetworkConfiguration.AwsvpcConfiguration.Subnets].sort(), privateSubnets);
            assert.strictEqual(state.Parameters.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, "DISABLED");
            assert.deepStrictEqual(state.Parameters.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups, [one(T.sg, "retention-sg").id]);
            assert.strictEqual(state.Parameters.TaskDefinition, task.outputs.arn);
            assert.strictEqual(state.Parameters.Cluster, all.find((r) => r.type === T.cluster)!.outputs.arn);
            assert.strictEqual(definition.TimeoutSeconds, 30 * 60);
            assert.strictEqual(state.Retry[0].MaxAttempts, 2);
            const logs = one(T.logGroup, "retention-sfn-logs");
            assert.match(logs.inputs.name, /^\/aws\/vendedlogs\/states\/berth-dev-job-retention$/);
            assert.deepStrictEqual(machine.inputs.loggingConfiguration, { level: "ALL", includeExecutionData: true, logDestination: `${logs.outputs.arn}:*` });
        });

        it("gives the task no port, the database's variables and the commit, and lets it into the database alone", () => {
            const task = one(T.taskDefinition, "retention-task");
            const [container, ...others] = JSON.parse(task.inputs.containerDefinitions);
            assert.deepStrictEqual(others, [], "a job's task has no sidecar");
            assert.deepStrictEqual(container.portMappings, []);
            assert.strictEqual(container.memory, Number(task.inputs.memory));
            const env = Object.fromEntries(container.environment.map((e: any) => [e.name, e.value]));
            assert.ok(env.DB_HOST && env.DB_NAME && env.BERTH_COMMIT, JSON.stringify(env));
            assert.deepStrictEqual(container.secrets.map((s: any) => s.name).sort(), ["DB_PASSWORD", "DB_USER"]);
            const toDatabase = one(T.ingress, "retention-to-database");
            assert.strictEqual(toDatabase.inputs.referencedSecurityGroupId, one(T.sg, "retention-sg").id);
            assert.deepStrictEqual(
                all.filter((r) => r.type === T.ingress && r.inputs.securityGroupId === one(T.sg, "retention-sg").id),
                [],
                "something may connect to the job",
            );
        });

        it("lets Step Functions run exactly the job's family in the cluster, stop only the cluster's tasks, and pass exactly the job's two roles", () => {
            const policy = policyOf("sfn-role");
            const cluster = all.find((r) => r.type === T.cluster)!;
            const inCluster = { "ecs:cluster": cluster.outputs.arn };
            const family = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/berth-dev-retention`;
            assert.strictEqual(evaluate([policy], { action: "ecs:RunTask", resource: `${family}:7`, context: inCluster }), "allow");
            assert.notStrictEqual(
                evaluate([policy], {
                    action: "ecs:RunTask",
                    resource: `${family}:7`,
                    context: { "ecs:cluster": `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other` },
                }),
                "allow",
            );
            assert.notStrictEqual(
                evaluate([policy], {
                    action: "ecs:RunTask",
                    resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/berth-dev-users:7`,
                    context: inCluster,
                }),
                "allow",
            );
            assert.strictEqual(
                evaluate([policy], { action: "ecs:StopTask", resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster.outputs.name}/0123abcd` }),
                "allow",
            );
            assert.notStrictEqual(
                evaluate([policy], { action: "ecs:StopTask", resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/other-cluster/0123abcd` }),
                "allow",
            );
            const roles = ["retention-execution-role", "retention-task-role"].map((r) => one(T.role, r).outputs.arn);
            for (const role of roles) {
                assert.strictEqual(
                    evaluate([policy], { action: "iam:PassRole", resource: role, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }),
                    "allow",
                );
            }
            const others = all.filter((r) => r.type === T.role && !roles.includes(r.outputs.arn));
            assert.ok(others.length > 5);
            for (const other of others) {
                assert.notStrictEqual(
                    evaluate([policy], { action: "iam:PassRole", resource: other.outputs.arn, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }),
                    "allow",
                    other.name,
                );
            }
            assert.strictEqual(
                evaluate([policy], { action: "events:PutRule", resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForECSTaskRule` }),
                "allow",
            );
            assert.notStrictEqual(
                evaluate([policy], { action: "events:PutRule", resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/anything-else` }),
                "allow",
            );
            assert.notStrictEqual(
                evaluate([policy], { action: "ecs:UpdateService", resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/berth-cluster/users` }),
                "allow",
            );
        });

        it("keeps the job's state machine within the stack's boundary: no other stack's task families or roles", () => {
            const boundary: Document = JSON.parse(one(T.policy, "berth-role-boundary").inputs.policy);
            const other = tagged({ project: "berth", stack: "other" });
            const denied: Array<[string, string]> = [
                ["ecs:RunTask", `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/berth-other-retention:1`],
                ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/berth/other/retention-task-role-1234567`],
                ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/admin`],
                ["events:PutRule", `arn:aws:events:${REGION}:${ACCOUNT}:rule/any`],
            ];
            for (const [action, resource] of denied) {
                assert.notStrictEqual(evaluate([boundary], { action, resource, context: other }), "allow", `${action} on ${resource}`);
            }
        });

        it("meets AWS's rules that dev does not relax: the state machine's logging (FSBP StepFunctions.1), the ECS task definition rules", () => {
            const own = all.filter((r) => r.name.startsWith("retention-"));
            const findings = evaluateRules(all).filter((f) => own.some((r) => f.resource === `${r.type.split(":").pop()} ${r.name}`));
            const evaluated = new Set(findings.map((f) => f.rule));
            assert.ok(evaluated.has("step-functions-state-machine-logging-enabled"), [...evaluated].join(", "));
            assert.ok([...evaluated].filter((r) => r.startsWith("ecs-")).length >= 3, [...evaluated].join(", "));
            // dev relaxes some rules on purpose (its log groups' retention and key), for the services' log groups as for these.
            const relaxed = relaxedRules(loadSettings(stackConfig("dev"), { project: "berth", stack: "dev" }, catalog));
            assert.ok(relaxed.size > 0);
            assert.deepStrictEqual(
                findings.filter((f) => f.compliance === "NON_COMPLIANT" && !relaxed.has(f.rule)),
                [],
            );
        });

        it("alarms to the stack's topic when a run fails or times out", () => {
            const alarm = one(T.alarm, "retention-failed");
            const machine = one(T.stateMachine, "retention-run");
            const metrics = alarm.inputs.metricQueries
                .filter((q: any) => q.metric)
                .map((q: any) => [q.metric.namespace, q.metric.metricName, q.metric.dimensions.StateMachineArn]);
            assert.deepStrictEqual(metrics, [
                ["AWS/States", "ExecutionsFailed", machine.outputs.arn],
                ["AWS/States", "ExecutionsTimedOut", machine.outputs.arn],
            ]);
            assert.strictEqual(alarm.inputs.name, "berth-dev-retention-failed");
            assert.strictEqual(alarm.inputs.treatMissingData, "notBreaching");
            const topic = all.find((r) => r.type === T.topic && r.parentType === "berth:alarms:AlarmTopic")!;
            assert.deepStrictEqual(alarm.inputs.alarmActions, [topic.outputs.arn]);
        });

        it("outputs each job's state machine, schedule and log group", () => {
            assert.deepStrictEqual(
                Object.keys(outputs.jobs),
                jobs.map((j) => j.name),
            );
            assert.strictEqual(outputs.jobs.retention.stateMachineArn, one(T.stateMachine, "retention-run").outputs.arn);
            assert.strictEqual(outputs.jobs.retention.logGroupName, "/berth/dev/retention");
            assert.strictEqual(outputs.jobs.retention.schedule, "cron(0 3 * * ? *)");
        });
    });
});
