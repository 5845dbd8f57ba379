/**
 * Operations: alarms and deployment rollback, the dashboard, capacity, scaling and schedules, ECS Exec and
 * the NAT instance. Pure parts on their own, components under mocks, and one whole program with every
 * operations setting turned on.
 */
import * as assert from "assert";
import { ALARM_THRESHOLDS, alarmDefinitions, serviceAlarmNames, type AlarmSubject } from "../core/alarmRules";
import { SCALING_COOLDOWNS } from "../components/service/autoscaling";
import { dashboardBody, dashboardUrl, type DashboardInput } from "../core/dashboardBody";
import { SERVICE_CONNECT_PROXY } from "../core/fargate";
import { capacityProviderStrategy, FargateService, type FargateServiceArgs } from "../components/service/fargateService";
import { CONTAINER_HEALTH_CHECK, DEPLOYMENT_TIMEOUT, HEALTH_CHECK_GRACE_PERIOD, STOP_TIMEOUT } from "../core/rollout";
import { isTimeZone, scheduleExpressionProblem, schedulesFor, type ScaleSchedule } from "../core/schedule";
import { PRESETS } from "../config";
import { catalog, declarations, resolveCatalog } from "../catalog";
import { serviceArgs } from "./support/fargate";
import { Harness, runBerth, stackConfig, type Recorded } from "./support/pulumi";
import { T } from "./support/types";

const publicSubject: AlarmSubject = {
    family: "berth-dev-api",
    clusterName: "berth-cluster-1234567",
    serviceName: "api-service-7654321",
    expose: {
        kind: "public",
        loadBalancerArnSuffix: "app/berth-alb-1234567/0123456789abcdef",
        targetGroupArnSuffix: "targetgroup/api-tg-1234567/fedcba9876543210",
    },
    minCount: 2,
    containerInsights: false,
    mayRunZeroTasks: false,
};
const backendSubject: AlarmSubject = {
    ...publicSubject,
    family: "berth-dev-users",
    serviceName: "users-service-1111111",
    expose: { kind: "backend", discoveryName: "users" },
};

/** Every metric an alarm reads, with its dimensions. */
function metricsOf(args: Record<string, any>): Array<{ namespace: string; metricName: string; dimensions: Record<string, string> }> {
    if (args.metricQueries) {
        return args.metricQueries.filter((q: any) => q.metric).map((q: any) => q.metric);
    }
    return [{ namespace: args.namespace, metricName: args.metricName, dimensions: args.dimensions }];
}

describe("alarm definitions", () => {
    it("roll a public service back on its 5xx rate and unhealthy targets, and only notify on the rest", () => {
        const defs = alarmDefinitions(publicSubject);
        assert.deepStrictEqual(
            defs
                .filter((d) => d.rollback)
                .map((d) => d.role)
                .sort(),
            ["5xx-rate", "unhealthy-targets"],
        );
        assert.deepStrictEqual(
            defs
                .filter((d) => !d.rollback)
                .map((d) => d.role)
                .sort(),
            ["cpu", "memory", "p99-latency", "tasks-below-desired"],
        );
        const names = serviceAlarmNames("berth-dev-api", "public");
        assert.deepStrictEqual(
            defs
                .filter((d) => d.rollback)
                .map((d) => d.args.name)
                .sort(),
            [...names.rollback].sort(),
            "the names the service rolls back on must be the alarms' own",
        );
        assert.deepStrictEqual(
            defs
                .filter((d) => !d.rollback)
                .map((d) => d.args.name)
                .sort(),
            [...names.notify].sort(),
        );
    });

    it("roll a backend back on the 5xx rate its callers see through Service Connect, in this stack only", () => {
        const defs = alarmDefinitions(backendSubject);
        assert.deepStrictEqual(
            defs.filter((d) => d.rollback).map((d) => d.args.name),
            serviceAlarmNames("berth-dev-users", "backend").rollback,
        );
        const rate = defs.find((d) => d.role === "5xx-rate")!;
        for (const m of metricsOf(rate.args)) {
            assert.strictEqual(m.namespace, "AWS/ECS");
            // The discovery name alone spans every cluster of the account: another stack's backend would count.
            assert.deepStrictEqual(m.dimensions, { TargetDiscoveryName: "users", ClusterName: "berth-cluster-1234567", ServiceName: "users-service-1111111" });
        }
    });

    it("compute the 5xx rate from targets' and the ALB's 5xx over requests, on the service's target group", () => {
        const rate = alarmDefinitions(publicSubject).find((d) => d.role === "5xx-rate")!.args as Record<string, any>;
        const queries: any[] = rate.metricQueries;
        const byId = new Map(queries.map((q) => [q.id, q]));
        assert.deepStrictEqual(
            queries.filter((q) => q.returnData).map((q) => q.id),
            ["rate"],
            "an alarm on metric math returns exactly one series",
        );
        for (const q of queries.filter((x) => x.expression)) {
            for (const ref of q.expression.match(/\b[a-z][A-Za-z0-9_]*\b/g).filter((w: string) => !["IF", "FILL"].includes(w))) {
                assert.ok(byId.has(ref), `${q.id} refers to ${ref}, which no query defines`);
            }
        }
        assert.deepStrictEqual(byId.get("target5xx").metric.dimensions, {
            LoadBalancer: "app/berth-alb-1234567/0123456789abcdef",
            TargetGroup: "targetgroup/api-tg-1234567/fedcba9876543210",
        });
        // AWS publishes the ALB's own 5xx per load balancer only.
        assert.deepStrictEqual(byId.get("alb5xx").metric.dimensions, { LoadBalancer: "app/berth-alb-1234567/0123456789abcdef" });
        assert.strictEqual(byId.get("requests").metric.metricName, "RequestCount");
        assert.strictEqual(rate.threshold, ALARM_THRESHOLDS.errorRate.percent);
        assert.match(
            byId.get("rate").expression,
            new RegExp(`>= ${ALARM_THRESHOLDS.errorRate.minRequests},`),
            "a handful of requests must not roll back a deployment",
        );
        assert.strictEqual(rate.treatMissingData, "notBreaching", "no traffic is no error");
    });

    it("count running tasks from Container Insights when it is on, else from the CPU metric's sample count", () => {
        const free = alarmDefinitions(publicSubject).find((d) => d.role === "tasks-below-desired")!.args as Record<string, any>;
        assert.deepStrictEqual([free.namespace, free.metricName, free.statistic, free.period], ["AWS/ECS", "CPUUtilization", "SampleCount", 60]);
        assert.deepStrictEqual([free.comparisonOperator, free.threshold, free.treatMissingData], ["LessThanThreshold", 2, "breaching"]);
        const scheduled = alarmDefinitions({ ...publicSubject, mayRunZeroTasks: true }).find((d) => d.role === "tasks-below-desired")!.args;
        assert.strictEqual(scheduled.treatMissingData, "notBreaching", "a service scheduled to zero would alarm all night");
        const insights = alarmDefinitions({ ...publicSubject, containerInsights: true }).find((d) => d.role === "tasks-below-desired")!.args as Record<
            string,
            any
        >;
        assert.deepStrictEqual(
            metricsOf(insights)
                .map((m) => `${m.namespace} ${m.metricName}`)
                .sort(),
            ["ECS/ContainerInsights DesiredTaskCount", "ECS/ContainerInsights RunningTaskCount"],
        );
        for (const m of metricsOf(insights)) {
            assert.deepStrictEqual(m.dimensions, { ClusterName: "berth-cluster-1234567", ServiceName: "api-service-7654321" });
        }
    });

    it("measure latency in the unit each namespace publishes", () => {
        const alb = alarmDefinitions(publicSubject).find((d) => d.role === "p99-latency")!.args;
        const sc = alarmDefinitions(backendSubject).find((d) => d.role === "p99-latency")!.args;
        assert.strictEqual(alb.extendedStatistic, "p99");
        assert.strictEqual(Number(sc.threshold), Number(alb.threshold) * 1000, "Service Connect reports milliseconds, the ALB seconds");
    });
});

describe("alarm timings", () => {
    it("let a deployment's bake time and a failed rollout's rollback end before the deployment check gives up", () => {
        // ECS derives the bake time from the deployment alarms' windows; a bad version may trip one at its end.
        const rollbackAlarms = [ALARM_THRESHOLDS.errorRate, ALARM_THRESHOLDS.unhealthyTargets];
        const bake = Math.max(...rollbackAlarms.map((a) => a.period * a.evaluationPeriods));
        const rollback = CONTAINER_HEALTH_CHECK.startPeriod + HEALTH_CHECK_GRACE_PERIOD + STOP_TIMEOUT;
        assert.ok(2 * bake + rollback < DEPLOYMENT_TIMEOUT / 2, `${2 * bake + rollback} s`);
    });

    it("alarm only when most of a window is bad, and scale in slower than out", () => {
        for (const [name, a] of Object.entries(ALARM_THRESHOLDS)) {
            assert.ok(a.datapointsToAlarm <= a.evaluationPeriods, name);
            assert.ok(a.datapointsToAlarm * 2 > a.evaluationPeriods, `${name}: a single bad minute would alarm`);
        }
        assert.ok(SCALING_COOLDOWNS.scaleInCooldown > SCALING_COOLDOWNS.scaleOutCooldown);
    });
});

describe("the dashboard body", () => {
    const input: DashboardInput = {
        region: "eu-west-1",
        clusterName: "berth-cluster-1234567",
        loadBalancerArnSuffix: "app/berth-alb-1234567/0123456789abcdef",
        containerInsights: false,
        services: [
            {
                name: "api",
                kind: "public",
                serviceName: "api-service-7654321",
                targetGroupArnSuffixes: ["targetgroup/api-tg-1234567/fedcba9876543210", "targetgroup/api-tg-alt-7654321/0123456789abcdef"],
                calls: ["users", "orders"],
            },
            { name: "users", kind: "backend", serviceName: "users-service-1111111", discoveryName: "users" },
            // A backend with two callers, and a caller itself.
            { name: "orders", kind: "backend", serviceName: "orders-service-2222222", discoveryName: "orders", calls: ["users"] },
        ],
    };
    const byName = (name: string) => input.services.find((s) => s.name === name)!;
    /** Every metric of the service's widgets, as `[namespace, name, { dimension: value }]`. */
    const metricsOf = (body: any, service: string): Array<{ namespace: string; name: string; dims: Record<string, string> }> => {
        const heading = body.widgets.find((w: any) => w.properties.markdown?.startsWith(`### ${service} `));
        const next = body.widgets.filter((w: any) => w.type === "text" && w.y > heading.y).map((w: any) => w.y);
        const end = next.length > 0 ? Math.min(...next) : Infinity;
        return body.widgets
            .filter((w: any) => w.type === "metric" && w.y > heading.y && w.y < end)
            .flatMap((w: any) => w.properties.metrics)
            .map((m: any[]) => {
                const pairs = m.slice(2).filter((x) => typeof x === "string");
                const dims: Record<string, string> = {};
                for (let i = 0; i < pairs.length; i += 2) {
                    dims[pairs[i]] = pairs[i + 1];
                }
                return { namespace: m[0] as string, name: m[1] as string, dims };
            });
    };

    it("is JSON of widgets that fit the 24-unit grid without overlapping", () => {
        const body = JSON.parse(dashboardBody(input));
        const cells = new Set<string>();
        for (const w of body.widgets) {
            assert.ok(["metric", "text"].includes(w.type));
            assert.ok(w.x >= 0 && w.x + w.width <= 24, `widget at x ${w.x} is ${w.width} wide`);
            for (let x = w.x; x < w.x + w.width; x++) {
                for (let y = w.y; y < w.y + w.height; y++) {
                    assert.ok(!cells.has(`${x},${y}`), `two widgets share ${x},${y}`);
                    cells.add(`${x},${y}`);
                }
            }
            if (w.type === "metric") {
                assert.strictEqual(w.properties.region, "eu-west-1");
                assert.ok(w.properties.metrics.length > 0, `${w.properties.title} shows nothing`);
                for (const m of w.properties.metrics) {
                    const dims = m.slice(2).filter((x: unknown) => typeof x === "string");
                    assert.strictEqual(dims.length % 2, 0, `${m[1]}: dimensions come in name/value pairs`);
                    assert.ok(
                        dims.every((x: string) => x.length > 0),
                        `${m[1]}: an empty dimension`,
                    );
                }
            }
        }
    });

    it("shows requests, 5xx, latency, CPU and memory, and tasks of every service on its own dimensions", () => {
        const body = JSON.parse(dashboardBody(input));
        for (const service of input.services) {
            const heading = body.widgets.find((w: any) => w.properties.markdown === `### ${service.name} (${service.kind})`);
            const row = body.widgets.filter((w: any) => w.type === "metric" && w.y === heading.y + 1);
            assert.deepStrictEqual(
                row.map((w: any) => w.properties.title),
                ["Requests", "5xx", service.kind === "public" ? "Latency (s)" : "Latency (ms)", "CPU and memory (%)", "Tasks"],
            );
            for (const w of row) {
                for (const m of w.properties.metrics) {
                    const text = m.join(" ");
                    if (service.kind === "public" && m[0] === "AWS/ApplicationELB" && m[1] !== "HTTPCode_ELB_5XX_Count") {
                        assert.ok(
                            service.targetGroupArnSuffixes!.some((g) => text.includes(`TargetGroup ${g}`)),
                            text,
                        );
                    } else if (m[0] === "AWS/ECS" && !text.includes("TargetDiscoveryName")) {
                        assert.ok(text.includes(`ServiceName ${service.serviceName}`) && text.includes("ClusterName berth-cluster-1234567"), text);
                    }
                }
            }
        }
    });

    it("shows every service's Service Connect metrics on the dimensions each side's proxy publishes them with", () => {
        const body = JSON.parse(dashboardBody(input));
        const cluster = input.clusterName;
        for (const service of input.services) {
            const metrics = metricsOf(body, service.name);
            const has = (name: string, dims: Record<string, string>) =>
                metrics.some(
                    (m) =>
                        m.namespace === "AWS/ECS" &&
                        m.name === name &&
                        JSON.stringify(Object.entries(m.dims).sort()) === JSON.stringify(Object.entries(dims).sort()),
                );
            // What the service's own proxy receives: its discovery name and its own ECS service.
            if (service.discoveryName) {
                for (const name of ["RequestCount", "ActiveConnectionCount", "NewConnectionCount", "ProcessedBytes"]) {
                    assert.ok(
                        has(name, { ClusterName: cluster, DiscoveryName: service.discoveryName, ServiceName: service.serviceName }),
                        `${service.name}: no ${name} received`,
                    );
                }
                // How it answers each caller, as the caller's proxy sees it: the caller's ECS service.
                const callers = input.services.filter((s) => s.calls?.includes(service.name));
                assert.ok(callers.length > 0);
                for (const caller of callers) {
                    const seen = { ClusterName: cluster, ServiceName: caller.serviceName, TargetDiscoveryName: service.discoveryName };
                    for (const name of [
                        "HTTPCode_Target_2XX_Count",
                        "HTTPCode_Target_3XX_Count",
                        "HTTPCode_Target_4XX_Count",
                        "HTTPCode_Target_5XX_Count",
                        "TargetResponseTime",
                    ]) {
                        assert.ok(has(name, seen), `${service.name}: no ${name} as ${caller.name} sees it`);
                    }
                }
            }
            // Each callee's answers as the service's own proxy sees them.
            for (const callee of (service.calls ?? []).map(byName)) {
                const toward = { ClusterName: cluster, ServiceName: service.serviceName, TargetDiscoveryName: callee.discoveryName! };
                for (const name of ["RequestCountPerTarget", "HTTPCode_Target_5XX_Count", "TargetResponseTime"]) {
                    assert.ok(has(name, toward), `${service.name}: no ${name} toward ${callee.name}`);
                }
            }
            // No Service Connect series names another service as its own.
            for (const m of metrics.filter((x) => "DiscoveryName" in x.dims)) {
                assert.deepStrictEqual([m.dims.DiscoveryName, m.dims.ServiceName], [service.discoveryName, service.serviceName], `${service.name}: ${m.name}`);
            }
        }
    });

    it("shows a public service's requests, 5xx and latency in both target groups, where ECS may have moved its tasks", () => {
        const body = JSON.parse(dashboardBody(input));
        const groupsOf = (title: string, metric: string) =>
            body.widgets
                .filter((w: any) => w.properties.title === title && w.y === body.widgets.find((h: any) => h.properties.markdown === "### api (public)").y + 1)
                .flatMap((w: any) => w.properties.metrics)
                .filter((m: any[]) => m[1] === metric)
                .map((m: any[]) => m[m.indexOf("TargetGroup") + 1]);
        const both = ["targetgroup/api-tg-1234567/fedcba9876543210", "targetgroup/api-tg-alt-7654321/0123456789abcdef"];
        assert.deepStrictEqual([...new Set(groupsOf("Requests", "RequestCount"))], both);
        assert.deepStrictEqual([...new Set(groupsOf("5xx", "HTTPCode_Target_5XX_Count"))], both);
        assert.deepStrictEqual(groupsOf("Latency (s)", "TargetResponseTime"), [both[0], both[0], both[1], both[1]], "p50 and p99 of each group");
    });

    it("takes task counts from Container Insights when it is on", () => {
        const body = JSON.parse(dashboardBody({ ...input, containerInsights: true }));
        const tasks = body.widgets.filter((w: any) => w.properties.title === "Tasks").flatMap((w: any) => w.properties.metrics.map((m: any) => m[1]));
        assert.deepStrictEqual([...new Set(tasks)].sort(), ["DesiredTaskCount", "RunningTaskCount"]);
        assert.strictEqual(
            dashboardUrl("eu-west-1", "berth-dev"),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/berth-dev",
        );
    });
});

describe("schedule expressions", () => {
    const valid = [
        "cron(0 20 ? * MON-FRI *)",
        "cron(30 6 ? * 2-6 *)",
        "cron(0 0 1 * ? *)",
        "at(2027-03-01T08:00:00)",
        "rate(1 hour)",
        "rate(15 minutes)",
        "rate(2 days)",
    ];
    for (const expression of valid) {
        it(`takes ${expression}`, () => assert.strictEqual(scheduleExpressionProblem(expression), undefined));
    }
    const invalid: Array<[string, RegExp]> = [
        ["cron(0 20 * * *)", /Expected 6 values/],
        ["cron(0 20 * * MON-FRI *)", /both daysOfMonth and daysOfWeek/],
        ["cron(61 20 ? * * *)", /minutes field is bigger than upper limit/],
        ["at(2027-13-01T08:00:00)", /does not exist/],
        ["at(2027-03-01 08:00:00)", /write cron/],
        ["rate(0 minutes)", /at least 1/],
        ["rate(5 minute)", /write rate\(5 minutes\)/],
        ["every night", /write cron/],
    ];
    for (const [expression, message] of invalid) {
        it(`refuses ${expression}`, () => assert.match(scheduleExpressionProblem(expression) ?? "accepted", message));
    }

    it("knows IANA time zones as written", () => {
        assert.ok(isTimeZone("Europe/Berlin"));
        assert.ok(isTimeZone("America/Argentina/Buenos_Aires"));
        assert.ok(isTimeZone("UTC"));
        assert.ok(!isTimeZone("Mars/Olympus_Mons"));
        assert.ok(!isTimeZone("Europe Berlin"));
        assert.ok(!isTimeZone(""));
    });

    it("apply to every service unless they name some", () => {
        const schedules: ScaleSchedule[] = [
            { name: "a", schedule: "rate(1 day)", minCount: 0 },
            { name: "b", schedule: "rate(1 day)", minCount: 1, services: ["api"] },
        ];
        assert.deepStrictEqual(
            schedulesFor("api", schedules).map((s) => s.name),
            ["a", "b"],
        );
        assert.deepStrictEqual(
            schedulesFor("users", schedules).map((s) => s.name),
            ["a"],
        );
    });
});

describe("capacity and sizing", () => {
    it("splits tasks above the on-demand base between FARGATE and FARGATE_SPOT by the Spot share", () => {
        assert.deepStrictEqual(capacityProviderStrategy({ onDemandBase: 0, spotPercent: 100 }), [
            { capacityProvider: "FARGATE", base: 0, weight: 0 },
            { capacityProvider: "FARGATE_SPOT", weight: 100 },
        ]);
        const strategy = capacityProviderStrategy({ onDemandBase: 2, spotPercent: 30 });
        const total = strategy.reduce((sum, s) => sum + s.weight, 0);
        assert.strictEqual(strategy.find((s) => s.capacityProvider === "FARGATE_SPOT")!.weight / total, 0.3);
        assert.deepStrictEqual(
            strategy.filter((s) => (s.base ?? 0) > 0).map((s) => s.capacityProvider),
            ["FARGATE"],
            "only one provider may have a base",
        );
    });

    it("leave prod's services half a vCPU and 1 GiB after the Service Connect proxy's recommended share", () => {
        assert.ok(PRESETS.prod.cpu - SERVICE_CONNECT_PROXY.cpu >= 512, `${PRESETS.prod.cpu - SERVICE_CONNECT_PROXY.cpu} CPU units`);
        assert.ok(PRESETS.prod.memory - SERVICE_CONNECT_PROXY.memoryMiB >= 1024 - SERVICE_CONNECT_PROXY.memoryMiB);
        // test shares its quarter vCPU with the proxy on purpose (docs/scaling.md, "Task sizes and the Service Connect proxy").
        assert.ok(PRESETS.test.memory - SERVICE_CONNECT_PROXY.memoryMiB >= 256);
    });
});

const publicExpose = {
    kind: "public" as const,
    listenerArn: "l",
    loadBalancerSecurityGroupId: "sg",
    pathPatterns: [],
    priority: 10,
    loadBalancerArnSuffix: "app/alb/0123",
};

describe("FargateService operations", () => {
    async function mocked(): Promise<Harness> {
        const h = new Harness();
        await h.install({});
        return h;
    }

    it("runs on on-demand FARGATE by default, and lists its deployment alarms once, with rollback", async () => {
        const h = await mocked();
        new FargateService("x", serviceArgs({ deploymentAlarmNames: ["berth-test-x-5xx-rate", "berth-test-x-5xx-rate", "extra"] }));
        await h.settle();
        const svc = h.one(T.service, "x-service");
        assert.deepStrictEqual(svc.inputs.capacityProviderStrategies, [
            { capacityProvider: "FARGATE", base: 0, weight: 100 },
            { capacityProvider: "FARGATE_SPOT", weight: 0 },
        ]);
        assert.deepStrictEqual(svc.inputs.alarms, { alarmNames: ["berth-test-x-5xx-rate", "extra"], enable: true, rollback: true });
        assert.strictEqual(svc.inputs.enableExecuteCommand, false);
    });

    it("leaves deployment alarms off when it has none", async () => {
        const h = await mocked();
        new FargateService("x", serviceArgs());
        await h.settle();
        assert.strictEqual(h.one(T.service, "x-service").inputs.alarms, undefined);
    });

    it("puts a service with a schedule under Application Auto Scaling even at a fixed count, with the schedule's zone", async () => {
        const h = await mocked();
        new FargateService(
            "x",
            serviceArgs({
                desiredCount: 1,
                maxCount: 1,
                scaling: {
                    schedules: [
                        { name: "night", schedule: "cron(0 20 ? * MON-FRI *)", timezone: "Europe/Berlin", minCount: 0, maxCount: 0 },
                        { name: "morning", schedule: "cron(0 7 ? * MON-FRI *)", minCount: 1 },
                    ],
                },
            }),
        );
        await h.settle();
        const target = h.one(T.scalingTarget, "x-scaling");
        assert.deepStrictEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [1, 1]);
        const night = h.one(T.scheduledAction, "x-schedule-night");
        assert.deepStrictEqual(
            [night.inputs.schedule, night.inputs.timezone, night.inputs.scalableTargetAction],
            ["cron(0 20 ? * MON-FRI *)", "Europe/Berlin", { minCapacity: 0, maxCapacity: 0 }],
        );
        const morning = h.one(T.scheduledAction, "x-schedule-morning");
        assert.deepStrictEqual(
            [morning.inputs.timezone, morning.inputs.scalableTargetAction],
            ["UTC", { minCapacity: 1, maxCapacity: 1 }],
            "the morning must restore the ceiling the night set to 0",
        );
        assert.strictEqual(morning.inputs.resourceId, target.inputs.resourceId);
    });

    it("scales a public service on ALB requests per task too, counted at the ALB for both its target groups", async () => {
        const h = await mocked();
        new FargateService("x", serviceArgs({ expose: publicExpose, desiredCount: 2, maxCount: 4, scaling: { requestsPerTarget: 500 } }));
        await h.settle();
        const policy = h.one(T.scalingPolicy, "x-request-scaling").inputs.targetTrackingScalingPolicyConfiguration;
        const requests = (policy.customizedMetricSpecification.metrics as any[]).filter((m) => m.metricStat?.metric.metricName === "RequestCount");
        assert.deepStrictEqual(
            requests.map((m) => Object.fromEntries(m.metricStat.metric.dimensions.map((d: any) => [d.name, d.value]))).map((d) => d.LoadBalancer),
            ["app/alb/0123", "app/alb/0123"],
        );
        for (const m of requests) {
            assert.match(
                m.metricStat.metric.dimensions.find((d: any) => d.name === "TargetGroup").value,
                /^targetgroup\/x-tg(-alt)?-[0-9a-f]{7}\/[0-9a-f]{16}$/,
            );
        }
        assert.strictEqual(policy.targetValue, 500);
        assert.ok(policy.scaleInCooldown > policy.scaleOutCooldown);
    });

    const refused: Array<[string, Partial<FargateServiceArgs>, RegExp]> = [
        ["a Spot share above 100", { capacity: { onDemandBase: 0, spotPercent: 101 } }, /"capacity.spotPercent" must be a whole number from 0 to 100, got 101/],
        [
            "a fractional on-demand base",
            { capacity: { onDemandBase: 0.5, spotPercent: 0 } },
            /"capacity.onDemandBase" must be a whole number from 0 to 100000, got 0.5/,
        ],
        ["no requests per target", { scaling: { requestsPerTarget: 0 } }, /"scaling.requestsPerTarget" must be above 0, got 0/],
    ];
    for (const [what, overrides, message] of refused) {
        it(`refuses ${what}, creating nothing`, async () => {
            const h = await mocked();
            assert.throws(() => new FargateService("x", serviceArgs(overrides)), message);
            await h.settle();
            assert.deepStrictEqual(
                h.resources.filter((r) => r.custom),
                [],
            );
        });
    }
});

describe("an ARM64 service in a stack that runs on Spot", () => {
    it("runs on on-demand FARGATE, which alone runs ARM64 tasks, while the others keep their Spot share", async () => {
        const services = resolveCatalog(declarations.map((d) => (d.name === "users" ? { ...d, platform: "linux/arm64" as const } : d)));
        const { h } = await runBerth({ ...stackConfig("dev"), "berth:onDemandBase": "0", "berth:spotPercent": "100" }, { services });
        const spotWeight = (name: string) =>
            h
                .one(T.service, `${name}-service`)
                .inputs.capacityProviderStrategies.filter((s: any) => s.capacityProvider === "FARGATE_SPOT")
                .reduce((sum: number, s: any) => sum + s.weight, 0);
        assert.strictEqual(spotWeight("users"), 0, "ECS would place users' tasks on Fargate Spot, which refuses ARM64");
        assert.ok(spotWeight("products") > 0 && spotWeight("api") > 0, "the x86 services lost their Spot share");
    });
});

describe("a test stack with every operations setting", () => {
    let h: Harness;
    const schedules: ScaleSchedule[] = [
        { name: "night", schedule: "cron(0 20 ? * MON-FRI *)", timezone: "Europe/Berlin", minCount: 0, maxCount: 0 },
        { name: "morning", schedule: "cron(0 7 ? * MON-FRI *)", timezone: "Europe/Berlin", minCount: 1, maxCount: 1 },
    ];
    before(async () => {
        ({ h } = await runBerth({
            ...stackConfig("dev"),
            "berth:natStrategy": "instance",
            "berth:alarmEmail": "ops@example.com",
            "berth:scaleSchedules": JSON.stringify(schedules),
        }));
    });

    it("schedules every service, and expects no tasks at night without alarming on it", () => {
        for (const service of catalog.filter((s) => s.kind !== "worker")) {
            const actions = h.ofType(T.scheduledAction).filter((a) => a.name.startsWith(`${service.name}-schedule-`));
            assert.deepStrictEqual(actions.map((a) => a.inputs.name).sort(), ["morning", "night"]);
            const alarm = h.ofType(T.alarm).find((a) => a.inputs.name === `berth-dev-${service.name}-tasks-below-desired`)!;
            assert.strictEqual(alarm.inputs.treatMissingData, "notBreaching");
        }
    });

    it("mails the alarms to the configured address, and lets only this account's CloudWatch and RDS events publish", () => {
        const [subscription] = h.ofType(T.subscription);
        assert.deepStrictEqual([subscription.inputs.protocol, subscription.inputs.endpoint], ["email", "ops@example.com"]);
        const [statement] = JSON.parse(h.ofType(T.topicPolicy)[0].inputs.policy).Statement;
        assert.deepStrictEqual(statement.Principal, { Service: ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"] });
        assert.deepStrictEqual(statement.Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
    });

    it("routes every private subnet through the NAT instance, which admits only the VPC", () => {
        assert.deepStrictEqual(h.ofType(T.nat), []);
        const [instance] = h.ofType(T.instance);
        const routes = h.ofType(T.route).filter((r: Recorded) => r.name.startsWith("berth-private-default-"));
        assert.ok(routes.length >= 2);
        assert.ok(routes.every((r) => r.inputs.networkInterfaceId !== undefined && r.inputs.natGatewayId === undefined));
        const vpcCidr = stackConfig("dev")["berth:vpcCidr"];
        const open = h.ofType(T.ingress).filter((r) => r.inputs.cidrIpv4 !== undefined && r.inputs.cidrIpv4 !== "0.0.0.0/0");
        assert.deepStrictEqual(
            open.map((r) => [r.name, r.inputs.cidrIpv4]),
            [["berth-nat-in", vpcCidr]],
        );
        assert.strictEqual(instance.inputs.metadataOptions.httpTokens, "required");
    });
});
