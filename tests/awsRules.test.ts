/**
 * AWS's own rules (AWS Config managed rules behind Security Hub's FSBP standard and AWS's conformance packs
 * for ECS, ECR, load balancing and networking) evaluated on the whole program, per shipped stack, as AWS
 * documents each one (tests/support/awsRules.ts).
 *
 * `prod` with its domain passes every rule. A stack fails exactly the rules its settings relax, each by a
 * named setting (docs/security.md lists them with their cost), and flipping one such setting moves exactly its rule.
 */
import * as assert from "assert";
import { loadSettings, PRESETS, type Preset } from "../config";
import { catalog, declarations, resolveCatalog } from "../catalog";
import { evaluateRules, failingRules, relaxedRules, RULES, type Finding } from "./support/awsRules";
import { HOSTED_ZONE_ID, runBerth, shippedStacks, stackConfig } from "./support/pulumi";
import { T } from "./support/types";

/** `prod` as a team runs it once it has set its domain (docs/deploy.md, "HTTPS and domains"). */
function prodWithDomain(): Record<string, string> {
    const config: Record<string, string> = { ...stackConfig("prod"), "berth:domain": "example.com", "berth:hostedZoneId": HOSTED_ZONE_ID };
    delete config["berth:allowHttpOnly"];
    return config;
}

async function findings(config: Record<string, string>, stack: string, secretKeys?: string[]): Promise<Finding[]> {
    const { h } = await runBerth(config, { stack, secretKeys });
    return evaluateRules(h.resources);
}

function explain(found: readonly Finding[]): string {
    return found
        .filter((f) => f.compliance === "NON_COMPLIANT")
        .map((f) => `${f.rule}: ${f.resource}${f.reason ? ` (${f.reason})` : ""}`)
        .join("\n");
}

describe("AWS's own rules", () => {
    it("each name a documented rule, where AWS evaluates it, and what it applies to", () => {
        const ids = RULES.map((r) => r.id);
        assert.strictEqual(new Set(ids).size, ids.length, "a rule is listed twice");
        for (const rule of RULES) {
            assert.match(rule.id, /^[a-z0-9-]+$/);
            assert.ok(rule.sources.length > 0 && rule.types.length > 0 && rule.condition.length > 10, rule.id);
        }
    });

    for (const stack of shippedStacks()) {
        it(`Pulumi.${stack}.yaml fails exactly the rules its settings relax`, async () => {
            const config = stackConfig(stack);
            const settings = loadSettings(config, { project: "berth", stack }, catalog);
            const found = await findings(config, stack);
            assert.deepStrictEqual(failingRules(found), [...relaxedRules(settings).keys()].sort(), explain(found));
            assert.ok(found.filter((f) => f.compliance !== "NOT_APPLICABLE").length > 50, "the rules found almost nothing to evaluate");
        });
    }

    for (const stack of shippedStacks()) {
        it(`Pulumi.${stack}.yaml with berth:edge alb fails exactly the rules its settings relax`, async () => {
            const config = { ...stackConfig(stack), "berth:edge": "alb" };
            const settings = loadSettings(config, { project: "berth", stack }, catalog);
            const found = await findings(config, stack);
            assert.deepStrictEqual(failingRules(found), [...relaxedRules(settings).keys()].sort(), explain(found));
        });
    }

    it("prod with its domain and berth:edge alb, a backend requiring a JWT at the ALB, passes every rule", async () => {
        const config = {
            ...prodWithDomain(),
            "berth:edge": "alb",
            "berth:edgeJwt": JSON.stringify({ issuer: "https://issuer.example.com", jwksUrl: "https://issuer.example.com/.well-known/jwks.json" }),
        };
        const services = resolveCatalog(declarations.map((d) => (d.name === "users" ? { ...d, auth: "jwt" as const } : d)));
        const { h } = await runBerth(config, { stack: "prod", services });
        const found = evaluateRules(h.resources);
        assert.deepStrictEqual(failingRules(found), [], explain(found));
        assert.ok(!h.resources.some((r) => r.name.startsWith("api-")), "the gateway is deployed");
    });

    it("prod with its domain passes every rule", async () => {
        const found = await findings(prodWithDomain(), "prod");
        assert.deepStrictEqual(failingRules(found), [], explain(found));
        const evaluated = new Set(found.filter((f) => f.compliance === "COMPLIANT").map((f) => f.rule));
        for (const id of [
            "elbv2-acm-certificate-required",
            "alb-http-to-https-redirection-check",
            "alb-waf-enabled",
            "vpc-flow-logs-enabled",
            "cloudwatch-log-group-encrypted",
            "elb-logging-enabled",
            "ecs-task-definition-linux-user-non-root",
            "s3-bucket-ssl-requests-only",
            "rds-enhanced-monitoring-enabled",
            "rds-instance-event-notifications-configured",
            "rds-pg-event-notifications-configured",
            "rds-no-default-ports",
            "rds-postgres-instance-encrypted-in-transit",
            "secretsmanager-secret-unused",
            "step-functions-state-machine-logging-enabled",
            "kms-key-policy-no-public-access",
            "sns-topic-no-public-access",
            "sns-encrypted-kms",
            "sqs-queue-encrypted",
            "sqs-queue-no-public-access",
            "sqs-queue-dlq-check",
        ]) {
            assert.ok(evaluated.has(id), `${id} found nothing to pass on`);
        }
    });

    for (const strategy of ["canary", "linear", "blueGreen"]) {
        it(`prod with its domain passes every rule with ${strategy} deployments of the gateway and the backends`, async () => {
            const services = Object.fromEntries(catalog.filter((s) => s.kind !== "worker").map((s) => [s.name, { rollout: strategy }]));
            const { h } = await runBerth({ ...prodWithDomain(), "berth:services": JSON.stringify(services) }, { stack: "prod" });
            assert.ok(
                h.ofType(T.role).some((r) => r.name === "api-traffic-role"),
                "the run did not shift traffic",
            );
            const found = evaluateRules(h.resources);
            assert.deepStrictEqual(failingRules(found), [], explain(found));
        });
    }

    describe("each setting that relaxes a rule", () => {
        // The setting, the rules it relaxes, its relaxed value (test's, where test relaxes it) and prod's, as config.
        const database = (fields: Record<string, unknown>) => ({ "berth:database": JSON.stringify(fields) });
        const relaxing: Array<{ setting: string; rules: string[]; relaxed: Record<string, string>; strict: Record<string, string> }> = [
            ...(
                [
                    ["wafEnabled", ["alb-waf-enabled"], String(PRESETS.test.wafEnabled)],
                    ["flowLogs", ["vpc-flow-logs-enabled"], String(PRESETS.test.flowLogs)],
                    ["accessLogs", ["elb-logging-enabled"], "false"],
                    ["logsKmsKey", ["cloudwatch-log-group-encrypted"], String(PRESETS.test.logsKmsKey)],
                    ["logRetentionDays", ["cw-loggroup-retention-period-check"], String(PRESETS.test.logRetentionDays)],
                    ["containerInsights", ["ecs-container-insights-enabled"], String(PRESETS.test.containerInsights)],
                    [
                        "deletionProtection",
                        ["elb-deletion-protection-enabled", "rds-instance-deletion-protection-enabled"],
                        String(PRESETS.test.deletionProtection),
                    ],
                ] as Array<[keyof Preset, string[], string]>
            ).map(([key, rules, relaxed]) => ({
                setting: key,
                rules,
                relaxed: { [`berth:${key}`]: relaxed },
                strict: { [`berth:${key}`]: String(PRESETS.prod[key]) },
            })),
            {
                setting: "database.multiAz",
                rules: ["rds-multi-az-support"],
                relaxed: database({ multiAz: PRESETS.test.database.multiAz }),
                strict: database({ multiAz: PRESETS.prod.database.multiAz }),
            },
            {
                setting: "database.backupRetentionDays",
                rules: ["db-instance-backup-enabled"],
                relaxed: database({ backupRetentionDays: 1 }),
                strict: database({ backupRetentionDays: PRESETS.prod.database.backupRetentionDays }),
            },
        ];
        for (const { setting, rules, relaxed, strict } of relaxing) {
            it(`${setting}: its relaxed value fails ${rules.join(" and ")} in dev and prod alike, prod's value passes them`, async () => {
                const dev = { ...stackConfig("dev"), ...relaxed };
                const devRelaxed = failingRules(await findings(dev, "dev"));
                for (const rule of rules) {
                    assert.ok(devRelaxed.includes(rule), `${setting} does not fail ${rule}`);
                }
                const devStrict = failingRules(await findings({ ...dev, ...strict }, "dev"));
                assert.deepStrictEqual(
                    devStrict,
                    devRelaxed.filter((r) => !rules.includes(r)),
                );

                const prod = failingRules(await findings({ ...prodWithDomain(), ...relaxed }, "prod"));
                assert.deepStrictEqual(prod, [...rules].sort());
            });
        }

        it("natStrategy: the NAT instance fails ec2-instance-no-public-ip and ec2-instance-managed-by-systems-manager, a NAT gateway passes", async () => {
            const ec2Rules = ["ec2-instance-managed-by-systems-manager", "ec2-instance-no-public-ip"];
            const instance = await findings({ ...stackConfig("dev"), "berth:natStrategy": "instance" }, "dev");
            const gateway = await findings({ ...stackConfig("dev"), "berth:natStrategy": "single" }, "dev");
            const failing = failingRules(instance);
            assert.deepStrictEqual(
                failing.filter((r) => r.startsWith("ec2-instance")),
                ec2Rules,
            );
            assert.deepStrictEqual(
                failingRules(gateway),
                failing.filter((r) => !ec2Rules.includes(r)),
            );
            assert.ok(
                instance.some((f) => f.rule === "ec2-imdsv2-check" && f.compliance === "COMPLIANT"),
                "the NAT instance allows IMDSv1",
            );
        });

        it("secrets: a value the stack stores fails the rotation rules, and nothing else, in prod", async () => {
            const config = { ...prodWithDomain(), "berth:secrets": JSON.stringify({ api: { AUTH_API_KEYS: "a-value-set-with---secret" } }) };
            const found = await findings(config, "prod", ["berth:secrets"]);
            const settings = loadSettings(config, { project: "berth", stack: "prod" }, catalog, ["berth:secrets"]);
            const rotation = ["secretsmanager-rotation-enabled-check", "secretsmanager-secret-periodic-rotation"];
            assert.deepStrictEqual(failingRules(found), rotation);
            assert.deepStrictEqual(
                [...relaxedRules(settings).entries()]
                    .filter(([, s]) => s === "secrets")
                    .map(([r]) => r)
                    .sort(),
                rotation,
            );
            const stored = found.filter((f) => f.rule === "secretsmanager-secret-unused" && f.resource.startsWith("Secret "));
            assert.ok(stored.length === 1 && stored[0].compliance === "COMPLIANT", "the stored secret is read by no task");
        });
    });
});
