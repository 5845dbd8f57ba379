import * as assert from "assert";
import { ConfigError, loadSettings, PRESETS, type Settings } from "../config";
import { catalog } from "../services/catalog";
import { Harness, stackConfig } from "./support/pulumi";

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
        assert.strictEqual(s.natStrategy, "single");
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
        const { cpu, memory, desiredCount, maxCount, ...shared } = PRESETS.prod;
        for (const [key, value] of Object.entries(shared)) {
            assert.deepStrictEqual((s as unknown as Record<string, unknown>)[key], value, key);
        }
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
        assert.deepStrictEqual(s.services.products, { cpu: 512, memory: 1024, desiredCount: 2, maxCount: 6 });
    });

    it("reads a service's numbers written as text the same as top-level ones", () => {
        const s = load({ "berth:desiredCount": "2", "berth:services": JSON.stringify({ users: { desiredCount: "3", maxCount: 4, cpu: "512", memory: "1024" } }) });
        assert.deepStrictEqual(s.services.users, { cpu: 512, memory: 1024, desiredCount: 3, maxCount: 4 });
        assert.strictEqual(s.services.products.desiredCount, 2);
    });

    it("lets prod serve HTTP only when the stack says so, and takes a certificate of its own region", () => {
        assert.strictEqual(load({ "berth:environment": "prod", "berth:allowHttpOnly": "true" }).allowHttpOnly, true);
        const arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
        assert.strictEqual(load({ "berth:environment": "prod", "berth:certificateArn": arn }).certificateArn, arn);
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
        ["a CIDR with host bits", { "berth:vpcCidr": "10.0.0.1/16" }, /^berth:vpcCidr is "10\.0\.0\.1\/16": its host bits are set; the network address is 10\.0\.0\.0\/16$/],
        ["a VPC larger than AWS allows", { "berth:vpcCidr": "10.0.0.0/8" }, /^berth:vpcCidr is "10\.0\.0\.0\/8"; allowed: a prefix from \/16 to \/26 for 2 AZs/],
        ["a VPC too small for its subnets", { "berth:vpcCidr": "10.0.0.0/27" }, /^berth:vpcCidr is "10\.0\.0\.0\/27"; allowed: a prefix from \/16 to \/26/],
        ["one AZ", { "berth:azCount": "1" }, /^berth:azCount is "1"; allowed: a whole number from 2 \(the ALB needs two AZs\) to 6$/],
        ["a fractional AZ count", { "berth:azCount": "2.5" }, /^berth:azCount is "2\.5"; allowed: a whole number/],
        ["an unknown NAT strategy", { "berth:natStrategy": "none" }, /^berth:natStrategy is "none"; allowed: one of single, perAz$/],
        ["a CPU/memory pair Fargate refuses", { "berth:cpu": "256", "berth:memory": "4096" },
            /^berth:cpu\/berth:memory is cpu 256 with memory 4096, which Fargate does not run; allowed: with cpu 256, memory must be one of 512, 1024, 2048 \(MiB\)$/],
        ["a CPU Fargate does not have", { "berth:cpu": "300" }, /cpu 300 with memory 512, which Fargate does not run; allowed: cpu must be one of 256, 512/],
        ["a service pair Fargate refuses", { "berth:services": JSON.stringify({ users: { cpu: 512, memory: 512 } }) },
            /^berth:services\.users is cpu 512 with memory 512, which Fargate does not run; allowed: with cpu 512, memory must be one of 1024, 2048, 3072, 4096 \(MiB\)$/],
        ["an override for an unknown service", { "berth:services": JSON.stringify({ "no-such-service": { desiredCount: 2 } }) },
            new RegExp(`^berth:services\\.no-such-service names no service of the catalogue; allowed: ${catalog.map((s) => s.name).join(", ")}$`)],
        ["an unknown override field", { "berth:services": JSON.stringify({ users: { replicas: 2 } }) },
            /^berth:services\.users has unknown keys replicas; allowed: cpu, memory, desiredCount, maxCount$/],
        ["a negative task count for a service", { "berth:services": JSON.stringify({ users: { desiredCount: -1 } }) },
            /^berth:services\.users\.desiredCount is -1; allowed: /],
        ["services that are no object", { "berth:services": "[1]" }, /^berth:services is \[1\]; allowed: an object such as/],
        ["a log retention CloudWatch lacks", { "berth:logRetentionDays": "10" }, /^berth:logRetentionDays is "10"; allowed: one of 1, 3, 5, 7, 14, 30/],
        ["a boolean that is no boolean", { "berth:forceDelete": "yes" }, /^berth:forceDelete is "yes"; allowed: true or false$/],
        ["a ceiling below the task count", { "berth:desiredCount": "3", "berth:maxCount": "2" }, /^berth:maxCount is 2, below desiredCount 3; allowed: at least desiredCount$/],
        ["an unknown key", { "berth:desiredcount": "3" }, /^berth:desiredcount is not a setting Berth knows; allowed keys: environment, vpcCidr, azCount/],
        ["a certificate that is no ARN", { "berth:certificateArn": "my-cert" }, /^berth:certificateArn is "my-cert"; allowed: an ACM certificate ARN/],
        ["a domain without a certificate", { "berth:domain": "api.example.com" }, /^berth:domain is "api\.example\.com" but neither berth:hostedZoneId nor berth:certificateArn is set; allowed: /],
        ["a hosted zone without a domain", { "berth:hostedZoneId": "Z0123456789EXAMPLE" }, /^berth:hostedZoneId is set but berth:domain is not/],
        ["a hosted zone ID of another form", { "berth:hostedZoneId": "example.com", "berth:domain": "example.com" }, /^berth:hostedZoneId is "example\.com"; allowed: a Route 53 hosted zone ID/],
        ["a relaxing setting that is no boolean", { "berth:wafEnabled": "yes" }, /^berth:wafEnabled is "yes"; allowed: true or false$/],
        ["an empty task count", { "berth:desiredCount": "" }, /^berth:desiredCount is ""; allowed: a whole number from 0 to 100$/],
        ["a task count in hexadecimal", { "berth:desiredCount": "0x3" }, /^berth:desiredCount is "0x3"; allowed: a whole number/],
        ["an AZ count in hexadecimal", { "berth:azCount": "0x3" }, /^berth:azCount is "0x3"; allowed: a whole number from 2/],
        ["an AZ count in exponent notation", { "berth:azCount": "2e0" }, /^berth:azCount is "2e0"; allowed: a whole number from 2/],
        ["a loopback VPC", { "berth:vpcCidr": "127.0.0.0/16" }, /^berth:vpcCidr is "127\.0\.0\.0\/16", which overlaps 127\.0\.0\.0\/8 \(loopback\); allowed: a range of unicast addresses/],
        ["a multicast VPC", { "berth:vpcCidr": "224.0.0.0/16" }, /^berth:vpcCidr is "224\.0\.0\.0\/16", which overlaps 224\.0\.0\.0\/4 \(multicast\)/],
        ["a link-local VPC", { "berth:vpcCidr": "169.254.0.0/16" }, /overlaps 169\.254\.0\.0\/16 \(link-local/],
        ["a VPC in 0.0.0.0/8", { "berth:vpcCidr": "0.0.0.0/16" }, /overlaps 0\.0\.0\.0\/8/],
        ["a reserved-class VPC", { "berth:vpcCidr": "250.0.0.0/16" }, /overlaps 240\.0\.0\.0\/4/],
        ["a certificate from another region", { "berth:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666" },
            /^berth:certificateArn is "arn:aws:acm:us-east-1:[^"]+", a certificate in us-east-1; allowed: a certificate in the stack's region eu-west-1/],
        ["a service's task count as an empty string", { "berth:services": JSON.stringify({ users: { desiredCount: "" } }) },
            /^berth:services\.users\.desiredCount is ""; allowed: a whole number from 0 to 100$/],
        ["a service's task count in hexadecimal", { "berth:services": JSON.stringify({ users: { desiredCount: "0x3" } }) },
            /^berth:services\.users\.desiredCount is "0x3"; allowed: a whole number from 0 to 100$/],
        ["keeping one image", { "berth:keepImages": "1" }, /^berth:keepImages is "1"; allowed: a whole number from 3 \(the running image, the one a rollback returns to, the one rolling out\) to 1000$/],
        ["keeping two images", { "berth:keepImages": "2" }, /^berth:keepImages is "2"; allowed: a whole number from 3/],
        ["prod without HTTPS, unsaid", { "berth:environment": "prod" },
            /^berth:domain is not set, so this prod stack would serve plain HTTP; allowed: set berth:domain and berth:hostedZoneId \(or berth:certificateArn\), or say so on purpose with `pulumi config set berth:allowHttpOnly true`$/],
        ["zone IDs that are no zone IDs", { "berth:availabilityZoneIds": JSON.stringify(["us-east-1a", "us-east-1b"]) }, /^berth:availabilityZoneIds is "\[[^\]]+\]"; allowed: a list of at least 2 distinct zone IDs/],
        ["fewer zone IDs than AZs", { "berth:availabilityZoneIds": JSON.stringify(["euw1-az1", "euw1-az2"]), "berth:azCount": "3" },
            /^berth:availabilityZoneIds lists 2 zones \(euw1-az1, euw1-az2\) but berth:azCount is 3; allowed: exactly azCount zone IDs$/],
    ];
    for (const [what, extra, message] of errors) {
        it(`names the key, the value and what is allowed for ${what}`, () => {
            const found = problems(extra);
            assert.ok(found.some((p) => message.test(p)), `no problem matches ${message}:\n${found.join("\n")}`);
        });
    }

    it("names a missing region and missing project keys", () => {
        const found = problems({}, ["aws:region", "berth:azCount"]);
        assert.ok(found.some((p) => /^aws:region is not set; set it with `pulumi config set aws:region/.test(p)), found.join("\n"));
        assert.ok(found.some((p) => /^berth:azCount is not set/.test(p)), found.join("\n"));
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
            const error = await deployBerth(catalog).then(() => undefined, (e: Error) => e);
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
            const zones = h.ofType("aws:ec2/subnet:Subnet").filter((s) => s.name.startsWith("berth-public-")).map((s) => s.inputs.availabilityZone);
            assert.deepStrictEqual(zones, ["us-east-1c", "us-east-1a"]);
        });

        it("refuses a pinned zone ID the region lacks, before any resource is registered", async () => {
            const { error, h } = await failingRun({ ...stackConfig("dev"), "berth:availabilityZoneIds": JSON.stringify(["use1-az1", "use1-az9"]) });
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, /berth:availabilityZoneIds is \["use1-az1","use1-az9"\], but us-east-1 offers no zone use1-az9; allowed: use1-az1, /);
            assert.deepStrictEqual(h.resources, []);
        });

        it("refuses more AZs than the region offers, before any resource is registered", async () => {
            const { error, h } = await failingRun({ ...stackConfig("dev"), "berth:azCount": "3" }, ["eu-north-1a", "eu-north-1b"]);
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, /berth:azCount is 3, but us-east-1 offers 2 availability zones \(eu-north-1a, eu-north-1b\); allowed: 2 to 2/);
            assert.deepStrictEqual(h.resources, []);
        });
    });
});
