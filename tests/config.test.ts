import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadSettings, PRESETS, type Settings } from "../config";
import { catalog, declarations, resolveCatalog, type CatalogService, type ServiceDeclaration } from "../catalog";
import { Harness, stackConfig } from "./support/pulumi";
import { T } from "./support/types";

const context = { project: "berth", stack: "dev" };
const base = { "aws:region": "eu-west-1", "berth:environment": "test", "berth:vpcCidr": "10.0.0.0/16", "berth:azCount": "2" };

function load(extra: Record<string, string>): Settings {
    return loadSettings({ ...base, ...extra }, context, catalog);
}

/** The problems a configuration produces, one per line. */
function problems(extra: Record<string, string>, drop: string[] = []): string[] {
    const config: Record<string, string> = { ...base, ...extra };
    for (const key of drop) {
        delete config[key];
    }
    try {
        loadSettings(config, context, catalog);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        assert.match(e.message, /^Invalid stack configuration:\n/);
        return e.problems;
    }
    assert.fail("the configuration was accepted");
}

describe("stack configuration", () => {
    it("applies the test preset to every service", () => {
        const s = load({});
        assert.strictEqual(s.environment, "test");
        assert.strictEqual(s.natStrategy, "instance", "a test stack does NAT with one small instance");
        assert.strictEqual(s.natInstanceType, "t4g.nano");
        assert.strictEqual(s.region, "eu-west-1");
        assert.strictEqual(s.azCount, 2);
        for (const service of catalog) {
            assert.deepStrictEqual(s.services[service.name], { cpu: 256, memory: 512, desiredCount: 1, maxCount: 1 });
        }
        assert.strictEqual(s.forceDelete, true);
        assert.strictEqual(s.deletionProtection, false);
    });

    it("applies the prod preset", () => {
        const s = load({ "berth:environment": "prod", "berth:allowHttpOnly": "true" });
        const { cpu, memory, desiredCount, maxCount, database, ...shared } = PRESETS.prod;
        for (const [key, value] of Object.entries(shared)) {
            assert.deepStrictEqual((s as unknown as Record<string, unknown>)[key], value, key);
        }
        assert.deepStrictEqual({ ...s.database, cidr: undefined }, { ...database, cidr: undefined });
        assert.deepStrictEqual(s.services.users, { cpu, memory, desiredCount, maxCount });
    });

    it("overrides single keys of the preset, and single services", () => {
        const s = load({
            "berth:environment": "prod",
            "berth:allowHttpOnly": "true",
            "berth:natStrategy": "single",
            "berth:logRetentionDays": "30",
            "berth:containerInsights": "false",
            "berth:services": JSON.stringify({ users: { cpu: 1024, memory: 2048, desiredCount: 4 } }),
        });
        assert.strictEqual(s.natStrategy, "single");
        assert.strictEqual(s.logRetentionDays, 30);
        assert.strictEqual(s.containerInsights, false);
        assert.strictEqual(s.deletionProtection, true, "keys not overridden keep the preset's value");
        assert.deepStrictEqual(s.services.users, { cpu: 1024, memory: 2048, desiredCount: 4, maxCount: 6 });
        assert.deepStrictEqual(s.services.products, { cpu: 1024, memory: 2048, desiredCount: 2, maxCount: 6 });
    });

    it("reads a service's numbers written as text the same as top-level ones", () => {
        const s = load({
            "berth:desiredCount": "2",
            "berth:services": JSON.stringify({ users: { desiredCount: "3", maxCount: 4, cpu: "512", memory: "1024" } }),
        });
        assert.deepStrictEqual(s.services.users, { cpu: 512, memory: 1024, desiredCount: 3, maxCount: 4 });
        assert.strictEqual(s.services.products.desiredCount, 2);
    });

    it("lets prod serve HTTP only when the stack says so, and takes a certificate of its own region", () => {
        assert.strictEqual(load({ "berth:environment": "prod", "berth:allowHttpOnly": "true" }).allowHttpOnly, true);
        const arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
        assert.strictEqual(load({ "berth:environment": "prod", "berth:certificateArn": arn }).certificateArn, arn);
    });

    it("runs test on Spot with ECS Exec, and prod on on-demand FARGATE without it", () => {
        const test = load({});
        assert.deepStrictEqual([test.spotPercent, test.onDemandBase, test.ecsExec], [100, 0, true]);
        const prod = load({ "berth:environment": "prod", "berth:allowHttpOnly": "true" });
        assert.deepStrictEqual([prod.spotPercent, prod.ecsExec], [0, false]);
        const spot = load({ "berth:environment": "prod", "berth:allowHttpOnly": "true", "berth:spotPercent": "50", "berth:ecsExec": "true" });
        assert.deepStrictEqual([spot.spotPercent, spot.onDemandBase, spot.ecsExec], [50, 1, true]);
    });

    it("reads scheduled scaling, an alarm address and a NAT instance", () => {
        const schedules = [
            { name: "night", schedule: "cron(0 20 ? * MON-FRI *)", timezone: "Europe/Berlin", minCount: 0, maxCount: 0 },
            { name: "morning", schedule: "cron(0 7 ? * MON-FRI *)", timezone: "Europe/Berlin", minCount: 1, maxCount: 1, services: ["api"] },
            { name: "launch", schedule: "at(2027-03-01T08:00:00)", minCount: 1 },
            { name: "tick", schedule: "rate(5 minutes)", minCount: 1 },
        ];
        const s = load({
            "berth:scaleSchedules": JSON.stringify(schedules),
            "berth:alarmEmail": "ops@example.com",
            "berth:natStrategy": "instance",
            "berth:natInstanceType": "t4g.micro",
        });
        assert.deepStrictEqual(s.scaleSchedules, schedules);
        assert.strictEqual(s.alarmEmail, "ops@example.com");
        assert.deepStrictEqual([s.natStrategy, s.natInstanceType], ["instance", "t4g.micro"]);
    });

    it("takes a stack's own choice of tracing and sample ratio", () => {
        const s = load({ "berth:tracing": "true", "berth:tracingSampleRatio": "0.25" });
        assert.deepStrictEqual([s.tracing, s.tracingSampleRatio], [true, 0.25]);
        assert.strictEqual(load({ "berth:tracingSampleRatio": "1" }).tracingSampleRatio, 1);
    });

    it("raises the autoscaling ceiling to an overridden task count", () => {
        assert.strictEqual(load({ "berth:desiredCount": "3" }).services.api.maxCount, 3);
    });

    it("reads every shipped stack file", () => {
        for (const stack of ["dev", "prod"]) {
            const s = loadSettings(stackConfig(stack), { project: "berth", stack }, catalog);
            assert.strictEqual(s.stack, stack);
        }
        assert.strictEqual(loadSettings(stackConfig("dev"), context, catalog).environment, "test");
        assert.strictEqual(loadSettings(stackConfig("prod"), context, catalog).environment, "prod");
    });

    const errors: Array<[string, Record<string, string>, RegExp]> = [
        ["an unknown environment", { "berth:environment": "staging" }, /^berth:environment is "staging"; allowed: one of test, prod$/],
        ["a CIDR that is no CIDR", { "berth:vpcCidr": "10.0.0/16" }, /^berth:vpcCidr is "10\.0\.0\/16": it is not an IPv4 CIDR block/],
        [
            "a CIDR with host bits",
            { "berth:vpcCidr": "10.0.0.1/16" },
            /^berth:vpcCidr is "10\.0\.0\.1\/16": its host bits are set; the network address is 10\.0\.0\.0\/16$/,
        ],
        [
            "a VPC larger than AWS allows",
            { "berth:vpcCidr": "10.0.0.0/8" },
            /^berth:vpcCidr is "10\.0\.0\.0\/8"; allowed: a prefix from \/16 to \/26 for 2 AZs/,
        ],
        ["a VPC too small for its subnets", { "berth:vpcCidr": "10.0.0.0/27" }, /^berth:vpcCidr is "10\.0\.0\.0\/27"; allowed: a prefix from \/16 to \/26/],
        ["one AZ", { "berth:azCount": "1" }, /^berth:azCount is "1"; allowed: a whole number from 2 \(the ALB needs two AZs\) to 6$/],
        ["a fractional AZ count", { "berth:azCount": "2.5" }, /^berth:azCount is "2\.5"; allowed: a whole number/],
        [
            "an unknown NAT strategy",
            { "berth:natStrategy": "none" },
            /^berth:natStrategy is "none"; allowed: one of single, perAz, instance \(test stacks only\)$/,
        ],
        [
            "a CPU/memory pair Fargate refuses",
            { "berth:cpu": "256", "berth:memory": "4096" },
            /^berth:cpu\/berth:memory is cpu 256 with memory 4096, which Fargate does not run; allowed: with cpu 256, memory must be one of 512, 1024, 2048 \(MiB\)$/,
        ],
        ["a CPU Fargate does not have", { "berth:cpu": "300" }, /cpu 300 with memory 512, which Fargate does not run; allowed: cpu must be one of 256, 512/],
        [
            "a service pair Fargate refuses",
            { "berth:services": JSON.stringify({ users: { cpu: 512, memory: 512 } }) },
            /^berth:services\.users is cpu 512 with memory 512, which Fargate does not run; allowed: with cpu 512, memory must be one of 1024, 2048, 3072, 4096 \(MiB\)$/,
        ],
        [
            "an override for an unknown service",
            { "berth:services": JSON.stringify({ "no-such-service": { desiredCount: 2 } }) },
            new RegExp(`^berth:services\\.no-such-service names no service of the catalogue; allowed: ${catalog.map((s) => s.name).join(", ")}$`),
        ],
        [
            "an unknown override field",
            { "berth:services": JSON.stringify({ users: { replicas: 2 } }) },
            /^berth:services\.users has unknown keys replicas; allowed: cpu, memory, desiredCount, maxCount, rollout$/,
        ],
        [
            "a negative task count for a service",
            { "berth:services": JSON.stringify({ users: { desiredCount: -1 } }) },
            /^berth:services\.users\.desiredCount is -1; allowed: /,
        ],
        ["services that are no object", { "berth:services": "[1]" }, /^berth:services is \[1\]; allowed: an object such as/],
        ["a log retention CloudWatch lacks", { "berth:logRetentionDays": "10" }, /^berth:logRetentionDays is "10"; allowed: one of 1, 3, 5, 7, 14, 30/],
        ["a boolean that is no boolean", { "berth:forceDelete": "yes" }, /^berth:forceDelete is "yes"; allowed: true or false$/],
        [
            "a ceiling below the task count",
            { "berth:desiredCount": "3", "berth:maxCount": "2" },
            /^berth:maxCount is 2, below desiredCount 3; allowed: at least desiredCount$/,
        ],
        ["an unknown key", { "berth:desiredcount": "3" }, /^berth:desiredcount is not a setting Berth knows; allowed keys: environment, vpcCidr, azCount/],
        ["a certificate that is no ARN", { "berth:certificateArn": "my-cert" }, /^berth:certificateArn is "my-cert"; allowed: an ACM certificate ARN/],
        [
            "a domain without a certificate",
            { "berth:domain": "api.example.com" },
            /^berth:domain is "api\.example\.com" but neither berth:hostedZoneId nor berth:certificateArn is set; allowed: /,
        ],
        ["a hosted zone without a domain", { "berth:hostedZoneId": "Z0123456789EXAMPLE" }, /^berth:hostedZoneId is set but berth:domain is not/],
        [
            "a hosted zone ID of another form",
            { "berth:hostedZoneId": "example.com", "berth:domain": "example.com" },
            /^berth:hostedZoneId is "example\.com"; allowed: a Route 53 hosted zone ID/,
        ],
        ["a relaxing setting that is no boolean", { "berth:wafEnabled": "yes" }, /^berth:wafEnabled is "yes"; allowed: true or false$/],
        ["tracing that is no boolean", { "berth:tracing": "on" }, /^berth:tracing is "on"; allowed: true or false$/],
        [
            "a sample ratio of zero",
            { "berth:tracingSampleRatio": "0" },
            /^berth:tracingSampleRatio is "0"; allowed: a decimal number above 0 and at most 1, such as 0\.05/,
        ],
        [
            "a sample ratio above one",
            { "berth:tracingSampleRatio": "1.5" },
            /^berth:tracingSampleRatio is "1\.5"; allowed: a decimal number above 0 and at most 1/,
        ],
        ["a sample ratio in percent", { "berth:tracingSampleRatio": "5%" }, /^berth:tracingSampleRatio is "5%"; allowed: a decimal number/],
        ["a sample ratio without its leading zero", { "berth:tracingSampleRatio": ".5" }, /^berth:tracingSampleRatio is "\.5"; allowed: a decimal number/],
        ["an empty task count", { "berth:desiredCount": "" }, /^berth:desiredCount is ""; allowed: a whole number from 0 to 100$/],
        ["a task count in hexadecimal", { "berth:desiredCount": "0x3" }, /^berth:desiredCount is "0x3"; allowed: a whole number/],
        ["an AZ count in hexadecimal", { "berth:azCount": "0x3" }, /^berth:azCount is "0x3"; allowed: a whole number from 2/],
        ["an AZ count in exponent notation", { "berth:azCount": "2e0" }, /^berth:azCount is "2e0"; allowed: a whole number from 2/],
        [
            "a loopback VPC",
            { "berth:vpcCidr": "127.0.0.0/16" },
            /^berth:vpcCidr is "127\.0\.0\.0\/16", which overlaps 127\.0\.0\.0\/8 \(loopback\); allowed: a range of unicast addresses/,
        ],
        ["a multicast VPC", { "berth:vpcCidr": "224.0.0.0/16" }, /^berth:vpcCidr is "224\.0\.0\.0\/16", which overlaps 224\.0\.0\.0\/4 \(multicast\)/],
        ["a link-local VPC", { "berth:vpcCidr": "169.254.0.0/16" }, /overlaps 169\.254\.0\.0\/16 \(link-local/],
        ["a VPC in 0.0.0.0/8", { "berth:vpcCidr": "0.0.0.0/16" }, /overlaps 0\.0\.0\.0\/8/],
        ["a reserved-class VPC", { "berth:vpcCidr": "250.0.0.0/16" }, /overlaps 240\.0\.0\.0\/4/],
        [
            "a certificate from another region",
            { "berth:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666" },
            /^berth:certificateArn is "arn:aws:acm:us-east-1:[^"]+", a certificate in us-east-1; allowed: a certificate in the stack's region eu-west-1/,
        ],
        [
            "a service's task count as an empty string",
            { "berth:services": JSON.stringify({ users: { desiredCount: "" } }) },
            /^berth:services\.users\.desiredCount is ""; allowed: a whole number from 0 to 100$/,
        ],
        [
            "a service's task count in hexadecimal",
            { "berth:services": JSON.stringify({ users: { desiredCount: "0x3" } }) },
            /^berth:services\.users\.desiredCount is "0x3"; allowed: a whole number from 0 to 100$/,
        ],
        [
            "keeping one image",
            { "berth:keepImages": "1" },
            /^berth:keepImages is "1"; allowed: a whole number from 3 \(the running image, the one a rollback returns to, the one rolling out\) to 1000$/,
        ],
        ["keeping two images", { "berth:keepImages": "2" }, /^berth:keepImages is "2"; allowed: a whole number from 3/],
        [
            "prod without HTTPS, unsaid",
            { "berth:environment": "prod" },
            /^berth:domain is not set, so this prod stack would serve plain HTTP; allowed: set berth:domain and berth:hostedZoneId \(or berth:certificateArn\), or say so on purpose with `pulumi config set berth:allowHttpOnly true`$/,
        ],
        [
            "zone IDs that are no zone IDs",
            { "berth:availabilityZoneIds": JSON.stringify(["us-east-1a", "us-east-1b"]) },
            /^berth:availabilityZoneIds is "\[[^\]]+\]"; allowed: a list of at least 2 distinct zone IDs/,
        ],
        [
            "fewer zone IDs than AZs",
            { "berth:availabilityZoneIds": JSON.stringify(["euw1-az1", "euw1-az2"]), "berth:azCount": "3" },
            /^berth:availabilityZoneIds lists 2 zones \(euw1-az1, euw1-az2\) but berth:azCount is 3; allowed: exactly azCount zone IDs$/,
        ],
        [
            "a NAT instance in prod",
            { "berth:environment": "prod", "berth:allowHttpOnly": "true", "berth:natStrategy": "instance" },
            /^berth:natStrategy is "instance" in a prod stack; allowed in prod: single, perAz/,
        ],
        [
            "a NAT instance type that is not ARM64",
            { "berth:natInstanceType": "t3.nano" },
            /^berth:natInstanceType is "t3\.nano"; allowed: one of t4g\.nano, t4g\.micro/,
        ],
        ["a Spot share over 100 %", { "berth:spotPercent": "120" }, /^berth:spotPercent is "120"; allowed: a whole number from 0 to 100/],
        ["a fractional Spot share", { "berth:spotPercent": "50.5" }, /^berth:spotPercent is "50\.5"; allowed: a whole number from 0 to 100/],
        ["a negative on-demand base", { "berth:onDemandBase": "-1" }, /^berth:onDemandBase is "-1"; allowed: a whole number from 0 to 100$/],
        [
            "Spot in prod without an on-demand base",
            { "berth:environment": "prod", "berth:allowHttpOnly": "true", "berth:spotPercent": "50", "berth:onDemandBase": "0" },
            /^berth:onDemandBase is 0 with berth:spotPercent 50 in a prod stack; allowed: at least 1/,
        ],
        ["no requests per target", { "berth:requestsPerTarget": "0" }, /^berth:requestsPerTarget is "0"; allowed: a whole number from 1 to 100000/],
        ["ECS Exec that is no boolean", { "berth:ecsExec": "on" }, /^berth:ecsExec is "on"; allowed: true or false$/],
        [
            "an alarm address that is no e-mail address",
            { "berth:alarmEmail": "ops-at-example.com" },
            /^berth:alarmEmail is "ops-at-example\.com"; allowed: an e-mail address such as ops@example\.com$/,
        ],
        [
            "schedules that are no list",
            { "berth:scaleSchedules": JSON.stringify({ name: "night" }) },
            /^berth:scaleSchedules is ".*"; allowed: a list such as \[/,
        ],
        [
            "a cron expression with five fields",
            { "berth:scaleSchedules": JSON.stringify([{ name: "night", schedule: "cron(0 20 * * 1-5)", minCount: 0 }]) },
            /^berth:scaleSchedules\[0\]\.schedule is "cron\(0 20 \* \* 1-5\)": Expected 6 values, but got 5\.; allowed: cron\(minutes hours/,
        ],
        [
            "a cron expression with both day fields",
            { "berth:scaleSchedules": JSON.stringify([{ name: "night", schedule: "cron(0 20 * * MON-FRI *)", minCount: 0 }]) },
            /^berth:scaleSchedules\[0\]\.schedule is "cron\(0 20 \* \* MON-FRI \*\)": Cannot specify both daysOfMonth and daysOfWeek/,
        ],
        [
            "an hour that does not exist",
            { "berth:scaleSchedules": JSON.stringify([{ name: "night", schedule: "cron(0 24 ? * * *)", minCount: 0 }]) },
            /^berth:scaleSchedules\[0\]\.schedule is "cron\(0 24 \? \* \* \*\)": Number '24' of hours field is bigger than upper limit '23'/,
        ],
        [
            "a date that does not exist",
            { "berth:scaleSchedules": JSON.stringify([{ name: "launch", schedule: "at(2027-02-30T08:00:00)", minCount: 4 }]) },
            /^berth:scaleSchedules\[0\]\.schedule is "at\(2027-02-30T08:00:00\)": that date or time does not exist/,
        ],
        [
            "a rate in the wrong number",
            { "berth:scaleSchedules": JSON.stringify([{ name: "tick", schedule: "rate(1 hours)", minCount: 1 }]) },
            /^berth:scaleSchedules\[0\]\.schedule is "rate\(1 hours\)": write rate\(1 hour\)/,
        ],
        [
            "a crontab line without cron()",
            { "berth:scaleSchedules": JSON.stringify([{ name: "night", schedule: "0 20 ? * MON-FRI *", minCount: 0 }]) },
            /^berth:scaleSchedules\[0\]\.schedule is "0 20 \? \* MON-FRI \*": write cron\(minutes hours/,
        ],
        [
            "a time zone that does not exist",
            { "berth:scaleSchedules": JSON.stringify([{ name: "night", schedule: "cron(0 20 ? * MON-FRI *)", timezone: "Europe/Atlantis", minCount: 0 }]) },
            /^berth:scaleSchedules\[0\]\.timezone is "Europe\/Atlantis"; allowed: an IANA time zone/,
        ],
        [
            "a time zone in the wrong case",
            { "berth:scaleSchedules": JSON.stringify([{ name: "night", schedule: "cron(0 20 ? * MON-FRI *)", timezone: "europe berlin", minCount: 0 }]) },
            /^berth:scaleSchedules\[0\]\.timezone is "europe berlin"; allowed: an IANA time zone/,
        ],
        [
            "a schedule ceiling below its floor",
            { "berth:scaleSchedules": JSON.stringify([{ name: "day", schedule: "cron(0 7 ? * MON-FRI *)", minCount: 3, maxCount: 2 }]) },
            /^berth:scaleSchedules\[0\]\.maxCount is 2, below its minCount 3; allowed: at least minCount$/,
        ],
        [
            "a schedule floor above a service's ceiling",
            { "berth:scaleSchedules": JSON.stringify([{ name: "day", schedule: "cron(0 7 ? * MON-FRI *)", minCount: 3 }]) },
            /^berth:scaleSchedules\[0\] \(day\) sets minCount 3, above the maxCount 1 of service api; allowed: a minCount up to 1, or a maxCount of its own$/,
        ],
        [
            "a schedule for an unknown service",
            { "berth:scaleSchedules": JSON.stringify([{ name: "day", schedule: "cron(0 7 ? * MON-FRI *)", minCount: 1, services: ["orders"] }]) },
            /^berth:scaleSchedules\[0\]\.services names "orders", no service of the catalogue; allowed: /,
        ],
        [
            "two schedules of one name",
            {
                "berth:scaleSchedules": JSON.stringify([
                    { name: "day", schedule: "cron(0 7 ? * MON-FRI *)", minCount: 1 },
                    { name: "day", schedule: "cron(0 8 ? * SAT *)", minCount: 1 },
                ]),
            },
            /^berth:scaleSchedules\[1\]\.name is "day", which an earlier schedule has/,
        ],
        [
            "a schedule with a negative floor",
            { "berth:scaleSchedules": JSON.stringify([{ name: "day", schedule: "cron(0 7 ? * MON-FRI *)", minCount: -1 }]) },
            /^berth:scaleSchedules\[0\]\.minCount is -1; allowed: a whole number from 0 to 100$/,
        ],
        [
            "a schedule with an unknown field",
            { "berth:scaleSchedules": JSON.stringify([{ name: "day", schedule: "cron(0 7 ? * MON-FRI *)", minCount: 1, desired: 2 }]) },
            /^berth:scaleSchedules\[0\] has unknown keys desired; allowed: name, schedule, timezone, minCount, maxCount, services$/,
        ],
    ];
    for (const [what, extra, message] of errors) {
        it(`names the key, the value and what is allowed for ${what}`, () => {
            const found = problems(extra);
            assert.ok(
                found.some((p) => message.test(p)),
                `no problem matches ${message}:\n${found.join("\n")}`,
            );
        });
    }

    describe("the database", () => {
        it("overrides single database settings and keeps the preset's others", () => {
            const s = load({ "berth:database": JSON.stringify({ instanceClass: "db.m7g.large", storageGb: "100", engineVersion: 16, multiAz: "true" }) });
            assert.deepStrictEqual(
                { ...s.database, cidr: undefined },
                {
                    ...PRESETS.test.database,
                    instanceClass: "db.m7g.large",
                    storageGb: 100,
                    engineVersion: "16",
                    multiAz: true,
                    cidr: undefined,
                },
            );
        });

        it("gives the isolated subnets a range that moves no subnet: a secondary /24 for 2 AZs, the VPC's last /24 for 3", () => {
            assert.strictEqual(load({}).database.cidr, "10.1.0.0/24");
            assert.strictEqual(load({ "berth:azCount": "3" }).database.cidr, "10.0.255.0/24");
            assert.strictEqual(load({ "berth:database": JSON.stringify({ cidr: "10.0.200.0/24" }), "berth:azCount": "3" }).database.cidr, "10.0.200.0/24");
        });

        it("needs no range when no service declares the database", () => {
            const services = catalog.map(({ database: _database, ...rest }) => rest);
            const s = loadSettings({ ...base, "berth:vpcCidr": "100.64.0.0/16" }, context, services);
            assert.strictEqual(s.database.cidr, undefined);
        });

        const wrong: Array<[string, Record<string, unknown>, RegExp]> = [
            [
                "an instance class of another family",
                { instanceClass: "db.x2g.large" },
                /^berth:database\.instanceClass is "db\.x2g\.large"; allowed: db\.<family>\.<size> with family t4g, t3 \(micro to 2xlarge\)/,
            ],
            [
                "a micro class of a family that starts at large",
                { instanceClass: "db.m7g.micro" },
                /^berth:database\.instanceClass is "db\.m7g\.micro"; allowed: /,
            ],
            ["an EC2 instance type", { instanceClass: "t4g.micro" }, /^berth:database\.instanceClass is "t4g\.micro"; allowed: /],
            ["less storage than gp3 takes", { storageGb: 10 }, /^berth:database\.storageGb is 10; allowed: a whole number of GiB from 20 to 65536 \(gp3\)$/],
            ["more storage than RDS takes", { storageGb: 70000 }, /^berth:database\.storageGb is 70000; allowed: a whole number of GiB from 20 to 65536/],
            [
                "a major version RDS no longer supports",
                { engineVersion: "13" },
                /^berth:database\.engineVersion is "13"; allowed: a PostgreSQL major version \(14, 15, 16, 17\) or one of its minor versions/,
            ],
            [
                "a major version that does not exist",
                { engineVersion: "99.1" },
                /^berth:database\.engineVersion is "99\.1"; allowed: a PostgreSQL major version \(14, 15, 16, 17\)/,
            ],
            ["a version that is no version", { engineVersion: "latest" }, /^berth:database\.engineVersion is "latest"; allowed: /],
            [
                "backups turned off",
                { backupRetentionDays: 0 },
                /^berth:database\.backupRetentionDays is 0; allowed: a whole number of days from 1 to 35 \(automated backups stay on\)$/,
            ],
            ["a boolean that is no boolean", { multiAz: "yes" }, /^berth:database\.multiAz is "yes"; allowed: true or false$/],
            [
                "an unknown database setting",
                { size: "large" },
                /^berth:database\.size is not a database setting; allowed keys: instanceClass, storageGb, engineVersion/,
            ],
            [
                "a range over the private subnets",
                { cidr: "10.0.128.0/24" },
                /^berth:database\.cidr is "10\.0\.128\.0\/24": it overlaps the subnet 10\.0\.128\.0\/18; allowed: /,
            ],
            [
                "a range outside the VPC's RFC 1918 range",
                { cidr: "192.168.0.0/24" },
                /^berth:database\.cidr is "192\.168\.0\.0\/24": allowed outside the VPC: a range in the VPC's own RFC 1918 range 10\.0\.0\.0\/8/,
            ],
            [
                "a range too small for a /28 per AZ",
                { cidr: "10.1.0.0/28" },
                /^berth:database\.cidr is "10\.1\.0\.0\/28": allowed: a range that holds 2 subnets of at least \/28 \(a \/27 or larger\)$/,
            ],
            ["a range that is no range", { cidr: "10.1.0.0" }, /^berth:database\.cidr is "10\.1\.0\.0": it is not an IPv4 CIDR block/],
        ];
        for (const [what, database, message] of wrong) {
            it(`names the key, the value and what is allowed for ${what}`, () => {
                const found = problems({ "berth:database": JSON.stringify(database) });
                assert.ok(
                    found.some((p) => message.test(p)),
                    `no problem matches ${message}:\n${found.join("\n")}`,
                );
            });
        }

        it("asks for a range when the VPC has no room and lies outside RFC 1918", () => {
            const found = problems({ "berth:vpcCidr": "100.64.0.0/16" });
            assert.ok(
                found.some((p) => /^berth:database\.cidr is not set, and the VPC 100\.64\.0\.0\/16 has no room left/.test(p)),
                found.join("\n"),
            );
        });

        it("shows no value of a key set with --secret", () => {
            const config = { ...base, "berth:database": "hunter2-not-json", "berth:domain": "hunter3.example.com" };
            const error = (() => {
                try {
                    loadSettings(config, context, catalog, ["berth:database", "berth:domain"]);
                } catch (e) {
                    return e as ConfigError;
                }
                return assert.fail("accepted");
            })();
            assert.match(error.message, /berth:database is a secret \(not shown\)/);
            assert.ok(!error.message.includes("hunter2") && !error.message.includes("hunter3"), error.message);
        });
    });

    describe("secrets", () => {
        const VALUE = "sk_live_not-to-be-shown";
        function secretProblems(secrets: unknown, secretKeys = ["berth:secrets"]): string[] {
            try {
                loadSettings({ ...base, "berth:secrets": JSON.stringify(secrets) }, context, catalog, secretKeys);
            } catch (e) {
                assert.ok(e instanceof ConfigError);
                assert.ok(!e.message.includes(VALUE), `the error shows the value: ${e.message}`);
                return e.problems;
            }
            return assert.fail("the configuration was accepted");
        }

        it("reads values set with --secret as Pulumi secrets, and ARNs as references", async () => {
            const s = loadSettings(
                {
                    ...base,
                    "berth:secrets": JSON.stringify({
                        api: {
                            AUTH_API_KEYS: VALUE,
                            AUTH_JWT: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf:key::",
                            STRIPE: "arn:aws:ssm:eu-west-1:123456789012:parameter/stripe",
                        },
                    }),
                },
                context,
                catalog,
                ["berth:secrets"],
            );
            const [value, jwt, stripe] = s.secrets.api;
            assert.strictEqual(value.kind, "value");
            assert.ok(value.kind === "value" && (await pulumi.isSecret(value.value)), "the value is no Pulumi secret");
            assert.deepStrictEqual(jwt, {
                name: "AUTH_JWT",
                kind: "secretsmanager",
                valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf:key::",
                resourceArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf",
            });
            assert.deepStrictEqual(stripe, {
                name: "STRIPE",
                kind: "ssm",
                valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/stripe",
                resourceArn: "arn:aws:ssm:eu-west-1:123456789012:parameter/stripe",
            });
        });

        const wrong: Array<[string, unknown, RegExp, string[]?]> = [
            [
                "a value in plain text",
                { api: { AUTH_API_KEYS: VALUE } },
                /^berth:secrets\.api\.AUTH_API_KEYS holds a value in plain text in the stack's configuration \(value not shown\); allowed: the value set with `pulumi config set --secret --path 'berth:secrets\.api\.AUTH_API_KEYS' <value>`/,
                [],
            ],
            [
                "an ARN Berth cannot read",
                { api: { AUTH_API_KEYS: `arn:aws:s3:::${VALUE}` } },
                /^berth:secrets\.api\.AUTH_API_KEYS starts with "arn:" but is no reference Berth can read \(value not shown\); allowed: a Secrets Manager secret's full ARN/,
            ],
            [
                "a Secrets Manager ARN without its suffix",
                { api: { AUTH_API_KEYS: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${VALUE}` } },
                /^berth:secrets\.api\.AUTH_API_KEYS starts with "arn:" but is no reference/,
            ],
            ["an unknown service", { nope: { KEY: VALUE } }, /^berth:secrets\.nope names no service of the catalogue; allowed: api, users, products/],
            [
                "a lower-case variable",
                { api: { auth_key: VALUE } },
                /^berth:secrets\.api\.auth_key: "auth_key" is not a variable name Berth takes; allowed: upper-case letters/,
            ],
            [
                "a variable the catalogue sets",
                { api: { ROUTES: VALUE } },
                /^berth:secrets\.api\.ROUTES: ROUTES is a variable Berth sets on api itself \(PORT, ROUTES, TIMEOUT_MS, TRUST_PROXY, /,
            ],
            [
                "a database variable",
                { users: { DB_PASSWORD: VALUE } },
                /^berth:secrets\.users\.DB_PASSWORD: DB_PASSWORD is a variable Berth sets on users itself \(PORT, DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, DB_SSL, /,
            ],
            // Reserved in stacks without tracing too: turning it on later must not collide with a secret.
            [
                "a tracing variable",
                { users: { OTEL_EXPORTER_OTLP_ENDPOINT: VALUE } },
                /^berth:secrets\.users\.OTEL_EXPORTER_OTLP_ENDPOINT: OTEL_EXPORTER_OTLP_ENDPOINT is a variable Berth sets on users itself \(.*OTEL_TRACES_SAMPLER_ARG\)/,
            ],
            ["an empty value", { api: { KEY: "" } }, /^berth:secrets\.api\.KEY is empty or not text \(value not shown\)/],
            ["a service that is no object", { api: VALUE }, /^berth:secrets\.api is not an object; allowed: variable names to values or ARNs/],
        ];
        for (const [what, secrets, message, keys] of wrong) {
            it(`refuses ${what}, naming the key and never the value`, () => {
                const found = secretProblems(secrets, keys);
                assert.ok(
                    found.some((p) => message.test(p)),
                    `no problem matches ${message}:\n${found.join("\n")}`,
                );
            });
        }

        it("refuses a value that is no object without showing it", () => {
            const found = (() => {
                try {
                    loadSettings({ ...base, "berth:secrets": VALUE }, context, catalog, []);
                } catch (e) {
                    assert.ok(!(e as Error).message.includes(VALUE));
                    return (e as ConfigError).problems;
                }
                return assert.fail("accepted");
            })();
            assert.ok(
                found.some((p) => /^berth:secrets is a secret \(not shown\); allowed: an object/.test(p)),
                found.join("\n"),
            );
        });
    });

    it("names a missing region and missing project keys", () => {
        const found = problems({}, ["aws:region", "berth:azCount"]);
        assert.ok(
            found.some((p) => /^aws:region is not set; set it with `pulumi config set aws:region/.test(p)),
            found.join("\n"),
        );
        assert.ok(
            found.some((p) => /^berth:azCount is not set/.test(p)),
            found.join("\n"),
        );
    });

    describe("the stack's AWS credentials", () => {
        it("carries the profile, the shared files, the role chain and the account guard", () => {
            const role = { roleArn: "arn:aws:iam::210987654321:role/deployer", externalId: "ext-1", sessionName: "berth", duration: "1h" };
            const s = load({
                "aws:profile": "team-sso",
                "aws:sharedCredentialsFiles": JSON.stringify(["/ci/credentials"]),
                "aws:assumeRoles": JSON.stringify([role]),
                "aws:forbiddenAccountIds": JSON.stringify(["123456789012"]),
                "aws:skipCredentialsValidation": "true",
            });
            assert.deepStrictEqual(s.awsIdentity, {
                profile: "team-sso",
                sharedConfigFile: undefined,
                sharedCredentialsFile: "/ci/credentials",
                assumeRoles: [role],
                allowedAccountIds: undefined,
                forbiddenAccountIds: ["123456789012"],
                skipCredentialsValidation: true,
                skipRequestingAccountId: undefined,
            });
        });

        it("takes the single aws:assumeRole as a chain of one", () => {
            const s = load({ "aws:assumeRole": JSON.stringify({ roleArn: "arn:aws:iam::210987654321:role/deployer" }) });
            assert.deepStrictEqual(s.awsIdentity.assumeRoles, [{ roleArn: "arn:aws:iam::210987654321:role/deployer" }]);
        });

        it("refuses plain keys without showing them", () => {
            const found = problems({ "aws:accessKey": "AKIAEXAMPLEKEY", "aws:secretKey": "wJalrXUtnFEMI/EXAMPLE" });
            assert.strictEqual(found.length, 2, found.join("\n"));
            assert.match(found[0], /^aws:accessKey is set \(not shown\); allowed: unset: give keys through the environment \(AWS_ACCESS_KEY_ID, /);
            assert.ok(!found.join().includes("AKIAEXAMPLEKEY") && !found.join().includes("wJalrXUtnFEMI"));
        });

        it("refuses every aws:* setting the provider would not get, naming it", () => {
            for (const key of [
                "aws:endpoints",
                "aws:stsRegion",
                "aws:assumeRoleWithWebIdentity",
                "aws:customCaBundle",
                "aws:defaultTags",
                "aws:skipMetadataApiCheck",
            ]) {
                const found = problems({ [key]: "x" });
                assert.strictEqual(found.length, 1, key);
                assert.match(
                    found[0],
                    new RegExp(
                        `^${key} is set \\(not shown\\); allowed: unset: Berth's own AWS provider reads no aws:\\* setting by itself \\(pulumi/pulumi-aws#1307\\) and takes only aws:region, aws:profile, `,
                    ),
                );
            }
        });

        it("refuses what the deployment check could not act on the same way", () => {
            assert.match(
                problems({ "aws:sharedConfigFiles": JSON.stringify(["/a", "/b"]) })[0],
                /^aws:sharedConfigFiles is "\[\\"\/a\\",\\"\/b\\"\]"; allowed: a list of one path/,
            );
            assert.match(
                problems({ "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::210987654321:role/x", webIdentityToken: "t" }]) })[0],
                /^aws:assumeRoles is .*; allowed: a list of roles, each \{"roleArn"/,
            );
            assert.match(
                problems({ "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::210987654321:role/x", duration: "5m" }]) })[0],
                /^aws:assumeRoles is /,
            );
            assert.match(problems({ "aws:profile": "" })[0], /^aws:profile is ""; allowed: the name of a profile/);
            assert.match(
                problems({ "aws:allowedAccountIds": '["1"]', "aws:forbiddenAccountIds": '["123456789012"]' }).join("\n"),
                /aws:allowedAccountIds is "\[\\"1\\"\]"; allowed: a list of 12-digit account IDs/,
            );
            assert.match(
                problems({
                    "aws:assumeRole": JSON.stringify({ roleArn: "arn:aws:iam::210987654321:role/a" }),
                    "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::210987654321:role/b" }]),
                })[0],
                /^aws:assumeRole is set beside aws:assumeRoles; allowed: one of them/,
            );
        });
    });

    it("lists every problem at once", () => {
        const found = problems({ "berth:environment": "qa", "berth:azCount": "9", "berth:natStrategy": "many" });
        assert.strictEqual(found.length, 3, found.join("\n"));
    });

    describe("in the program", () => {
        async function failingRun(config: Record<string, string>, zones?: string[]): Promise<{ error: Error; h: Harness }> {
            const h = new Harness({ zones });
            await h.install(config);
            const { deployBerth } = await import("../program");
            const error = await deployBerth(catalog).then(
                () => undefined,
                (e: Error) => e,
            );
            await h.settle();
            assert.ok(error, "the program accepted the configuration");
            return { error, h };
        }

        it("fails before any resource is registered", async () => {
            const { error, h } = await failingRun({ ...stackConfig("dev"), "berth:environment": "staging" });
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, /berth:environment is "staging"; allowed: one of test, prod/);
            assert.deepStrictEqual(h.resources, []);
            assert.deepStrictEqual(h.calls, [], "nothing is even looked up");
        });

        it("places the subnets in the zones pinned by ID, in their order", async () => {
            const { h } = await (async () => {
                const h = new Harness();
                await h.install({ ...stackConfig("dev"), "berth:availabilityZoneIds": JSON.stringify(["use1-az3", "use1-az1"]) });
                const { deployBerth } = await import("../program");
                await deployBerth(catalog);
                await h.settle();
                return { h };
            })();
            const zones = h
                .ofType(T.subnet)
                .filter((s) => s.name.startsWith("berth-public-"))
                .map((s) => s.inputs.availabilityZone);
            assert.deepStrictEqual(zones, ["us-east-1c", "us-east-1a"]);
        });

        it("refuses a pinned zone ID the region lacks, before any resource is registered", async () => {
            const { error, h } = await failingRun({ ...stackConfig("dev"), "berth:availabilityZoneIds": JSON.stringify(["use1-az1", "use1-az9"]) });
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, /berth:availabilityZoneIds is \["use1-az1","use1-az9"\], but us-east-1 offers no zone use1-az9; allowed: use1-az1, /);
            assert.deepStrictEqual(h.awsResources(), []);
        });

        it("refuses more AZs than the region offers, before any resource is registered", async () => {
            const { error, h } = await failingRun({ ...stackConfig("dev"), "berth:azCount": "3" }, ["eu-north-1a", "eu-north-1b"]);
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, /berth:azCount is 3, but us-east-1 offers 2 availability zones \(eu-north-1a, eu-north-1b\); allowed: 2 to 2/);
            assert.deepStrictEqual(h.awsResources(), []);
        });
    });
});

describe("berth:edge", () => {
    const JWT = JSON.stringify({ issuer: "https://issuer.example.com", jwksUrl: "https://issuer.example.com/.well-known/jwks.json", audience: "berth" });
    const HTTPS = { "berth:certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666" };
    /** The shipped catalogue with the given backend fields changed. */
    const withBackend = (name: string, change: Partial<ServiceDeclaration>) =>
        resolveCatalog(declarations.map((d) => (d.name === name ? { ...d, ...change } : d)));
    const refusals = (services: readonly CatalogService[], extra: Record<string, string>): string[] => {
        try {
            loadSettings({ ...base, "berth:edge": "alb", ...extra }, context, services);
        } catch (e) {
            assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
            return e.problems;
        }
        return assert.fail("the configuration was accepted");
    };

    it("is the gateway unless the stack says alb", () => {
        assert.strictEqual(load({}).edge, "gateway");
        assert.strictEqual(load({ "berth:edge": "alb" }).edge, "alb");
    });

    it("refuses an edge it does not know, and a JWT check the gateway would not use", () => {
        assert.deepStrictEqual(problems({ "berth:edge": "nginx" }), [
            'berth:edge is "nginx"; allowed: one of gateway, alb (see docs/gateway.md, "The edge: gateway or ALB")',
        ]);
        assert.match(
            problems({ "berth:edgeJwt": JWT }).join("\n"),
            /^berth:edgeJwt is set while berth:edge is "gateway", which reads its own AUTH_\* secrets; allowed: berth:edgeJwt only with berth:edge "alb"$/,
        );
        assert.match(
            problems({ "berth:edge": "alb", "berth:edgeJwt": JSON.stringify({ issuer: "x", jwksUrl: "http://issuer.example.com/jwks" }) }).join("\n"),
            /^berth:edgeJwt is .*; allowed: \{"issuer": /,
        );
    });

    it("gives the ALB the issuer, JWKS and audience of the JWT check", () => {
        const s = loadSettings({ ...base, ...HTTPS, "berth:edge": "alb", "berth:edgeJwt": JWT }, context, withBackend("users", { auth: "jwt" }));
        assert.deepStrictEqual(s.edgeJwt, {
            issuer: "https://issuer.example.com",
            jwksUrl: "https://issuer.example.com/.well-known/jwks.json",
            audience: "berth",
        });
    });

    it("refuses, naming the service and the reason, what only the gateway can do", () => {
        assert.deepStrictEqual(refusals(withBackend("users", { auth: "apiKey" }), {}), [
            'berth:edge is "alb", but service "users" requires an API key on /users, which only the gateway checks (the ALB verifies JWTs alone); allowed: "gateway" for this catalogue, or "auth" none or jwt on "users"',
        ]);
        assert.deepStrictEqual(refusals(withBackend("users", { auth: "jwt" }), { "berth:edgeJwt": JWT }), [
            'berth:edge is "alb", but service "users" requires a JWT on /users, and the ALB verifies JWTs on HTTPS listeners only while this stack serves HTTP only; allowed: "gateway", or "alb" with berth:domain and berth:hostedZoneId (or berth:certificateArn)',
        ]);
        assert.deepStrictEqual(refusals(withBackend("users", { auth: "jwt" }), HTTPS), [
            'berth:edge is "alb", but service "users" requires a JWT on /users, and berth:edgeJwt is not set; allowed: "gateway", or "alb" with berth:edgeJwt naming the issuer and its JWKS URL',
        ]);
        assert.deepStrictEqual(refusals(withBackend("users", { routes: ["/users", "/people", "/staff"] }), {}), [
            'berth:edge is "alb", but service "users" has 3 routes, 6 ALB path patterns, and one ALB rule takes at most 5 condition values, the test header among them; allowed: "gateway", or "alb" with at most 2 routes per backend',
        ]);
        assert.deepStrictEqual(refusals(withBackend("products", { calls: ["users"] }), {}), [
            'berth:edge is "alb", but service "users" is routed and also called by products through Service Connect, and behind the ALB it has no Service Connect name; allowed: "gateway" for this catalogue, or "alb" with "users" called by no other service',
        ]);
    });

    it("refuses more rules than an ALB holds", () => {
        const many: ServiceDeclaration[] = [
            ...declarations,
            ...Array.from({ length: 49 }, (_, i): ServiceDeclaration => ({ name: `b${i}`, kind: "backend", routes: [`/b${i}`] })),
        ];
        // users, products and 49 more: 51 services behind the ALB, two rules each.
        assert.deepStrictEqual(refusals(resolveCatalog(many), {}), [
            'berth:edge is "alb", but the ALB would hold 102 rules (a rule and a test rule per service), above its 100; allowed: "gateway"',
        ]);
        // 100 rules fit (names spread so that no two derived priorities meet).
        const spread = (i: number) => `s${(i * 2654435761) >>> 20}`;
        loadSettings(
            { ...base, "berth:edge": "alb" },
            context,
            resolveCatalog([
                ...declarations,
                ...Array.from({ length: 48 }, (_, i): ServiceDeclaration => ({ name: spread(i), kind: "backend", routes: [`/${spread(i)}`] })),
            ]),
        );
    });

    it("refuses two routed backends whose names give them the same rule priority", () => {
        const clash = resolveCatalog([...declarations, { name: "b27", kind: "backend", routes: ["/b27"] }, { name: "b38", kind: "backend", routes: ["/b38"] }]);
        assert.deepStrictEqual(refusals(clash, {}), [
            'berth:edge is "alb", but services "b27" and "b38" would share listener rule priority 7358 behind the ALB (a backend\'s priority derives from its name); allowed: "gateway", or "alb" with another "priority" on "b27" if it is a public service, or another name for one of them',
        ]);
    });
});
