/**
 * The monthly cost estimate (cost/estimate.ts): each line follows the settings it prices, the total is the sum of the
 * lines, what it counts matches what the program registers under mocks, and docs/cost.md's tables are its output.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { albLcus, CostError, estimateCost, taskSplit, type CostEstimate, type CostItem } from "../cost/estimate";
import { alarmMetrics, dashboardMetrics, NAT_INSTANCE_ALARMS, targetTrackingAlarms } from "../cost/monitoring";
import { costMarkdown } from "../cost/report";
import { PRICES } from "../cost/prices";
import { USAGE_ASSUMPTIONS } from "../cost/usageAssumptions";
import { loadSettings, type Settings } from "../config";
import { catalog, declarations, deployedCatalog, jobs, resolveCatalog, type CatalogService } from "../catalog";
import { JOB_ALARM_METRICS } from "../core/jobStateMachine";
import { readStackConfig, SECRET_PLACEHOLDER } from "../scripts/stackConfig";
import { ROOT, runBerth, shippedStacks, stackConfig } from "./support/pulumi";
import { T } from "./support/types";

function settingsOf(stack: string, overrides: Record<string, string> = {}, secretKeys: string[] = []): Settings {
    return loadSettings({ ...stackConfig(stack), ...overrides }, { project: "berth", stack }, catalog, secretKeys);
}

function estimate(stack: string, overrides: Record<string, string> = {}, services: readonly CatalogService[] = catalog): CostEstimate {
    return estimateCost(loadSettings({ ...stackConfig(stack), ...overrides }, { project: "berth", stack }, services), services);
}

const item = (e: CostEstimate, id: string): CostItem | undefined => e.items.find((i) => i.id === id);
const cost = (e: CostEstimate, id: string): number => item(e, id)?.monthly ?? 0;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 0.011, `${what}: ${a} vs ${b}`);

describe("the monthly cost estimate", () => {
    for (const stack of shippedStacks()) {
        it(`adds up its lines to the total, each a finite amount with its own id (${stack})`, () => {
            const e = estimate(stack);
            close(
                e.total,
                e.items.reduce((sum, i) => sum + i.monthly, 0),
                "total",
            );
            assert.strictEqual(new Set(e.items.map((i) => i.id)).size, e.items.length, "an id twice");
            for (const i of e.items) {
                assert.ok(Number.isFinite(i.monthly) && i.monthly >= 0, `${i.id}: ${i.monthly}`);
                assert.ok(i.detail.length > 5, `${i.id} says not how`);
            }
        });
    }

    describe("NAT", () => {
        const noTraffic = { ...USAGE_ASSUMPTIONS.test, natGb: 0 };
        for (const azCount of [2, 3, 4, 6]) {
            it(`perAz over ${azCount} AZs costs ${azCount} single gateways, and ${azCount} Elastic IPs beside the ALB's ${azCount}`, () => {
                const config = { "berth:azCount": String(azCount), "berth:vpcCidr": "10.20.0.0/16" };
                const single = estimateCost(settingsOf("dev", { ...config, "berth:natStrategy": "single" }), catalog, noTraffic);
                const perAz = estimateCost(settingsOf("dev", { ...config, "berth:natStrategy": "perAz" }), catalog, noTraffic);
                close(cost(perAz, "nat-gateways"), azCount * cost(single, "nat-gateways"), "gateways");
                close(cost(perAz, "public-ipv4"), 2 * azCount * PRICES.vpc.publicIpv4Hour * 730, "addresses");
                close(cost(single, "public-ipv4"), (azCount + 1) * PRICES.vpc.publicIpv4Hour * 730, "addresses");
            });
        }

        it("charges processed GB on a gateway, and none on an instance, which costs less than a gateway's hours", () => {
            const gateway = { "berth:natStrategy": "single" };
            const light = estimate("dev", gateway);
            const heavy = estimateCost(settingsOf("dev", gateway), catalog, { ...USAGE_ASSUMPTIONS.test, natGb: USAGE_ASSUMPTIONS.test.natGb + 100 });
            close(cost(heavy, "nat-gateways") - cost(light, "nat-gateways"), 100 * PRICES.vpc.natGatewayGb, "per GB");
            const instance = estimate("dev", { "berth:natStrategy": "instance" });
            assert.strictEqual(item(instance, "nat-gateways"), undefined);
            assert.ok(cost(instance, "nat-instance") > 0 && cost(instance, "nat-instance") < cost(light, "nat-gateways"));
            const bigger = estimate("dev", { "berth:natStrategy": "instance", "berth:natInstanceType": "t4g.small" });
            assert.ok(cost(bigger, "nat-instance") > cost(instance, "nat-instance"));
        });

        it("counts the NAT instance's two recovery alarms, which a gateway does without", () => {
            const usage = { ...USAGE_ASSUMPTIONS.test, aloneInAccount: false };
            const instance = estimateCost(settingsOf("dev", { "berth:natStrategy": "instance" }), catalog, usage);
            const gateway = estimateCost(settingsOf("dev", { "berth:natStrategy": "single" }), catalog, usage);
            close(cost(instance, "alarms") - cost(gateway, "alarms"), 2 * PRICES.cloudwatch.alarmMetricMonth, "NAT alarms");
        });

        it("is a NAT instance in the test preset, well below a NAT gateway", () => {
            const e = estimateCost(settingsOf("dev", { "berth:natStrategy": "single" }), catalog);
            const preset = estimate("dev");
            assert.strictEqual(item(preset, "nat-gateways"), undefined);
            assert.ok(cost(preset, "nat-instance") < cost(e, "nat-gateways") / 5, `${cost(preset, "nat-instance")} vs ${cost(e, "nat-gateways")}`);
        });
    });

    describe("the account's free tiers", () => {
        const alone = { ...USAGE_ASSUMPTIONS.test, aloneInAccount: true };
        const shared = { ...USAGE_ASSUMPTIONS.test, aloneInAccount: false };
        const cw = PRICES.cloudwatch;

        it("takes 10 alarm metrics off only for a stack alone in its account", () => {
            const settings = settingsOf("dev");
            const a = estimateCost(settings, catalog, alone);
            const b = estimateCost(settings, catalog, shared);
            close(cost(b, "alarms") - cost(a, "alarms"), cw.freeTier.alarmMetrics * cw.alarmMetricMonth, "free alarm metrics");
            assert.match(item(a, "alarms")!.detail, /− 10 free/);
            assert.doesNotMatch(item(b, "alarms")!.detail, /free/);
        });

        it("never takes off more alarm metrics than the stack has", () => {
            const few = resolveCatalog(declarations.filter((d) => d.name === "api"));
            const settings = loadSettings({ ...stackConfig("dev"), "berth:natStrategy": "single" }, { project: "berth", stack: "dev" }, few);
            const metrics = alarmMetrics(few[0], settings) + targetTrackingAlarms(few[0], settings);
            const e = estimateCost(settings, few, alone, []);
            close(cost(e, "alarms"), Math.max(0, metrics - cw.freeTier.alarmMetrics) * cw.alarmMetricMonth, "alarms");
        });

        it("makes the dashboard free for a stack alone in its account while it graphs at most 50 metrics", () => {
            const settings = settingsOf("dev");
            assert.ok(dashboardMetrics(settings, catalog) <= cw.freeTier.dashboardMetrics, "the shipped dashboard outgrew the free tier");
            assert.strictEqual(cost(estimateCost(settings, catalog, alone), "dashboard"), 0);
            assert.strictEqual(cost(estimateCost(settings, catalog, shared), "dashboard"), cw.dashboardMonth);
        });

        it("says whether it assumes the stack alone in its account, per preset", () => {
            assert.strictEqual(typeof USAGE_ASSUMPTIONS.test.aloneInAccount, "boolean");
            assert.strictEqual(USAGE_ASSUMPTIONS.test.aloneInAccount, true);
            assert.strictEqual(USAGE_ASSUMPTIONS.prod.aloneInAccount, false);
        });
    });

    describe("Fargate", () => {
        it("splits a service's tasks as ECS does: the base on-demand, the Spot share of the rest", () => {
            const cases: Array<[number, number, number, number, number]> = [
                // desired, onDemandBase, spotPercent -> on-demand, Spot
                [1, 0, 100, 0, 1],
                [3, 1, 100, 1, 2],
                [4, 1, 50, 2.5, 1.5],
                [2, 5, 100, 2, 0],
                [5, 0, 0, 5, 0],
            ];
            for (const [desired, base, spotPercent, onDemand, spot] of cases) {
                assert.deepStrictEqual(taskSplit(desired, { onDemandBase: base, spotPercent }), { onDemand, spot }, `${desired}/${base}/${spotPercent}`);
            }
        });

        it("costs less the larger the Spot share, and more the larger the on-demand base", () => {
            const at = (spot: number, base = 0) =>
                cost(
                    estimate("prod", {
                        "berth:spotPercent": String(spot),
                        "berth:onDemandBase": String(base),
                        "berth:environment": "test",
                    }),
                    "fargate:api",
                );
            const shares = [0, 25, 50, 75, 100].map((p) => at(p));
            for (let i = 1; i < shares.length; i++) {
                assert.ok(shares[i] < shares[i - 1], `Spot ${i * 25} % costs no less than ${(i - 1) * 25} %: ${shares}`);
            }
            assert.ok(at(100, 1) > at(100, 0), "an on-demand base costs nothing");
        });

        it("prices ARM64 below x86, and never on Spot", () => {
            const arm = resolveCatalog(declarations.map((d) => (d.name === "users" ? { ...d, platform: "linux/arm64" as const } : d)));
            const onDemand = { "berth:spotPercent": "0" };
            const x86 = estimate("dev", onDemand);
            const graviton = estimate("dev", onDemand, arm);
            assert.ok(cost(graviton, "fargate:users") < cost(x86, "fargate:users"), "ARM64 is no cheaper");
            close(cost(graviton, "fargate:products"), cost(x86, "fargate:products"), "an x86 service changed");
            const spot = estimate("dev", { "berth:spotPercent": "100" }, arm);
            close(cost(spot, "fargate:users"), cost(graviton, "fargate:users"), "ARM64 priced on Spot");
        });

        it("follows each service's own size and count", () => {
            const base = estimate("dev", { "berth:spotPercent": "0" });
            const bigger = estimate("dev", {
                "berth:spotPercent": "0",
                "berth:services": JSON.stringify({ users: { cpu: 1024, memory: 2048, desiredCount: 2, maxCount: 2 } }),
            });
            const perTask = (cpu: number, gb: number) => (cpu * PRICES.fargate.x86.vcpuHour + gb * PRICES.fargate.x86.gbHour) * 730;
            close(cost(bigger, "fargate:users"), 2 * perTask(1, 2), "users");
            close(cost(base, "fargate:users"), perTask(0.25, 0.5), "users before");
            close(cost(bigger, "fargate:api"), cost(base, "fargate:api"), "api");
        });
    });

    describe("topics and workers", () => {
        it("has no messaging line and one KMS key fewer without a service that publishes", () => {
            const none = resolveCatalog(declarations.filter((d) => d.kind !== "worker").map(({ publishes: _publishes, ...rest }) => rest));
            for (const stack of shippedStacks()) {
                // The stack's own overrides of the workers go with them.
                const services = JSON.parse(stackConfig(stack)["berth:services"] ?? "{}") as Record<string, unknown>;
                const kept = Object.fromEntries(Object.entries(services).filter(([name]) => none.some((s) => s.name === name)));
                const e = estimate(stack, { "berth:services": JSON.stringify(kept) }, none);
                assert.deepStrictEqual(
                    e.items.filter((i) => i.group === "messaging").map((i) => i.id),
                    [],
                    stack,
                );
                close(cost(estimate(stack), "kms") - cost(e, "kms"), PRICES.kms.keyMonth, `${stack}: the topics' and queues' key`);
            }
        });

        it("prices prod's million events: publishes, SNS's data keys, and per event a send, a receive and a delete beside the workers' long polls", () => {
            // prod: 1,000,000 publishes × $0.50/million + 2 × 2,628,000 s / 300 s = 17,520 KMS requests × $0.03/10,000.
            close(cost(estimate("prod"), "sns"), 0.5 + 0.05256, "sns");
            // 3,000,000 requests for the events + 2 tasks × 2,628,000 s / 20 s = 262,800 empty receives, × $0.40/million.
            close(cost(estimate("prod", { "berth:services": JSON.stringify({ "product-events": { desiredCount: 2 } }) }), "sqs"), 3.2628 * 0.4, "sqs");
            // A second worker on the same topic doubles the event requests and adds its polls.
            const two = resolveCatalog([...declarations, { name: "mailer", kind: "worker", subscribes: ["product-changed"] }]);
            const prod = (services: readonly CatalogService[]) =>
                estimate("prod", { "berth:services": JSON.stringify({ "product-events": { desiredCount: 1 }, mailer: { desiredCount: 1 } }) }, services);
            close(cost(prod(two), "sqs"), ((6_000_000 + 2 * 131_400) / 1e6) * 0.4, "two workers");
        });

        it("takes SNS's and SQS's free million off only for a stack alone in its account", () => {
            const dev = estimate("dev");
            // 10,000 publishes, all free; 17,520 KMS requests remain.
            close(cost(dev, "sns"), 0.05256, "sns");
            assert.strictEqual(cost(dev, "sqs"), 0, "30,000 + 131,400 requests, under the free million");
            const shared = estimateCost(settingsOf("dev"), catalog, { ...USAGE_ASSUMPTIONS.test, aloneInAccount: false });
            close(cost(shared, "sqs"), 0.1614 * 0.4, "sqs without the free tier");
        });
    });

    describe("the database", () => {
        it("has no line without a service that declares it, and no secret when nothing else stores one", () => {
            const none = resolveCatalog(declarations.map(({ database: _database, ...rest }) => rest));
            for (const stack of shippedStacks()) {
                // The stack's own overrides of the workers go with them.
                const services = JSON.parse(stackConfig(stack)["berth:services"] ?? "{}") as Record<string, unknown>;
                const kept = Object.fromEntries(Object.entries(services).filter(([name]) => none.some((s) => s.name === name)));
                const e = estimate(stack, { "berth:services": JSON.stringify(kept) }, none);
                assert.deepStrictEqual(
                    e.items.filter((i) => i.group === "database" || i.id === "secrets").map((i) => i.id),
                    [],
                );
            }
        });

        it("doubles the instance and its storage when Multi-AZ, and follows class and size", () => {
            const single = estimate("dev");
            const multi = estimate("dev", { "berth:database": JSON.stringify({ multiAz: true }) });
            close(cost(multi, "rds-instance"), 2 * cost(single, "rds-instance"), "instance");
            close(cost(multi, "rds-storage"), 2 * cost(single, "rds-storage"), "storage");
            const bigger = estimate("dev", { "berth:database": JSON.stringify({ instanceClass: "db.t4g.medium", storageGb: 100 }) });
            close(cost(bigger, "rds-instance"), PRICES.rds.instanceHour["db.t4g.medium"] * 730, "class");
            close(cost(bigger, "rds-storage"), 100 * PRICES.rds.gp3GbMonth, "size");
        });

        it("charges backups only beyond the provisioned storage", () => {
            const settings = settingsOf("dev", { "berth:database": JSON.stringify({ backupRetentionDays: 35 }) });
            const small = estimateCost(settings, catalog);
            assert.strictEqual(cost(small, "rds-backups"), 0);
            const big = estimateCost(settings, catalog, { ...USAGE_ASSUMPTIONS.test, databaseDataGb: 30 });
            // 30 GB of data changing 2 % a day for 35 days: 51 GB of backups, 31 GB beyond the 20 GB provisioned.
            close(cost(big, "rds-backups"), 31 * PRICES.rds.backupGbMonth, "backups");
        });

        it("refuses, naming it, an instance class the price table lacks", () => {
            const settings = settingsOf("dev", { "berth:database": JSON.stringify({ instanceClass: "db.r7g.large" }) });
            assert.throws(
                () => estimateCost(settings, catalog),
                (e: Error) => e instanceof CostError && /db\.r7g\.large/.test(e.message) && /prices\.ts/.test(e.message),
            );
        });
    });

    describe("each setting test relaxes", () => {
        // The setting, test's value and prod's, and what prod's value adds.
        const relaxed: Array<[string, Record<string, string>, Record<string, string>, (relaxed: CostEstimate, strict: CostEstimate) => void]> = [
            [
                "wafEnabled",
                { "berth:wafEnabled": "false" },
                { "berth:wafEnabled": "true" },
                (r, s) => {
                    assert.strictEqual(item(r, "waf"), undefined);
                    assert.ok(cost(s, "waf") >= PRICES.waf.webAclMonth);
                },
            ],
            [
                "flowLogs",
                { "berth:flowLogs": "false" },
                { "berth:flowLogs": "true" },
                (r, s) => {
                    assert.strictEqual(item(r, "flow-logs"), undefined);
                    assert.ok(cost(s, "flow-logs") > 0);
                },
            ],
            [
                "containerInsights",
                { "berth:containerInsights": "false" },
                { "berth:containerInsights": "true" },
                (r, s) => {
                    assert.strictEqual(item(r, "container-insights"), undefined);
                    assert.ok(cost(s, "container-insights") > 0);
                },
            ],
            [
                "logsKmsKey",
                { "berth:logsKmsKey": "false" },
                { "berth:logsKmsKey": "true" },
                (r, s) => {
                    close(cost(s, "kms") - cost(r, "kms"), PRICES.kms.keyMonth, "the logs' key");
                },
            ],
            [
                "accessLogs",
                { "berth:accessLogs": "false" },
                { "berth:accessLogs": "true" },
                (r, s) => {
                    assert.strictEqual(item(r, "access-logs"), undefined);
                    assert.ok(cost(s, "access-logs") > 0);
                },
            ],
            [
                "logRetentionDays",
                { "berth:logRetentionDays": "7" },
                { "berth:logRetentionDays": "365" },
                (r, s) => {
                    assert.ok(cost(s, "service-logs") > cost(r, "service-logs"));
                    assert.ok(cost(s, "rds-logs") > cost(r, "rds-logs"));
                },
            ],
            [
                "database.multiAz",
                { "berth:database": JSON.stringify({ multiAz: false }) },
                { "berth:database": JSON.stringify({ multiAz: true }) },
                (r, s) => {
                    assert.ok(cost(s, "rds-instance") > cost(r, "rds-instance"));
                },
            ],
            [
                "deletionProtection (not money)",
                { "berth:deletionProtection": "false" },
                { "berth:deletionProtection": "true" },
                (r, s) => {
                    close(s.total, r.total, "total");
                },
            ],
        ];
        for (const [setting, relaxedValue, strictValue, check] of relaxed) {
            it(`${setting}: prod's value adds what it costs, and nothing else moves`, () => {
                const r = estimate("dev", relaxedValue);
                const s = estimate("dev", strictValue);
                check(r, s);
                const changed = new Set([...r.items, ...s.items].map((i) => i.id).filter((id) => cost(r, id) !== cost(s, id) || !item(r, id) !== !item(s, id)));
                const expected: Record<string, string[]> = {
                    wafEnabled: ["waf"],
                    flowLogs: ["flow-logs"],
                    containerInsights: ["container-insights", "alarms"],
                    logsKmsKey: ["kms"],
                    accessLogs: ["access-logs"],
                    logRetentionDays: ["service-logs", "rds-logs", "access-logs"],
                    "database.multiAz": ["rds-instance", "rds-storage"],
                    "deletionProtection (not money)": [],
                };
                assert.deepStrictEqual(
                    [...changed].filter((id) => !expected[setting].includes(id)),
                    [],
                    "other lines moved",
                );
            });
        }
    });

    it("counts each secret the stack stores", () => {
        const secrets = JSON.stringify({ api: { AUTH_API_KEYS: "one", AUTH_ISSUER: "two" } });
        const none = estimateCost(settingsOf("dev"), catalog);
        const two = estimateCost(settingsOf("dev", { "berth:secrets": secrets }, ["berth:secrets"]), catalog);
        close(cost(two, "secrets") - cost(none, "secrets"), 2 * PRICES.secretsManager.secretMonth, "secrets");
    });

    it("takes the ALB's LCUs from its busiest dimension", () => {
        assert.strictEqual(albLcus({ requests: 0, responseKb: 2 }), 0);
        // 25 new connections a second all month is one LCU; 1 GB an hour is one LCU.
        close(albLcus({ requests: 25 * 730 * 3600, responseKb: 0 }), 1, "connections");
        close(albLcus({ requests: (730 * 1e6) / 500, responseKb: 500 }), 1, "bytes");
    });

    it("warns that another region's prices differ", () => {
        assert.deepStrictEqual(estimate("dev").warnings, []);
        assert.match(estimate("dev", { "aws:region": "eu-west-1" }).warnings.join(), /us-east-1's; eu-west-1/);
    });

    it("drops the gateway's tasks and repository with berth:edge alb, and keeps every other service's tasks", () => {
        for (const stack of shippedStacks()) {
            const gateway = estimate(stack);
            const alb = estimate(stack, { "berth:edge": "alb" });
            assert.ok(cost(gateway, "fargate:api") > 0, `${stack}: the gateway's tasks are counted`);
            assert.strictEqual(item(alb, "fargate:api"), undefined, `${stack}: the ALB edge runs no gateway`);
            for (const name of ["users", "products"]) {
                close(cost(alb, `fargate:${name}`), cost(gateway, `fargate:${name}`), `${stack}: ${name}`);
            }
            assert.ok(cost(alb, "ecr") < cost(gateway, "ecr"), `${stack}: one repository fewer`);
            assert.ok(alb.total < gateway.total - cost(gateway, "fargate:api") / 2, `${stack}: ${alb.total} vs ${gateway.total}`);
        }
    });

    describe("counts what the program registers", () => {
        for (const [stack, edge] of shippedStacks().flatMap(
            (stack) =>
                [
                    [stack, "gateway"],
                    [stack, "alb"],
                ] as const,
        )) {
            it(`NAT gateways, public addresses, KMS keys, secrets, WAF rules and alarm metrics (${stack}, edge ${edge})`, async () => {
                const config = { ...stackConfig(stack), "berth:edge": edge };
                const settings = loadSettings(config, { project: "berth", stack }, catalog);
                const { h } = await runBerth(config, { stack });
                const e = estimateCost(settings, catalog);
                const deployed = deployedCatalog(catalog, edge);
                const hourly = (price: number) => price * 730;
                const gateways = h.ofType(T.nat).length;
                close(
                    cost(e, "nat-gateways"),
                    gateways * hourly(PRICES.vpc.natGatewayHour) +
                        USAGE_ASSUMPTIONS[settings.environment].natGb * PRICES.vpc.natGatewayGb * Math.sign(gateways),
                    "gateways",
                );
                const natAddresses = h.ofType(T.eip).length + h.ofType(T.instance).filter((i) => i.inputs.associatePublicIpAddress).length;
                const albZones = h.one(T.alb, "berth-alb").inputs.subnets.length;
                close(cost(e, "public-ipv4"), (natAddresses + albZones) * hourly(PRICES.vpc.publicIpv4Hour), "addresses");
                close(cost(e, "kms"), h.ofType(T.kmsKey).length * PRICES.kms.keyMonth, "keys");
                const managed = h.ofType(T.db).filter((d) => d.inputs.manageMasterUserPassword).length;
                close(cost(e, "secrets"), (h.ofType(T.secret).length + managed) * PRICES.secretsManager.secretMonth, "secrets");
                const acl = h.ofType(T.wafAcl)[0];
                if (acl) {
                    close(
                        cost(e, "waf") - PRICES.waf.webAclMonth - (USAGE_ASSUMPTIONS[settings.environment].requests / 1e6) * PRICES.waf.millionRequests,
                        acl.inputs.rules.length * PRICES.waf.ruleMonth,
                        "WAF rules",
                    );
                }
                const alarms = h.ofType(T.alarm);
                const natAlarms = alarms.filter((a) => a.inputs.namespace === "AWS/EC2");
                const recordedMetrics = alarms
                    .filter((a) => !natAlarms.includes(a))
                    .reduce((n, a) => n + (a.inputs.metricQueries ? a.inputs.metricQueries.filter((q: any) => q.metric).length : 1), 0);
                assert.strictEqual(
                    deployed.reduce((n, s) => n + alarmMetrics(s, settings), 0) + jobs.length * JOB_ALARM_METRICS.length,
                    recordedMetrics,
                    "alarm metrics",
                );
                assert.strictEqual(h.ofType(T.repository).length, deployed.length + jobs.length, "repositories");
                assert.strictEqual(natAlarms.length, settings.natStrategy === "instance" ? NAT_INSTANCE_ALARMS : 0, "NAT instance alarms");
                const trackingPolicies = h.ofType(T.scalingPolicy).filter((p) => p.inputs.policyType === "TargetTrackingScaling").length;
                assert.strictEqual(
                    deployed.reduce((n, s) => n + targetTrackingAlarms(s, settings), 0),
                    2 * trackingPolicies,
                    "target-tracking alarms",
                );
                assert.strictEqual(h.ofType(T.db).length > 0, item(e, "rds-instance") !== undefined);
                const dashboards = h.ofType(T.dashboard);
                assert.strictEqual(dashboards.length, 1);
                const graphed = JSON.parse(dashboards[0].inputs.dashboardBody).widgets.reduce(
                    (n: number, w: any) => n + (w.properties.metrics?.length ?? 0),
                    0,
                );
                assert.strictEqual(dashboardMetrics(settings, deployed), graphed, "dashboard metrics");
            });
        }
    });

    it("is what docs/cost.md's tables show for the shipped stacks", () => {
        const page = fs.readFileSync(path.join(ROOT, "docs", "cost.md"), "utf8");
        for (const stack of shippedStacks()) {
            const block = new RegExp(`<!-- cost:${stack} \\(npm run cost -- ${stack} --markdown\\) -->\\n([\\s\\S]*?)\\n<!-- /cost:${stack} -->`).exec(page);
            assert.ok(block, `docs/cost.md has no generated table for ${stack}`);
            assert.strictEqual(block[1], costMarkdown(estimate(stack)), `docs/cost.md's ${stack} table is stale: regenerate it with npm run docs`);
        }
    });
});

describe("a stack's configuration file", () => {
    it("reads a value set with --secret as a placeholder, and names its key a secret", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-stack-"));
        try {
            fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            fs.writeFileSync(
                path.join(dir, "Pulumi.x.yaml"),
                [
                    "config:",
                    "  aws:region: us-east-1",
                    "  berth:secrets:",
                    "    api:",
                    "      AUTH_API_KEYS:",
                    "        secure: v1:AAAABBBB",
                    "  berth:azCount: 3",
                ].join("\n"),
            );
            const { project, config, secretKeys } = readStackConfig("x", dir);
            assert.strictEqual(project, "berth");
            assert.deepStrictEqual(JSON.parse(config["berth:secrets"]), { api: { AUTH_API_KEYS: SECRET_PLACEHOLDER } });
            assert.deepStrictEqual(secretKeys, ["berth:secrets"]);
            assert.strictEqual(config["berth:azCount"], "3");
            assert.strictEqual(config["berth:environment"], "test", "Pulumi.yaml's default");
            assert.throws(() => readStackConfig("missing", dir), /no stack file .*Pulumi\.missing\.yaml; shipped stacks: x/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
