/**
 * The deployment check's logic against a faked ECS API that replays what ECS reports over time.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import type * as net from "net";
import * as os from "os";
import * as path from "path";
import { credentialsFor } from "../core/awsIdentity";
import {
    RolloutError,
    waitForRollout,
    type EcsApi,
    type ElbApi,
    type EcsService,
    type EcsServiceDeployment,
    type EcsServiceDeploymentBrief,
    type EcsStoppedTask,
} from "../core/rolloutCheck";
import { T } from "./support/types";

const NEW = "arn:aws:ecs:eu-west-1:123456789012:task-definition/berth-dev-users:8";
const OLD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/berth-dev-users:7";
const target = { cluster: "berth-cluster", service: "users-service-1234567", taskDefinitionArn: NEW };

/** An ECS that answers DescribeServices with the next snapshot each call (the last one repeats). */
function fakeEcs(snapshots: EcsService[], stopped: EcsStoppedTask[] = []): EcsApi & { describeCalls: number } {
    const api = {
        describeCalls: 0,
        async describeServices(input: { cluster: string; services: string[] }) {
            assert.deepStrictEqual(input, { cluster: target.cluster, services: [target.service] });
            const snapshot = snapshots[Math.min(api.describeCalls, snapshots.length - 1)];
            api.describeCalls++;
            return { services: [snapshot] };
        },
        async listTasks(input: { cluster: string; serviceName: string; desiredStatus: "STOPPED" }) {
            assert.strictEqual(input.desiredStatus, "STOPPED");
            return { taskArns: stopped.map((t) => t.taskArn!) };
        },
        async describeTasks(input: { cluster: string; tasks: string[] }) {
            return { tasks: stopped.filter((t) => input.tasks.includes(t.taskArn!)) };
        },
        ...rollingOnly,
    };
    return api;
}

/** A rolling update is judged from DescribeServices alone: these calls must not happen. */
const rollingOnly: Pick<EcsApi, "listServiceDeployments" | "describeServiceDeployments" | "describeServiceRevisions"> = {
    listServiceDeployments: async () => assert.fail("a rolling update is judged from DescribeServices"),
    describeServiceDeployments: async () => assert.fail("a rolling update is judged from DescribeServices"),
    describeServiceRevisions: async () => assert.fail("a rolling update is judged from DescribeServices"),
};

const deployment = (id: string, taskDefinition: string, rolloutState: string, status: string, extra: object = {}) => ({
    id,
    taskDefinition,
    rolloutState,
    status,
    desiredCount: 2,
    runningCount: 0,
    ...extra,
});

const crashed: EcsStoppedTask[] = [
    {
        taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/aaa111",
        taskDefinitionArn: NEW,
        stoppedReason: "Essential container in task exited",
        containers: [{ name: "users", exitCode: 1 }],
    },
    {
        taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/old999",
        taskDefinitionArn: OLD,
        stoppedReason: "Scaling activity initiated by deployment",
    },
];

/** A clock that moves only when the check sleeps. */
function clock() {
    let t = 0;
    return {
        now: () => t,
        sleep: async (ms: number) => {
            t += ms;
        },
    };
}

async function failure(api: EcsApi, timeoutMs = 60_000, of: typeof target & { strategy?: string } = target, elb?: ElbApi): Promise<RolloutError> {
    const error = await waitForRollout(api, of, { timeoutMs, pollMs: 15_000, ...clock() }, elb).then(
        () => undefined,
        (e: unknown) => e,
    );
    assert.ok(error instanceof RolloutError, `expected a RolloutError, got ${error}`);
    return error;
}

describe("deployment check", () => {
    it("passes once the deployment of the new task definition COMPLETED and the service runs it", async () => {
        const api = fakeEcs([
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY"), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")] },
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
        ]);
        await waitForRollout(api, target, { timeoutMs: 60_000, pollMs: 15_000, ...clock() });
        assert.strictEqual(api.describeCalls, 2);
    });

    it("waits for the deployment an update keeping the task definition starts, not the one it confirmed before", async () => {
        const api = fakeEcs([
            // Right after the update ECS may still show only the deployment confirmed last time.
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
            {
                taskDefinition: NEW,
                deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "ACTIVE", { runningCount: 2 }), deployment("ecs-svc/3", NEW, "IN_PROGRESS", "PRIMARY")],
            },
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/3", NEW, "COMPLETED", "PRIMARY", { runningCount: 3, desiredCount: 3 })] },
        ]);
        const confirmed = await waitForRollout(api, target, { timeoutMs: 600_000, pollMs: 15_000, after: "ecs-svc/2", ...clock() });
        assert.strictEqual(confirmed, "ecs-svc/3");
        assert.strictEqual(api.describeCalls, 3);
    });

    it("passes an update that started no deployment once ECS has had the grace to list one", async () => {
        const api = fakeEcs([{ taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] }]);
        const lines: string[] = [];
        const confirmed = await waitForRollout(api, target, { timeoutMs: 600_000, pollMs: 15_000, after: "ecs-svc/2", log: (l) => lines.push(l), ...clock() });
        assert.strictEqual(confirmed, "ecs-svc/2");
        assert.strictEqual(api.describeCalls, 5, "four looks within the minute's grace, then the fifth accepts it");
        assert.match(lines[0], /ECS lists no deployment newer than ecs-svc\/2 yet/);
    });

    it("fails a deployment the circuit breaker rolled back, naming the service, the state and why its tasks stopped", async () => {
        const api = fakeEcs(
            [
                { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY")] },
                {
                    taskDefinition: OLD,
                    deployments: [
                        deployment("ecs-svc/3", OLD, "IN_PROGRESS", "PRIMARY"),
                        deployment("ecs-svc/2", NEW, "FAILED", "ACTIVE", { rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." }),
                    ],
                },
            ],
            crashed,
        );
        const error = await failure(api);
        assert.match(
            error.message,
            /^service "users-service-1234567" did not roll out berth-dev-users:8: FAILED: deployment ecs-svc\/2 of berth-dev-users:8 is FAILED: ECS deployment circuit breaker: tasks failed to start\.; ECS rolled the service back to berth-dev-users:7/,
        );
        assert.match(error.message, /task aaa111: Essential container in task exited \(container users: exit code 1\)/);
        assert.doesNotMatch(error.message, /old999/, "a task of another task definition is no reason");
    });

    it("fails a rollback that already completed, when the failed deployment left the list", async () => {
        const api = fakeEcs([{ taskDefinition: OLD, deployments: [deployment("ecs-svc/3", OLD, "COMPLETED", "PRIMARY", { runningCount: 2 })] }], crashed);
        const error = await failure(api, 30 * 60_000);
        assert.match(error.message, /FAILED: the service runs berth-dev-users:7, not berth-dev-users:8: its deployment was rolled back/);
        assert.match(error.message, /task aaa111/);
        assert.strictEqual(api.describeCalls, 5, "four looks in which ECS may not list the new deployment yet, then the verdict");
    });

    it("waits for a deployment ECS does not list yet right after the update, instead of calling it rolled back", async () => {
        const api = fakeEcs([
            { taskDefinition: OLD, deployments: [deployment("ecs-svc/1", OLD, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY"), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")] },
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
        ]);
        await waitForRollout(api, target, { timeoutMs: 60_000, pollMs: 15_000, ...clock() });
        assert.strictEqual(api.describeCalls, 3);
    });

    it("calls a deployment it saw and that then left the list rolled back at once", async () => {
        const api = fakeEcs(
            [
                {
                    taskDefinition: NEW,
                    deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY"), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")],
                },
                { taskDefinition: OLD, deployments: [deployment("ecs-svc/3", OLD, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
            ],
            crashed,
        );
        const error = await failure(api, 30 * 60_000);
        assert.match(error.message, /FAILED: the service runs berth-dev-users:7, not berth-dev-users:8: its deployment was rolled back/);
        assert.strictEqual(api.describeCalls, 2, "no grace once the deployment was seen");
    });

    it("fails a first deploy that failed with no earlier version to roll back to", async () => {
        const api = fakeEcs(
            [
                { taskDefinition: NEW, deployments: [deployment("ecs-svc/1", NEW, "IN_PROGRESS", "PRIMARY")] },
                {
                    taskDefinition: NEW,
                    deployments: [
                        deployment("ecs-svc/1", NEW, "FAILED", "PRIMARY", {
                            rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
                            failedTasks: 3,
                        }),
                    ],
                },
            ],
            crashed,
        );
        const error = await failure(api);
        assert.match(
            error.message,
            /is FAILED: ECS deployment circuit breaker: tasks failed to start\.; no earlier deployment completed, so there was nothing to roll back to and no task runs/,
        );
    });

    it("fails a deployment still in progress at the timeout, having asked ECS until then", async () => {
        const api = fakeEcs([
            {
                taskDefinition: NEW,
                deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 1 }), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")],
            },
        ]);
        const error = await failure(api, 60_000);
        assert.match(
            error.message,
            /still IN_PROGRESS: deployment ecs-svc\/2 of berth-dev-users:8 is IN_PROGRESS \(1 of 2 tasks running\); gave up after 60 s/,
        );
        assert.strictEqual(api.describeCalls, 5, "polled every 15 s for 60 s");
    });
});

describe("deployment check with deployment alarms", () => {
    const ALARMS = ["berth-dev-users-5xx-rate"];
    const watched = { deploymentConfiguration: { alarms: { alarmNames: ALARMS, enable: true, rollback: true } } };
    // ECS does not document the reason's wording for an alarm; any FAILED deployment must fail the check.
    const alarmReason = "ECS deployment detected triggered alarm(s) on the service.";
    const scaledIn: EcsStoppedTask[] = [
        {
            taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/bbb222",
            taskDefinitionArn: NEW,
            stoppedReason: "Scaling activity initiated by (deployment ecs-svc/3)",
        },
    ];

    it("waits through the bake time, then fails a version an alarm caught after its tasks became healthy, naming the alarms", async () => {
        const lines: string[] = [];
        const api = fakeEcs(
            [
                {
                    ...watched,
                    taskDefinition: NEW,
                    deployments: [
                        deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY"),
                        deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE", { runningCount: 2 }),
                    ],
                },
                {
                    ...watched,
                    taskDefinition: NEW,
                    deployments: [
                        deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 2 }),
                        deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE"),
                    ],
                },
                {
                    ...watched,
                    taskDefinition: NEW,
                    deployments: [
                        deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 2 }),
                        deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE"),
                    ],
                },
                {
                    ...watched,
                    taskDefinition: OLD,
                    deployments: [
                        deployment("ecs-svc/3", OLD, "IN_PROGRESS", "PRIMARY"),
                        deployment("ecs-svc/2", NEW, "FAILED", "ACTIVE", { runningCount: 2, rolloutStateReason: alarmReason }),
                    ],
                },
            ],
            scaledIn,
        );
        const error = await waitForRollout(api, target, { timeoutMs: 30 * 60_000, pollMs: 15_000, log: (l) => lines.push(l), ...clock() }).then(
            () => undefined,
            (e: unknown) => e,
        );
        assert.ok(error instanceof RolloutError, `expected a RolloutError, got ${error}`);
        assert.match(
            error.message,
            /FAILED: deployment ecs-svc\/2 of berth-dev-users:8 is FAILED: ECS deployment detected triggered alarm\(s\) on the service\.; ECS rolled the service back to berth-dev-users:7/,
        );
        assert.match(error.message, /its deployments fail when one of these alarms goes to ALARM: berth-dev-users-5xx-rate/);
        assert.ok(
            lines.some((l) => /all 2 tasks running; ECS watches the deployment alarms until the bake time ends/.test(l)),
            lines.join("\n"),
        );
        assert.strictEqual(api.describeCalls, 4, "healthy tasks alone do not end the check: the bake time does");
    });

    it("fails once the alarm's rollback completed and the failed deployment left the list, naming the alarms", async () => {
        const api = fakeEcs(
            [{ ...watched, taskDefinition: OLD, deployments: [deployment("ecs-svc/3", OLD, "COMPLETED", "PRIMARY", { runningCount: 2 })] }],
            scaledIn,
        );
        const error = await failure(api);
        assert.match(
            error.message,
            /FAILED: the service runs berth-dev-users:7, not berth-dev-users:8: its deployment was rolled back; its deployments fail when one of these alarms goes to ALARM: berth-dev-users-5xx-rate/,
        );
        assert.match(error.message, /task bbb222: Scaling activity initiated by/);
    });

    it("passes a deployment whose bake time ended without an alarm", async () => {
        const api = fakeEcs([
            {
                ...watched,
                taskDefinition: NEW,
                deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 2 }), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")],
            },
            { ...watched, taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
        ]);
        await waitForRollout(api, target, { timeoutMs: 60_000, pollMs: 15_000, ...clock() });
        assert.strictEqual(api.describeCalls, 2);
    });
});

describe("deployment check of canary, linear and blue/green deployments", () => {
    const REV = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:service-revision/berth-cluster/users-service-1234567/${n}00000000000000000`;
    const DEP = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:service-deployment/berth-cluster/users-service-1234567/dep${n}`;
    const linear = { ...target, strategy: "linear" };
    const revisions = new Map([
        [REV(7), OLD],
        [REV(8), NEW],
    ]);
    /** ECS's two earlier deployments, and ours, listed in no particular order (the API promises none). */
    const briefs: EcsServiceDeploymentBrief[] = [
        { serviceDeploymentArn: DEP(7), targetServiceRevisionArn: REV(7), status: "SUCCESSFUL", createdAt: new Date("2026-09-01T10:00:00Z") },
        { serviceDeploymentArn: DEP(8), targetServiceRevisionArn: REV(8), status: "IN_PROGRESS", createdAt: new Date("2026-09-02T10:00:00Z") },
        { serviceDeploymentArn: DEP(6), targetServiceRevisionArn: REV(8), status: "ROLLBACK_SUCCESSFUL", createdAt: new Date("2026-08-30T10:00:00Z") },
    ];

    /** An ECS that answers DescribeServiceDeployments with the next snapshot of our deployment each call. */
    function fakeDeployments(snapshots: EcsServiceDeployment[], stopped: EcsStoppedTask[] = []): EcsApi & { looks: number } {
        const api = {
            looks: 0,
            describeServices: async () => assert.fail("these strategies report through service deployments"),
            async listTasks() {
                return { taskArns: stopped.map((t) => t.taskArn!) };
            },
            async describeTasks(input: { tasks: string[] }) {
                return { tasks: stopped.filter((t) => input.tasks.includes(t.taskArn!)) };
            },
            async listServiceDeployments(input: { cluster: string; service: string }) {
                assert.deepStrictEqual([input.cluster, input.service], [target.cluster, target.service]);
                return { serviceDeployments: briefs };
            },
            async describeServiceRevisions(input: { serviceRevisionArns: string[] }) {
                assert.ok(input.serviceRevisionArns.length <= 20, "ECS takes at most 20 ARNs");
                return { serviceRevisions: input.serviceRevisionArns.map((arn) => ({ serviceRevisionArn: arn, taskDefinition: revisions.get(arn) })) };
            },
            async describeServiceDeployments(input: { serviceDeploymentArns: string[] }) {
                assert.deepStrictEqual(input.serviceDeploymentArns, [DEP(8)], "the newest deployment of the new task definition");
                const snapshot = snapshots[Math.min(api.looks, snapshots.length - 1)];
                api.looks++;
                return { serviceDeployments: [{ serviceDeploymentArn: DEP(8), ...snapshot }] };
            },
        };
        return api;
    }

    const shifting = (stage: string, weight: number) => ({
        status: "IN_PROGRESS",
        lifecycleStage: stage,
        targetServiceRevision: { arn: REV(8), requestedTaskCount: 2, runningTaskCount: 2, requestedProductionTrafficWeight: weight },
    });

    it("waits through the traffic steps and the bake time, reporting each, and passes once the deployment is SUCCESSFUL", async () => {
        const lines: string[] = [];
        const api = fakeDeployments([
            { status: "IN_PROGRESS", lifecycleStage: "SCALE_UP", targetServiceRevision: { arn: REV(8), requestedTaskCount: 2, runningTaskCount: 1 } },
            shifting("PRODUCTION_TRAFFIC_SHIFT", 25),
            shifting("PRODUCTION_TRAFFIC_SHIFT", 50),
            shifting("BAKE_TIME", 100),
            { status: "SUCCESSFUL", lifecycleStage: "CLEAN_UP" },
        ]);
        await waitForRollout(api, linear, { timeoutMs: 60 * 60_000, pollMs: 15_000, log: (l) => lines.push(l), ...clock() });
        assert.strictEqual(api.looks, 5, "a healthy new version alone does not end the check: the bake and the clean-up do");
        assert.match(lines[0], /deployment dep8 of berth-dev-users:8 is IN_PROGRESS at SCALE_UP \(1 of 2 new tasks running\)/);
        assert.match(lines[1], /at PRODUCTION_TRAFFIC_SHIFT \(2 of 2 new tasks running; 25 % of production traffic on the new version\)/);
        assert.match(
            lines[3],
            /at BAKE_TIME \(2 of 2 new tasks running; all production traffic on the new version; ECS keeps the old one and watches the deployment alarms until the bake time ends\)/,
        );
        assert.match(lines[4], /rolled out/);
    });

    it("fails as soon as an alarm rolls the traffic back, naming the alarm, the stage and the version ECS returns to", async () => {
        const api = fakeDeployments([
            shifting("BAKE_TIME", 100),
            {
                status: "ROLLBACK_IN_PROGRESS",
                lifecycleStage: "BAKE_TIME",
                statusReason: "Service deployment rolled back because of alarms.",
                rollback: { reason: "Alarm berth-dev-users-5xx-rate is in ALARM state.", serviceRevisionArn: REV(7) },
                alarms: { status: "TRIGGERED", alarmNames: ["berth-dev-users-5xx-rate"], triggeredAlarmNames: ["berth-dev-users-5xx-rate"] },
            },
        ]);
        const error = await failure(api, 60 * 60_000, linear);
        assert.match(
            error.message,
            /^service "users-service-1234567" did not roll out berth-dev-users:8: FAILED: deployment dep8 of berth-dev-users:8 is ROLLBACK_IN_PROGRESS at BAKE_TIME: Service deployment rolled back because of alarms\.; rollback: Alarm berth-dev-users-5xx-rate is in ALARM state\.; ECS rolls the service back to berth-dev-users:7; alarms that went to ALARM: berth-dev-users-5xx-rate/,
        );
        assert.strictEqual(api.looks, 2);
    });

    it("fails a deployment whose new tasks never got healthy, naming the circuit breaker's count and the tasks' reasons", async () => {
        const api = fakeDeployments(
            [
                {
                    status: "ROLLBACK_SUCCESSFUL",
                    lifecycleStage: "SCALE_UP",
                    statusReason: "ECS deployment circuit breaker: tasks failed to start.",
                    rollback: { serviceRevisionArn: REV(7) },
                    deploymentCircuitBreaker: { status: "TRIGGERED", failureCount: 3, threshold: 3 },
                },
            ],
            crashed,
        );
        const error = await failure(api, 60_000, linear);
        assert.match(
            error.message,
            /is ROLLBACK_SUCCESSFUL at SCALE_UP: ECS deployment circuit breaker: tasks failed to start\.; ECS rolled the service back to berth-dev-users:7; the circuit breaker counted 3 failed tasks \(threshold 3\)/,
        );
        assert.match(error.message, /task aaa111: Essential container in task exited \(container users: exit code 1\)/);
    });

    it("fails a rollback that failed too, and a deployment someone stopped", async () => {
        const failedToo = await failure(fakeDeployments([{ status: "ROLLBACK_FAILED", statusReason: "Target group not found." }]), 60_000, linear);
        assert.match(failedToo.message, /is ROLLBACK_FAILED: Target group not found\.; the rollback failed too/);
        const stopped = await failure(fakeDeployments([{ status: "STOPPED", statusReason: "Stopped by user." }]), 60_000, linear);
        assert.match(stopped.message, /is STOPPED: Stopped by user\./);
    });

    it("fails a deployment still shifting at the timeout, with the share of traffic it reached", async () => {
        const error = await failure(fakeDeployments([shifting("PRODUCTION_TRAFFIC_SHIFT", 75)]), 60_000, linear);
        assert.match(
            error.message,
            /still IN_PROGRESS: deployment dep8 of berth-dev-users:8 is IN_PROGRESS at PRODUCTION_TRAFFIC_SHIFT \(2 of 2 new tasks running; 75 % of production traffic on the new version\); gave up after 60 s/,
        );
    });

    it("waits while ECS has not listed the deployment yet", async () => {
        const api = fakeDeployments([{ status: "SUCCESSFUL" }]);
        const list = api.listServiceDeployments;
        let calls = 0;
        api.listServiceDeployments = async (input) => (calls++ === 0 ? { serviceDeployments: [briefs[0]] } : list(input));
        const lines: string[] = [];
        await waitForRollout(api, linear, { timeoutMs: 60_000, pollMs: 15_000, log: (l) => lines.push(l), ...clock() });
        assert.match(lines[0], /ECS lists no deployment of berth-dev-users:8 yet/);
    });
});

describe("deployment check provider", () => {
    it("serializes, and confirms again only when the service is updated, or its task definition, name or strategy changes", async () => {
        const { Harness } = await import("./support/pulumi");
        const h = new Harness();
        await h.install({});
        const { DeploymentCheck } = await import("../components/service/deploymentCheck");
        new DeploymentCheck("c", { region: "eu-west-1", cluster: "k", service: "s", taskDefinitionArn: NEW });
        await h.settle();
        const text: string = h.one(T.check, "c").inputs.__provider;
        // What the CLI's dynamic provider host does with it.
        const mod = { exports: {} as { handler: () => Record<string, (...args: unknown[]) => Promise<any>> } };
        new Function("exports", "module", "require", text)(mod.exports, mod, require);
        const provider = mod.exports.handler();
        const inputs = {
            region: "eu-west-1",
            identity: { assumeRoles: [] },
            cluster: "k",
            service: "s",
            taskDefinitionArn: NEW,
            serviceRevision: "r1",
            strategy: "rolling",
            timeoutSeconds: 1800,
            pollSeconds: 15,
        };
        assert.deepStrictEqual(await provider.diff("id", inputs, { ...inputs, timeoutSeconds: 60 }), { changes: false });
        assert.deepStrictEqual(await provider.diff("id", inputs, { ...inputs, taskDefinitionArn: OLD }), { changes: true });
        assert.deepStrictEqual(await provider.diff("id", inputs, { ...inputs, service: "t" }), { changes: true });
        assert.deepStrictEqual(
            await provider.diff("id", inputs, { ...inputs, serviceRevision: "r2" }),
            { changes: true },
            "every update of the service may start a deployment",
        );
        assert.deepStrictEqual(
            await provider.diff("id", inputs, { ...inputs, strategy: "canary" }),
            { changes: true },
            "a new strategy brings a deployment of its own",
        );
        assert.strictEqual(typeof provider.create, "function");
        assert.strictEqual(typeof provider.update, "function");
    });
});

describe("deployment check of a public service's production rule", () => {
    const RULE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/berth-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
    const BLUE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/users-tg-1234567/73e2d6bc24d8a067";
    const GREEN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/users-tg-alt-7654321/8f3c2a1b0d9e7f65";
    const publicTarget = { ...target, productionRuleArn: RULE };
    const newTasks: EcsStoppedTask[] = ["10.0.1.5", "10.0.2.6"].map((ip, i) => ({
        taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/new${i}`,
        taskDefinitionArn: NEW,
        attachments: [
            {
                type: "ElasticNetworkInterface",
                details: [
                    { name: "subnetId", value: "subnet-1" },
                    { name: "privateIPv4Address", value: ip },
                ],
            },
        ],
    }));
    const oldTask: EcsStoppedTask = {
        taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/old0",
        taskDefinitionArn: OLD,
        attachments: [{ type: "ElasticNetworkInterface", details: [{ name: "privateIPv4Address", value: "10.0.1.9" }] }],
    };

    /** A completed rolling deployment, with the rule's forward weights and each group's targets over time (the last repeats). */
    function fakes(weights: Array<[string, number]>, targetsOverTime: Array<Record<string, Array<[string, string]>>>) {
        let looks = 0;
        const ecs: EcsApi = {
            ...rollingOnly,
            describeServices: async () => ({
                services: [{ taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] }],
            }),
            listTasks: async (input) => ({ taskArns: input.desiredStatus === "RUNNING" ? [...newTasks, oldTask].map((t) => t.taskArn!) : [] }),
            describeTasks: async (input) => ({ tasks: [...newTasks, oldTask].filter((t) => input.tasks.includes(t.taskArn!)) }),
        };
        const elb: ElbApi & { calls: number } = {
            calls: 0,
            async describeRules(input) {
                elb.calls++;
                assert.deepStrictEqual(input, { RuleArns: [RULE] });
                return {
                    Rules: [
                        {
                            RuleArn: RULE,
                            Actions: [
                                { Type: "forward", ForwardConfig: { TargetGroups: weights.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })) } },
                            ],
                        },
                    ],
                };
            },
            async describeTargetHealth(input) {
                const targets = targetsOverTime[Math.min(looks++, targetsOverTime.length - 1)][input.TargetGroupArn] ?? [];
                return { TargetHealthDescriptions: targets.map(([Id, State]) => ({ Target: { Id, Port: 8080 }, TargetHealth: { State } })) };
            },
        };
        return { ecs, elb };
    }

    it("passes once every group the rule sends traffic to holds healthy new tasks", async () => {
        const { ecs, elb } = fakes(
            [
                [BLUE, 0],
                [GREEN, 100],
            ],
            [
                {
                    [GREEN]: [
                        ["10.0.1.5", "healthy"],
                        ["10.0.2.6", "healthy"],
                    ],
                    [BLUE]: [["10.0.1.9", "draining"]],
                },
            ],
        );
        await waitForRollout(ecs, publicTarget, { timeoutMs: 600_000, pollMs: 15_000, ...clock() }, elb);
        assert.strictEqual(elb.calls, 1);
    });

    it("waits while the new tasks' targets are still registering, then passes", async () => {
        const { ecs, elb } = fakes(
            [[BLUE, 100]],
            [
                {
                    [BLUE]: [
                        ["10.0.1.9", "healthy"],
                        ["10.0.1.5", "initial"],
                    ],
                },
                {
                    [BLUE]: [
                        ["10.0.1.5", "healthy"],
                        ["10.0.2.6", "healthy"],
                    ],
                },
            ],
        );
        const lines: string[] = [];
        await waitForRollout(ecs, publicTarget, { timeoutMs: 600_000, pollMs: 15_000, log: (l) => lines.push(l), ...clock() }, elb);
        assert.match(lines[0], /the deployment completed; waiting for the production rule: /);
    });

    it("fails a release whose production rule still forwards to the group without the new tasks, naming the rule, the group and the tasks", async () => {
        // ECS registered the new tasks in the alternate group, while the rule kept sending everything to the old one.
        const { ecs, elb } = fakes(
            [
                [BLUE, 100],
                [GREEN, 0],
            ],
            [
                {
                    [BLUE]: [["10.0.1.9", "healthy"]],
                    [GREEN]: [
                        ["10.0.1.5", "healthy"],
                        ["10.0.2.6", "healthy"],
                    ],
                },
            ],
        );
        const error = await failure(ecs, 600_000, publicTarget as typeof target, elb);
        assert.match(
            error.message,
            /service "users-service-1234567" did not roll out berth-dev-users:8: FAILED: the deployment completed, but the production rule 9683b2d02a6cabee sends 100 % of traffic to target group targetgroup\/users-tg-1234567\/73e2d6bc24d8a067, which holds no healthy task of berth-dev-users:8 \(it holds 10\.0\.1\.9 healthy; the new tasks are 10\.0\.1\.5, 10\.0\.2\.6\)/,
        );
    });

    it("fails a canary's share on a group without the new tasks too", async () => {
        const { ecs, elb } = fakes(
            [
                [BLUE, 90],
                [GREEN, 10],
            ],
            [{ [BLUE]: [["10.0.1.5", "healthy"]], [GREEN]: [] }],
        );
        const error = await failure(ecs, 600_000, publicTarget as typeof target, elb);
        assert.match(
            error.message,
            /sends 10 % of traffic to target group targetgroup\/users-tg-alt-7654321\/8f3c2a1b0d9e7f65, which holds no healthy task of berth-dev-users:8 \(it holds no target;/,
        );
    });

    it("reads no rule for a backend", async () => {
        const { ecs, elb } = fakes([[BLUE, 100]], [{}]);
        await waitForRollout(ecs, target, { timeoutMs: 60_000, pollMs: 15_000, ...clock() }, elb);
        assert.strictEqual(elb.calls, 0);
    });
});

describe("deployment check's credentials", () => {
    let server: http.Server;
    let dir: string;
    const requests: Array<{ authorization?: string; body: URLSearchParams }> = [];
    const saved = process.env.AWS_ENDPOINT_URL_STS;

    before(async () => {
        // A loopback STS: the SDK's service-specific endpoint variable sends AssumeRole here.
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (chunk) => (body += chunk));
            req.on("end", () => {
                requests.push({ authorization: req.headers.authorization, body: new URLSearchParams(body) });
                res.setHeader("content-type", "text/xml");
                res.end(
                    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
                        "<AccessKeyId>ASIAROLEKEY</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-token</SessionToken>" +
                        "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:berth-dev</AssumedRoleId>" +
                        "<Arn>arn:aws:sts::210987654321:assumed-role/deployer/berth-dev</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>",
                );
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-credentials-"));
        fs.writeFileSync(path.join(dir, "credentials"), "[team]\naws_access_key_id = AKIATEAMKEY\naws_secret_access_key = team-secret\n");
        fs.writeFileSync(path.join(dir, "config"), "");
    });

    after(() => {
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
        if (saved === undefined) {
            delete process.env.AWS_ENDPOINT_URL_STS;
        } else {
            process.env.AWS_ENDPOINT_URL_STS = saved;
        }
    });

    const files = () => ({ sharedCredentialsFile: path.join(dir, "credentials"), sharedConfigFile: path.join(dir, "config") });

    it("reads the stack's profile from the stack's shared files", async () => {
        const credentials = await credentialsFor({ profile: "team", ...files(), assumeRoles: [] }, "eu-west-1")!();
        assert.deepStrictEqual([credentials.accessKeyId, credentials.secretAccessKey], ["AKIATEAMKEY", "team-secret"]);
    });

    it("assumes the stack's role with the profile's keys, its external ID, session name and duration", async () => {
        requests.length = 0;
        const role = { roleArn: "arn:aws:iam::210987654321:role/deployer", externalId: "ext-1", sessionName: "berth-dev", duration: "1h" };
        const credentials = await credentialsFor({ profile: "team", ...files(), assumeRoles: [role] }, "eu-west-1")!();
        assert.deepStrictEqual([credentials.accessKeyId, credentials.sessionToken], ["ASIAROLEKEY", "role-token"]);
        assert.strictEqual(requests.length, 1);
        assert.match(requests[0].authorization ?? "", /Credential=AKIATEAMKEY\//, "signed with the profile's keys");
        const body = Object.fromEntries(requests[0].body);
        assert.deepStrictEqual(
            [body.Action, body.RoleArn, body.ExternalId, body.RoleSessionName, body.DurationSeconds],
            ["AssumeRole", role.roleArn, "ext-1", "berth-dev", "3600"],
        );
    });

    it("leaves the SDK's default chain alone when the stack sets nothing", () => {
        assert.strictEqual(credentialsFor({ assumeRoles: [] }, "eu-west-1"), undefined);
    });
});
