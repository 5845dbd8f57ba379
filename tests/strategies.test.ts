/**
 * Rollout strategies under mocks: each strategy's deployment configuration, what a public service gets to
 * shift traffic (alternate target group, production and test rules, the role ECS assumes), what a backend
 * gets (Service Connect's test traffic rule), the alarms and scaling that follow the serving target group,
 * the deployment check's wait, and the settings and declarations refused, before any resource exists.
 */
import * as assert from "assert";
import { DEFAULT_ROUTE_PRIORITY } from "../core/listenerRules";
import { alarmDefinitions } from "../core/alarmRules";
import { FargateService, type FargateServiceArgs, type PublicExposure } from "../components/service/fargateService";
import { DEPLOYMENT_TIMEOUT } from "../core/rollout";
import { TEST_TRAFFIC_HEADER, TRAFFIC_SHIFT_POLICY, type Rollout } from "../core/rolloutStrategy";
import { rolloutTimeline } from "../core/rolloutTimeline";
import { ConfigError, loadSettings, PRESETS } from "../config";
import { catalog, resolveCatalog, type ServiceDeclaration } from "../catalog";
import { serviceArgs } from "./support/fargate";
import { Harness, runBerth, stackConfig, type Recorded } from "./support/pulumi";
import { T } from "./support/types";

const SHIFTING: Rollout[] = [
    { strategy: "canary", canaryPercent: 12.5, canaryBakeMinutes: 4, bakeMinutes: 6 },
    { strategy: "linear", stepPercent: 25, stepBakeMinutes: 2, bakeMinutes: 3 },
    { strategy: "blueGreen", bakeMinutes: 5 },
];
const ECS_NAMES = { canary: "CANARY", linear: "LINEAR", blueGreen: "BLUE_GREEN" } as const;

const publicExpose: PublicExposure = {
    kind: "public",
    listenerArn: "listener-arn",
    loadBalancerSecurityGroupId: "alb-sg",
    pathPatterns: ["/shop", "/shop/*"],
    priority: 1200,
    loadBalancerArnSuffix: "app/alb/0123",
};

async function built(args: Partial<FargateServiceArgs>): Promise<Harness> {
    const h = new Harness();
    await h.install({});
    new FargateService("x", serviceArgs(args));
    await h.settle();
    return h;
}

const service = (h: Harness) => h.one(T.service, "x-service");
const arnOf = (r: Recorded) => r.outputs.arn as string;

describe("rollout strategies in FargateService", () => {
    it("states the rolling strategy, so that a service going back to it leaves the shifting one", async () => {
        const h = await built({ expose: publicExpose });
        assert.deepStrictEqual(service(h).inputs.deploymentConfiguration, { strategy: "ROLLING" });
        assert.strictEqual(h.one(T.check, "x-deployment").inputs.strategy, "rolling");
    });

    it("gives a rolling public service the same target groups, rules, role and advanced configuration as a shifting one: a switch changes the strategy alone", async () => {
        const parts = async (rollout?: Rollout) => {
            const h = await built({ expose: publicExpose, ...(rollout ? { rollout } : {}) });
            const { deploymentConfiguration: _d, ...rest } = service(h).inputs;
            return {
                service: rest,
                others: h.resources
                    .filter((r) => r.type !== T.service && r.type !== T.check)
                    .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, ignoreChanges: r.ignoreChanges })),
            };
        };
        const rolling = await parts();
        assert.ok(rolling.service.loadBalancers[0].advancedConfiguration, "ECS wants the advanced configuration in place before a switch");
        for (const rollout of SHIFTING) {
            assert.deepStrictEqual(await parts(rollout), rolling, rollout.strategy);
        }
    });

    it("checks a route's JWT on the production and the test rule alike, so that a version under test sees only verified requests", async () => {
        const jwt = { issuer: "https://issuer.example.com", jwksUrl: "https://issuer.example.com/jwks.json" };
        for (const rollout of [undefined, ...SHIFTING]) {
            const h = await built({ expose: { ...publicExpose, jwt }, ...(rollout ? { rollout } : {}) });
            for (const [role, group] of [
                ["rule", "tg"],
                ["test-rule", "tg-alt"],
            ]) {
                const rule = h.one(T.rule, `x-${role}`);
                assert.deepStrictEqual(
                    rule.inputs.actions,
                    [
                        { type: "jwt-validation", order: 1, jwtValidation: { issuer: jwt.issuer, jwksEndpoint: jwt.jwksUrl } },
                        { type: "forward", order: 2, targetGroupArn: arnOf(h.one(T.targetGroup, `x-${group}`)) },
                    ],
                    `${rollout?.strategy ?? "rolling"}: ${role}`,
                );
                // ECS rewrites the forward's weights; the actions stay as ECS left them.
                assert.ok(rule.ignoreChanges?.includes("actions"));
            }
            assert.strictEqual(service(h).inputs.loadBalancers[0].advancedConfiguration.productionListenerRule, arnOf(h.one(T.rule, "x-rule")));
        }
    });

    it("replaces both listener rules, deleting each first, and the service when a target group is replaced, so that nothing stays on the old groups", async () => {
        const h = await built({ expose: publicExpose });
        const groups = [`${T.targetGroup}::x-tg`, `${T.targetGroup}::x-tg-alt`];
        for (const rule of [h.one(T.rule, "x-rule"), h.one(T.rule, "x-test-rule")]) {
            assert.deepStrictEqual([...rule.replaceWith].sort(), groups, `${rule.name} follows both groups`);
            assert.strictEqual(rule.deleteBeforeReplace, true, `${rule.name}: the new rule takes the old one's priority, unique on the listener`);
        }
        assert.deepStrictEqual([...service(h).replaceWith].sort(), groups, "the service follows both groups");
        const backend = await built({});
        assert.deepStrictEqual(service(backend).replaceWith, []);
    });

    it("confirms every deployment an update of the service starts, whatever changed, and only then", async () => {
        const revision = async (args: Partial<FargateServiceArgs>) =>
            (await built({ expose: publicExpose, ...args })).one(T.check, "x-deployment").inputs.serviceRevision as string;
        const base = await revision({});
        assert.match(base, /^[0-9a-f]{32}$/);
        assert.strictEqual(await revision({}), base, "an update that changes nothing about the service confirms nothing");
        const changes: Array<[string, Partial<FargateServiceArgs>]> = [
            ["desired count", { desiredCount: 3, maxCount: 3 }],
            ["capacity share", { capacity: { onDemandBase: 1, spotPercent: 50 } }],
            ["grace period", { expose: { ...publicExpose, healthCheckGracePeriod: 90 } }],
            ["tags", { tags: { "berth:commit": "abc1234" } }],
            ["subnets", { subnetIds: ["subnet-c"] }],
            ["deployment alarms", { deploymentAlarmNames: ["berth-test-x-5xx-rate"] }],
            ["ECS Exec", { enableExecuteCommand: true }],
        ];
        for (const [what, args] of changes) {
            assert.notStrictEqual(await revision(args), base, what);
        }
        // Autoscaling owns the task count: a new floor is no update of the service, and starts no deployment.
        const scaled = await revision({ desiredCount: 1, maxCount: 4 });
        assert.strictEqual(await revision({ desiredCount: 2, maxCount: 4 }), scaled);
    });

    it("has the deployment check look at a public service's production rule after each release, and at no rule for a backend", async () => {
        const h = await built({ expose: publicExpose });
        assert.strictEqual(h.one(T.check, "x-deployment").inputs.productionRuleArn, arnOf(h.one(T.rule, "x-rule")));
        assert.strictEqual((await built({})).one(T.check, "x-deployment").inputs.productionRuleArn, "");
    });

    it("leaves which target group is production to ECS after creation, on a public service only", async () => {
        const h = await built({ expose: publicExpose, maxCount: 3 });
        assert.deepStrictEqual(service(h).ignoreChanges, [
            "desiredCount",
            "loadBalancers[0].targetGroupArn",
            "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn",
        ]);
        assert.deepStrictEqual(service(await built({})).ignoreChanges, []);
    });

    for (const rollout of SHIFTING) {
        describe(rollout.strategy, () => {
            it("gives ECS the strategy, its parameters and the bake time, and keeps the circuit breaker and the alarms with rollback", async () => {
                const h = await built({ expose: publicExpose, rollout, deploymentAlarmNames: ["berth-test-x-5xx-rate"] });
                const inputs = service(h).inputs;
                assert.strictEqual(inputs.deploymentConfiguration.strategy, ECS_NAMES[rollout.strategy as keyof typeof ECS_NAMES]);
                assert.strictEqual(inputs.deploymentConfiguration.bakeTimeInMinutes, String(rollout.strategy !== "rolling" && rollout.bakeMinutes));
                if (rollout.strategy === "canary") {
                    assert.deepStrictEqual(inputs.deploymentConfiguration.canaryConfiguration, { canaryPercent: 12.5, canaryBakeTimeInMinutes: "4" });
                } else if (rollout.strategy === "linear") {
                    assert.deepStrictEqual(inputs.deploymentConfiguration.linearConfiguration, { stepPercent: 25, stepBakeTimeInMinutes: "2" });
                }
                assert.deepStrictEqual(inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
                assert.deepStrictEqual(inputs.alarms, { alarmNames: ["berth-test-x-5xx-rate"], enable: true, rollback: true });
            });

            it("gives a public service an alternate target group alike, a test rule just before its rule, and a role ECS may assume, all named in the service", async () => {
                const h = await built({ expose: publicExpose, rollout });
                const primary = h.one(T.targetGroup, "x-tg");
                const alternate = h.one(T.targetGroup, "x-tg-alt");
                const { name: _n, ...alike } = primary.inputs;
                const { name: _a, ...alternateAlike } = alternate.inputs;
                assert.deepStrictEqual(alternateAlike, alike, "both groups must check health and drain the same way");

                const production = h.one(T.rule, "x-rule");
                const test = h.one(T.rule, "x-test-rule");
                assert.strictEqual(test.inputs.listenerArn, production.inputs.listenerArn);
                assert.strictEqual(production.inputs.priority, 1200);
                assert.strictEqual(test.inputs.priority, 1199);
                assert.ok(test.inputs.priority < production.inputs.priority, "the ALB evaluates lower priorities first");
                assert.deepStrictEqual(test.inputs.conditions.slice(0, -1), production.inputs.conditions, "the test rule sees the same requests");
                assert.deepStrictEqual(test.inputs.conditions.at(-1), {
                    httpHeader: { httpHeaderName: TEST_TRAFFIC_HEADER.name, values: [TEST_TRAFFIC_HEADER.value] },
                });
                assert.strictEqual(test.inputs.actions[0].targetGroupArn, arnOf(alternate));
                assert.strictEqual(production.inputs.actions[0].targetGroupArn, arnOf(primary));
                for (const rule of [production, test]) {
                    assert.deepStrictEqual(rule.ignoreChanges, ["actions"], `${rule.name}: ECS owns the forward weights after creation`);
                }

                const role = h.one(T.role, "x-traffic-role");
                const trust = JSON.parse(role.inputs.assumeRolePolicy);
                assert.deepStrictEqual(trust.Statement, [{ Effect: "Allow", Principal: { Service: "ecs.amazonaws.com" }, Action: "sts:AssumeRole" }]);
                const attachment = h.one(T.attachment, "x-traffic-policy");
                assert.strictEqual(attachment.inputs.policyArn, `arn:aws:iam::aws:${TRAFFIC_SHIFT_POLICY}`);
                assert.strictEqual(attachment.inputs.role, role.outputs.name);

                const lb = service(h).inputs.loadBalancers;
                assert.strictEqual(lb.length, 1);
                assert.strictEqual(lb[0].targetGroupArn, arnOf(primary));
                assert.deepStrictEqual(lb[0].advancedConfiguration, {
                    alternateTargetGroupArn: arnOf(alternate),
                    productionListenerRule: arnOf(production),
                    testListenerRule: arnOf(test),
                    roleArn: arnOf(role),
                });
                for (const needed of [production, test, attachment]) {
                    assert.ok(h.waitsFor(service(h), needed), `the service does not wait for ${needed.name}`);
                }
            });

            it("lets the ALB reach either group's tasks: same port, admitted from the ALB's group and let out by it", async () => {
                const h = await built({ expose: publicExpose, rollout, port: 9090, environment: { PORT: "9090" } });
                const alternate = h.one(T.targetGroup, "x-tg-alt");
                assert.strictEqual(alternate.inputs.port, 9090);
                const fromAlb = h.ofType(T.ingress).filter((r) => r.inputs.referencedSecurityGroupId === "alb-sg");
                assert.deepStrictEqual(
                    fromAlb.map((r) => [r.inputs.securityGroupId, r.inputs.fromPort, r.inputs.toPort]),
                    [["x-sg-id", 9090, 9090]],
                );
                const albOut = h.ofType(T.egress).filter((r) => r.inputs.securityGroupId === "alb-sg");
                assert.deepStrictEqual(
                    albOut.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]),
                    [["x-sg-id", 9090, 9090]],
                );
            });

            it("shifts a backend's traffic in Service Connect with its Service Connect configuration as a rolling backend has it, and no load balancer parts", async () => {
                const shifting = await built({ rollout });
                const rolling = await built({});
                assert.strictEqual(service(shifting).inputs.deploymentConfiguration.strategy, ECS_NAMES[rollout.strategy as keyof typeof ECS_NAMES]);
                assert.deepStrictEqual(service(shifting).inputs.serviceConnectConfiguration, service(rolling).inputs.serviceConnectConfiguration);
                // Service Connect's default test header, which the ALB's test rule matches too.
                assert.strictEqual(service(shifting).inputs.serviceConnectConfiguration.services[0].clientAlias[0].testTrafficRules, undefined);
                assert.strictEqual(TEST_TRAFFIC_HEADER.name, "x-amzn-ecs-blue-green-test");
                assert.deepStrictEqual(
                    [shifting.ofType(T.targetGroup), shifting.ofType(T.rule), shifting.ofType(T.attachment).filter((a) => a.name === "x-traffic-policy")],
                    [[], [], []],
                );
            });

            it("has the deployment check read service deployments, and wait for the whole release and a rollback on top", async () => {
                for (const expose of [publicExpose, undefined]) {
                    const h = await built({ rollout, ...(expose ? { expose } : {}), deploymentAlarmNames: ["a"] });
                    const check = h.one(T.check, "x-deployment").inputs;
                    assert.strictEqual(check.strategy, rollout.strategy);
                    const release = rolloutTimeline({ rollout, kind: expose ? "public" : "backend" }).release;
                    assert.ok(check.timeoutSeconds - release >= DEPLOYMENT_TIMEOUT, `${check.timeoutSeconds} s for a ${release} s release`);
                }
            });
        });
    }

    it("waits longer for a slower strategy than for a faster one", async () => {
        const timeouts: number[] = [];
        for (const rollout of [
            { strategy: "blueGreen", bakeMinutes: 1 },
            { strategy: "blueGreen", bakeMinutes: 20 },
        ] as Rollout[]) {
            const h = await built({ rollout });
            timeouts.push(h.one(T.check, "x-deployment").inputs.timeoutSeconds);
        }
        assert.strictEqual(timeouts[1] - timeouts[0], 19 * 60);
    });

    it("scales a public service on requests to both target groups over its running tasks", async () => {
        const h = await built({ expose: publicExpose, rollout: SHIFTING[0], desiredCount: 2, maxCount: 4, scaling: { requestsPerTarget: 500 } });
        const config = h.one(T.scalingPolicy, "x-request-scaling").inputs.targetTrackingScalingPolicyConfiguration;
        assert.strictEqual(config.predefinedMetricSpecification, undefined);
        const metrics: any[] = config.customizedMetricSpecification.metrics;
        const groups = metrics
            .filter((m) => m.metricStat?.metric.metricName === "RequestCount")
            .map((m) => m.metricStat.metric.dimensions.find((d: any) => d.name === "TargetGroup").value);
        assert.deepStrictEqual(groups, [h.one(T.targetGroup, "x-tg").outputs.arnSuffix, h.one(T.targetGroup, "x-tg-alt").outputs.arnSuffix]);
        const [result] = metrics.filter((m) => m.returnData);
        assert.strictEqual(result.expression, "(FILL(requests0, 0) + FILL(requests1, 0)) / tasks");
        const tasks = metrics.find((m) => m.id === "tasks").metricStat;
        assert.deepStrictEqual([tasks.metric.namespace, tasks.metric.metricName, tasks.stat], ["AWS/ECS", "CPUUtilization", "SampleCount"]);
        assert.strictEqual(config.targetValue, 500);
        assert.ok(
            !h.resources.some((r) => r.type === T.scalingPolicy && r.name.startsWith("x-request-scaling-")),
            "one request policy: a second would hold scale-in back",
        );
    });

    it("counts a public service's 5xx and unhealthy targets in both target groups", () => {
        const definitions = alarmDefinitions({
            family: "f",
            clusterName: "c",
            serviceName: "s",
            minCount: 1,
            containerInsights: false,
            mayRunZeroTasks: false,
            expose: {
                kind: "public",
                loadBalancerArnSuffix: "app/a/1",
                targetGroupArnSuffix: "targetgroup/blue/1",
                alternateTargetGroupArnSuffix: "targetgroup/green/2",
            },
        });
        const groupsIn = (role: string) =>
            [
                ...new Set((definitions.find((d) => d.role === role)!.args.metricQueries as any[]).flatMap((q) => q.metric?.dimensions?.TargetGroup ?? [])),
            ].sort();
        assert.deepStrictEqual(groupsIn("5xx-rate"), ["targetgroup/blue/1", "targetgroup/green/2"]);
        assert.deepStrictEqual(groupsIn("unhealthy-targets"), ["targetgroup/blue/1", "targetgroup/green/2"]);
        const rate = (definitions.find((d) => d.role === "5xx-rate")!.args.metricQueries as any[]).find((q) => q.id === "rate").expression;
        assert.match(rate, /FILL\(target5xx, 0\) \+ FILL\(target5xx1, 0\)/);
    });

    it("alarms on the higher p99 latency of a public service's two target groups", () => {
        const latency = alarmDefinitions({
            family: "f",
            clusterName: "c",
            serviceName: "s",
            minCount: 1,
            containerInsights: false,
            mayRunZeroTasks: false,
            expose: {
                kind: "public",
                loadBalancerArnSuffix: "app/a/1",
                targetGroupArnSuffix: "targetgroup/blue/1",
                alternateTargetGroupArnSuffix: "targetgroup/green/2",
            },
        }).find((d) => d.role === "p99-latency")!.args;
        const queries = latency.metricQueries as any[];
        const metrics = queries.filter((q) => q.metric);
        assert.deepStrictEqual(
            metrics.map((q) => [q.id, q.metric.metricName, q.metric.dimensions.TargetGroup, q.metric.stat]),
            [
                ["latency0", "TargetResponseTime", "targetgroup/blue/1", "p99"],
                ["latency1", "TargetResponseTime", "targetgroup/green/2", "p99"],
            ],
        );
        const watched = queries.filter((q) => q.returnData);
        assert.strictEqual(watched.length, 1);
        assert.strictEqual(watched[0].expression, "IF(FILL(latency0, 0) > FILL(latency1, 0), FILL(latency0, 0), FILL(latency1, 0))");
        assert.strictEqual(latency.threshold, 2, "the ALB reports seconds");
        assert.strictEqual(latency.extendedStatistic, undefined, "a metric-math alarm names no statistic of its own");
    });

    const refused: Array<[string, Partial<FargateServiceArgs>, RegExp]> = [
        [
            "a public service whose rule holds 5 values and no room for the test header",
            { expose: { ...publicExpose, pathPatterns: ["/a", "/b", "/c"], hostNames: ["a.example.com", "b.example.com"] } },
            /"expose.pathPatterns" and "expose.hostNames" hold 5 values; the test rule adds the test header and an ALB rule takes at most 5/,
        ],
        [
            "a public service at priority 1, which leaves the test rule none",
            { expose: { ...publicExpose, priority: 1 } },
            /"expose.priority" must be 2-49999 \(the test rule takes the one before\), got 1/,
        ],
    ];
    for (const [what, args, message] of refused) {
        it(`refuses ${what}`, async () => {
            const h = new Harness();
            await h.install({});
            assert.throws(() => new FargateService("x", serviceArgs(args)), message);
        });
    }
});

describe("rollout settings", () => {
    const context = { project: "berth", stack: "dev" };
    const base = { "aws:region": "eu-west-1", "berth:environment": "test", "berth:vpcCidr": "10.0.0.0/16", "berth:azCount": "2" };
    const withRollouts = (rollouts: Record<string, unknown>, extra: Record<string, string> = {}) => ({
        ...base,
        ...extra,
        "berth:services": JSON.stringify(Object.fromEntries(Object.entries(rollouts).map(([name, rollout]) => [name, { rollout }]))),
    });

    function problems(config: Record<string, string>, services = catalog): string[] {
        try {
            loadSettings(config, context, services);
        } catch (e) {
            assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
            return e.problems;
        }
        assert.fail("the configuration was accepted");
    }

    it("are rolling for every service unless set", () => {
        const s = loadSettings(base, context, catalog);
        assert.deepStrictEqual(
            Object.values(s.rollouts),
            catalog.map(() => ({ strategy: "rolling" })),
        );
    });

    it("take a strategy's name or an object, set with --path as text or numbers, and fill the rest from the stack's preset", () => {
        const s = loadSettings(
            withRollouts(
                { api: "canary", users: { strategy: "linear", stepPercent: "12.5" }, products: { strategy: "blueGreen", bakeMinutes: 9 } },
                { "berth:environment": "prod", "berth:allowHttpOnly": "true" },
            ),
            context,
            catalog,
        );
        assert.deepStrictEqual(s.rollouts.api, { strategy: "canary", ...PRESETS.prod.rolloutDefaults.canary });
        assert.deepStrictEqual(s.rollouts.users, { strategy: "linear", ...PRESETS.prod.rolloutDefaults.linear, stepPercent: 12.5 });
        assert.deepStrictEqual(s.rollouts.products, { strategy: "blueGreen", bakeMinutes: 9 });
    });

    it("layer the stack's setting over the catalogue's declaration", () => {
        const declared = resolveCatalog(
            [
                { name: "web", kind: "public", rollout: { strategy: "canary", canaryPercent: 20 } },
                { name: "jobs", kind: "backend", routes: ["/jobs"], rollout: "linear" },
            ].map((d) => (d.name === "web" ? { ...d, gateway: true } : d)) as ServiceDeclaration[],
        );
        const s = loadSettings(withRollouts({ web: { canaryBakeMinutes: 1 }, jobs: "rolling" }), context, declared);
        assert.deepStrictEqual(s.rollouts.web, { strategy: "canary", ...PRESETS.test.rolloutDefaults.canary, canaryPercent: 20, canaryBakeMinutes: 1 });
        assert.deepStrictEqual(s.rollouts.jobs, { strategy: "rolling" });
    });

    const errors: Array<[string, Record<string, unknown>, RegExp]> = [
        [
            "an unknown strategy",
            { users: "bluegreen" },
            /^berth:services\.users\.rollout is "bluegreen"; allowed: one of rolling, canary, linear, blueGreen, or an object with "strategy" and its parameters$/,
        ],
        [
            "a canary share above 100 %",
            { api: { strategy: "canary", canaryPercent: 120 } },
            /^berth:services\.api\.rollout\.canaryPercent is 120; allowed: a percentage from 0\.1 to 100 in steps of 0\.1$/,
        ],
        [
            "a linear step below 3 %",
            { users: { strategy: "linear", stepPercent: "2" } },
            /^berth:services\.users\.rollout\.stepPercent is "2"; allowed: a percentage from 3 to 100 in steps of 0\.1$/,
        ],
        [
            "a bake of more than a day",
            { products: { strategy: "blueGreen", bakeMinutes: 2000 } },
            /^berth:services\.products\.rollout\.bakeMinutes is 2000; allowed: a whole number of minutes from 0 to 1440$/,
        ],
        [
            "a parameter of another strategy",
            { api: { strategy: "blueGreen", canaryPercent: 10 } },
            /^berth:services\.api\.rollout\.canaryPercent is 10; allowed: the parameters of blueGreen: bakeMinutes \(canaryPercent is one of canary\)$/,
        ],
        [
            "parameters without a strategy, on a service the catalogue leaves rolling",
            { users: { bakeMinutes: 3 } },
            /^berth:services\.users\.rollout\.bakeMinutes is 3; allowed: none: rolling takes no parameters/,
        ],
        [
            "a release longer than the pipeline can wait for",
            { users: { strategy: "linear", stepPercent: 3, stepBakeMinutes: 2 } },
            /^berth:services\.users\.rollout is \{"strategy":"linear","stepPercent":3,"stepBakeMinutes":2,"bakeMinutes":1\}, with the test preset's values for what it leaves out: a release takes about 1 h 9 min; allowed: at most 30 min/,
        ],
    ];
    for (const [what, rollouts, message] of errors) {
        it(`name the key, the value and what is allowed for ${what}`, () => {
            const found = problems(withRollouts(rollouts));
            assert.ok(
                found.some((p) => message.test(p)),
                `no problem matches ${message}:\n${found.join("\n")}`,
            );
        });
    }

    it("say where a value comes from when the catalogue set it", () => {
        const services = resolveCatalog([
            { name: "api", kind: "public", gateway: true },
            { name: "jobs", kind: "backend", routes: ["/jobs"], rollout: { strategy: "linear", stepPercent: 3, stepBakeMinutes: 5 } },
        ]);
        const found = problems(base, services);
        assert.ok(
            found.some((p) => /^berth:services\.jobs\.rollout is .* \(from catalog\/index\.ts\), with the test preset's values/.test(p)),
            found.join("\n"),
        );
    });
});

describe("rollout declarations in the catalogue", () => {
    const refused: Array<[string, ServiceDeclaration["rollout"], RegExp]> = [
        ["an unknown strategy", "blue-green" as never, /service "jobs": "rollout" is "blue-green"; allowed: one of rolling, canary, linear, blueGreen/],
        [
            "a parameter off ECS's range",
            { strategy: "canary", canaryPercent: 0 },
            /service "jobs": "rollout\.canaryPercent" is 0; allowed: a percentage from 0\.1 to 100/,
        ],
        [
            "a parameter of another strategy",
            { strategy: "linear", canaryBakeMinutes: 3 },
            /service "jobs": "rollout\.canaryBakeMinutes" is 3; allowed: the parameters of linear/,
        ],
    ];
    for (const [what, rollout, message] of refused) {
        it(`refuses ${what}, naming the service and the field`, () => {
            assert.throws(
                () =>
                    resolveCatalog([
                        { name: "api", kind: "public", gateway: true },
                        { name: "jobs", kind: "backend", routes: ["/jobs"], rollout },
                    ]),
                message,
            );
        });
    }
});

describe("rollout strategies in the whole program", () => {
    it("wire each strategy into the service, the check and the alarms, with rolling left as it was", async () => {
        const config = {
            ...stackConfig("prod"),
            "berth:services": JSON.stringify({ api: { rollout: "canary" }, users: { rollout: "linear" }, products: { rollout: "rolling" } }),
        };
        const { h } = await runBerth(config, { stack: "prod" });
        const svc = (name: string) => h.one(T.service, `${name}-service`).inputs;
        assert.strictEqual(svc("api").deploymentConfiguration.strategy, "CANARY");
        assert.strictEqual(svc("users").deploymentConfiguration.strategy, "LINEAR");
        assert.deepStrictEqual(svc("products").deploymentConfiguration, { strategy: "ROLLING" });
        assert.deepStrictEqual(
            h
                .ofType(T.targetGroup)
                .map((t) => t.name)
                .sort(),
            ["api-tg", "api-tg-alt"],
        );
        // The default route's test rule goes just before the last priority.
        assert.strictEqual(DEFAULT_ROUTE_PRIORITY, 50000);
        assert.strictEqual(h.one(T.rule, "api-test-rule").inputs.priority, 49999);
        const alarm = h.one(T.alarm, "api-alarms-unhealthy-targets").inputs;
        assert.strictEqual(alarm.metricQueries.filter((q: any) => q.metric).length, 2, "both of the gateway's target groups");
        assert.deepStrictEqual(
            h
                .ofType(T.check)
                .map((c) => [c.name, c.inputs.strategy])
                .sort(),
            [
                ["api-deployment", "canary"],
                ["product-events-deployment", "rolling"],
                ["products-deployment", "rolling"],
                ["users-deployment", "linear"],
            ],
        );
    });
});
