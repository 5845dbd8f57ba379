/**
 * The deployment check's logic against a faked ECS API that replays what ECS reports over time.
 */
import * as assert from "assert";
import { RolloutError, waitForRollout, type EcsApi, type EcsService, type EcsStoppedTask } from "../components/rolloutCheck";

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
    };
    return api;
}

const deployment = (id: string, taskDefinition: string, rolloutState: string, status: string, extra: object = {}) =>
    ({ id, taskDefinition, rolloutState, status, desiredCount: 2, runningCount: 0, ...extra });

const crashed: EcsStoppedTask[] = [
    { taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/aaa111", taskDefinitionArn: NEW, stoppedReason: "Essential container in task exited", containers: [{ name: "users", exitCode: 1 }] },
    { taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/old999", taskDefinitionArn: OLD, stoppedReason: "Scaling activity initiated by deployment" },
];

/** A clock that moves only when the check sleeps. */
function clock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => { t += ms; } };
}

async function failure(api: EcsApi, timeoutMs = 60_000): Promise<RolloutError> {
    const error = await waitForRollout(api, target, { timeoutMs, pollMs: 15_000, ...clock() }).then(() => undefined, (e: unknown) => e);
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

    it("fails a deployment the circuit breaker rolled back, naming the service, the state and why its tasks stopped", async () => {
        const api = fakeEcs([
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY")] },
            {
                taskDefinition: OLD,
                deployments: [
                    deployment("ecs-svc/3", OLD, "IN_PROGRESS", "PRIMARY"),
                    deployment("ecs-svc/2", NEW, "FAILED", "ACTIVE", { rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." }),
                ],
            },
        ], crashed);
        const error = await failure(api);
        assert.match(error.message, /^service "users-service-1234567" did not roll out berth-dev-users:8: FAILED: deployment ecs-svc\/2 of berth-dev-users:8 is FAILED: ECS deployment circuit breaker: tasks failed to start\.; ECS rolled the service back to berth-dev-users:7/);
        assert.match(error.message, /task aaa111: Essential container in task exited \(container users: exit code 1\)/);
        assert.doesNotMatch(error.message, /old999/, "a task of another task definition is no reason");
    });

    it("fails a rollback that already completed, when the failed deployment left the list", async () => {
        const api = fakeEcs([{ taskDefinition: OLD, deployments: [deployment("ecs-svc/3", OLD, "COMPLETED", "PRIMARY", { runningCount: 2 })] }], crashed);
        const error = await failure(api);
        assert.match(error.message, /FAILED: the service runs berth-dev-users:7, not berth-dev-users:8: its deployment was rolled back/);
        assert.match(error.message, /task aaa111/);
    });

    it("fails a first deploy that failed with no earlier version to roll back to", async () => {
        const api = fakeEcs([
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/1", NEW, "IN_PROGRESS", "PRIMARY")] },
            { taskDefinition: NEW, deployments: [deployment("ecs-svc/1", NEW, "FAILED", "PRIMARY", { rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.", failedTasks: 3 })] },
        ], crashed);
        const error = await failure(api);
        assert.match(error.message, /is FAILED: ECS deployment circuit breaker: tasks failed to start\.; no earlier deployment completed, so there was nothing to roll back to and no task runs/);
    });

    it("fails a deployment still in progress at the timeout, having asked ECS until then", async () => {
        const api = fakeEcs([{ taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 1 }), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")] }]);
        const error = await failure(api, 60_000);
        assert.match(error.message, /still IN_PROGRESS: deployment ecs-svc\/2 of berth-dev-users:8 is IN_PROGRESS \(1 of 2 tasks running\); gave up after 60 s/);
        assert.strictEqual(api.describeCalls, 5, "polled every 15 s for 60 s");
    });
});

describe("deployment check with deployment alarms", () => {
    const ALARMS = ["berth-dev-users-5xx-rate"];
    const watched = { deploymentConfiguration: { alarms: { alarmNames: ALARMS, enable: true, rollback: true } } };
    // ECS does not document the reason's wording for an alarm; any FAILED deployment must fail the check.
    const alarmReason = "ECS deployment detected triggered alarm(s) on the service.";
    const scaledIn: EcsStoppedTask[] = [
        { taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/berth-cluster/bbb222", taskDefinitionArn: NEW, stoppedReason: "Scaling activity initiated by (deployment ecs-svc/3)" },
    ];

    it("waits through the bake time, then fails a version an alarm caught after its tasks became healthy, naming the alarms", async () => {
        const lines: string[] = [];
        const api = fakeEcs([
            { ...watched, taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY"), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE", { runningCount: 2 })] },
            { ...watched, taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 2 }), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")] },
            { ...watched, taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 2 }), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")] },
            {
                ...watched,
                taskDefinition: OLD,
                deployments: [
                    deployment("ecs-svc/3", OLD, "IN_PROGRESS", "PRIMARY"),
                    deployment("ecs-svc/2", NEW, "FAILED", "ACTIVE", { runningCount: 2, rolloutStateReason: alarmReason }),
                ],
            },
        ], scaledIn);
        const error = await waitForRollout(api, target, { timeoutMs: 30 * 60_000, pollMs: 15_000, log: (l) => lines.push(l), ...clock() })
            .then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof RolloutError, `expected a RolloutError, got ${error}`);
        assert.match(error.message, /FAILED: deployment ecs-svc\/2 of berth-dev-users:8 is FAILED: ECS deployment detected triggered alarm\(s\) on the service\.; ECS rolled the service back to berth-dev-users:7/);
        assert.match(error.message, /its deployments fail when one of these alarms goes to ALARM: berth-dev-users-5xx-rate/);
        assert.ok(lines.some((l) => /all 2 tasks running; ECS watches the deployment alarms until the bake time ends/.test(l)), lines.join("\n"));
        assert.strictEqual(api.describeCalls, 4, "healthy tasks alone do not end the check: the bake time does");
    });

    it("fails once the alarm's rollback completed and the failed deployment left the list, naming the alarms", async () => {
        const api = fakeEcs([{ ...watched, taskDefinition: OLD, deployments: [deployment("ecs-svc/3", OLD, "COMPLETED", "PRIMARY", { runningCount: 2 })] }], scaledIn);
        const error = await failure(api);
        assert.match(error.message, /FAILED: the service runs berth-dev-users:7, not berth-dev-users:8: its deployment was rolled back; its deployments fail when one of these alarms goes to ALARM: berth-dev-users-5xx-rate/);
        assert.match(error.message, /task bbb222: Scaling activity initiated by/);
    });

    it("passes a deployment whose bake time ended without an alarm", async () => {
        const api = fakeEcs([
            { ...watched, taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "IN_PROGRESS", "PRIMARY", { runningCount: 2 }), deployment("ecs-svc/1", OLD, "COMPLETED", "ACTIVE")] },
            { ...watched, taskDefinition: NEW, deployments: [deployment("ecs-svc/2", NEW, "COMPLETED", "PRIMARY", { runningCount: 2 })] },
        ]);
        await waitForRollout(api, target, { timeoutMs: 60_000, pollMs: 15_000, ...clock() });
        assert.strictEqual(api.describeCalls, 2);
    });
});

describe("deployment check provider", () => {
    it("serializes, and confirms again only when the task definition or the service changes", async () => {
        const { Harness } = await import("./support/pulumi");
        const h = new Harness();
        await h.install({});
        const { DeploymentCheck } = await import("../components/deploymentCheck");
        new DeploymentCheck("c", { region: "eu-west-1", cluster: "k", service: "s", taskDefinitionArn: NEW });
        await h.settle();
        const text: string = h.one("pulumi-nodejs:dynamic/berth:DeploymentCheck", "c").inputs.__provider;
        // What the CLI's dynamic provider host does with it.
        const mod = { exports: {} as { handler: () => Record<string, (...args: unknown[]) => Promise<any>> } };
        new Function("exports", "module", "require", text)(mod.exports, mod, require);
        const provider = mod.exports.handler();
        const inputs = { region: "eu-west-1", profile: "", cluster: "k", service: "s", taskDefinitionArn: NEW, timeoutSeconds: 1800, pollSeconds: 15 };
        assert.deepStrictEqual(await provider.diff("id", inputs, { ...inputs, timeoutSeconds: 60 }), { changes: false });
        assert.deepStrictEqual(await provider.diff("id", inputs, { ...inputs, taskDefinitionArn: OLD }), { changes: true });
        assert.deepStrictEqual(await provider.diff("id", inputs, { ...inputs, service: "t" }), { changes: true });
        assert.strictEqual(typeof provider.create, "function");
        assert.strictEqual(typeof provider.update, "function");
    });
});
