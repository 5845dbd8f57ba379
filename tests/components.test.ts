/**
 * Each component on its own under mocks: its defaults, its modes and the arguments it refuses.
 */
import * as assert from "assert";
import { Cluster } from "../components/cluster";
import { FargateService, type FargateServiceArgs } from "../components/fargateService";
import { LoadBalancer } from "../components/loadBalancer";
import { Network } from "../components/network";
import { ServiceImage } from "../components/serviceImage";
import { Harness, promiseOf } from "./support/pulumi";

const SOURCE = { commit: "3f2c1a9d04be7c55aa8e0f1b2c3d4e5f60718293", dirty: false, contentHash: "ab".repeat(32) };

const CHECK = "pulumi-nodejs:dynamic/berth:DeploymentCheck";

async function mocked(): Promise<Harness> {
    const h = new Harness();
    await h.install({});
    return h;
}

function serviceArgs(overrides: Partial<FargateServiceArgs> = {}): FargateServiceArgs {
    return {
        cluster: { arn: "cluster-arn", name: "cluster" },
        namespaceArn: "namespace-arn",
        vpcId: "vpc-1",
        subnetIds: ["subnet-a", "subnet-b"],
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:00",
        family: "berth-test-x",
        port: 8080,
        healthPath: "/health",
        healthCheckCommand: ["CMD", "true"],
        environment: { PORT: "8080" },
        cpu: 256,
        memory: 512,
        desiredCount: 1,
        logGroupName: "/berth/test/x",
        logRetentionDays: 7,
        region: "us-east-1",
        user: "10001:10001",
        expose: { kind: "backend", discoveryName: "x" },
        ...overrides,
    };
}

describe("components", () => {
    describe("Network", () => {
        it("defaults to one NAT gateway shared by every AZ", async () => {
            const h = await mocked();
            const network = new Network("net", { cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b", "c"] });
            assert.strictEqual(network.natGatewayCount, 1);
            await h.settle();
            assert.strictEqual(h.ofType("aws:ec2/natGateway:NatGateway").length, 1);
            assert.strictEqual(h.ofType("aws:ec2/eip:Eip").length, 1);
            const privateRoutes = h.ofType("aws:ec2/route:Route").filter((r) => r.name.startsWith("net-private-default-"));
            assert.deepStrictEqual(privateRoutes.map((r) => r.inputs.natGatewayId), ["net-nat-0-id", "net-nat-0-id", "net-nat-0-id"]);
            assert.deepStrictEqual(h.ofType("aws:ec2/subnet:Subnet").map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]), [
                ["net-public-0", "10.1.0.0/19", "a"], ["net-public-1", "10.1.32.0/19", "b"], ["net-public-2", "10.1.64.0/19", "c"],
                ["net-private-0", "10.1.96.0/19", "a"], ["net-private-1", "10.1.128.0/19", "b"], ["net-private-2", "10.1.160.0/19", "c"],
            ]);
        });

        it("gives each AZ its own NAT gateway with perAz", async () => {
            const h = await mocked();
            new Network("net", { cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b"], nat: "perAz" });
            await h.settle();
            const nats = h.ofType("aws:ec2/natGateway:NatGateway");
            assert.deepStrictEqual(nats.map((n) => n.inputs.subnetId), ["net-public-0-id", "net-public-1-id"]);
            const privateRoutes = h.ofType("aws:ec2/route:Route").filter((r) => r.name.startsWith("net-private-default-"));
            assert.deepStrictEqual(privateRoutes.map((r) => r.inputs.natGatewayId), ["net-nat-0-id", "net-nat-1-id"]);
        });

        it("exposes the routes that the ALB and the tasks must wait for", async () => {
            const h = await mocked();
            const network = new Network("net", { cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b"] });
            new LoadBalancer("lb", { vpcId: network.vpcId, subnetIds: network.publicSubnetIds, publicRoutes: network.publicRoutes });
            await h.settle();
            const alb = h.one("aws:lb/loadBalancer:LoadBalancer", "lb-alb");
            for (const name of ["net-igw", "net-public-default", "net-public-rta-0", "net-public-rta-1"]) {
                assert.ok(alb.dependsOn.some((d) => d.endsWith(`::${name}`)), `the ALB does not wait for ${name}: ${alb.dependsOn}`);
            }
            const privateNames = await Promise.all(network.privateRoutes.map((r) => new Promise<string>((resolve) => r.urn.apply(resolve))));
            assert.deepStrictEqual(privateNames.map((u) => u.split("::").pop()).sort(), ["net-private-default-0", "net-private-default-1", "net-private-rta-0", "net-private-rta-1"]);
        });

        it("refuses one AZ and a bad CIDR", async () => {
            await mocked();
            assert.throws(() => new Network("a", { cidrBlock: "10.0.0.0/16", availabilityZones: ["a"] }), /Network "a": "availabilityZones" must list at least 2 zones, got 1/);
            assert.throws(() => new Network("b", { cidrBlock: "10.0.0.0/33", availabilityZones: ["a", "b"] }), /Network "b": "cidrBlock" "10.0.0.0\/33": it is not an IPv4 CIDR block/);
        });
    });

    describe("Cluster", () => {
        it("creates the Service Connect namespace, the cluster and Fargate capacity", async () => {
            const h = await mocked();
            new Cluster("c", { namespace: "berth-test", containerInsights: true });
            await h.settle();
            assert.strictEqual(h.one("aws:servicediscovery/httpNamespace:HttpNamespace", "c-namespace").inputs.name, "berth-test");
            const cluster = h.one("aws:ecs/cluster:Cluster", "c-cluster");
            assert.deepStrictEqual(cluster.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
            assert.match(cluster.inputs.serviceConnectDefaults.namespace, /:berth-test$/);
            const capacity = h.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "c-capacity");
            assert.deepStrictEqual(capacity.inputs.capacityProviders, ["FARGATE", "FARGATE_SPOT"]);
        });

        it("leaves Container Insights off by default", async () => {
            const h = await mocked();
            new Cluster("c", { namespace: "n" });
            await h.settle();
            assert.deepStrictEqual(h.one("aws:ecs/cluster:Cluster", "c-cluster").inputs.settings, [{ name: "containerInsights", value: "disabled" }]);
        });
    });

    describe("LoadBalancer", () => {
        it("is internet-facing on HTTP only without a certificate", async () => {
            const h = await mocked();
            const lb = new LoadBalancer("lb", { vpcId: "vpc-1", subnetIds: ["s1", "s2"] });
            assert.strictEqual(lb.scheme, "http");
            await h.settle();
            assert.deepStrictEqual(h.ofType("aws:lb/listener:Listener").map((l) => [l.name, l.inputs.port]), [["lb-http", 80]]);
            assert.strictEqual(h.one("aws:lb/loadBalancer:LoadBalancer", "lb-alb").inputs.enableDeletionProtection, false);
            assert.deepStrictEqual(h.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs.fromPort), [80]);
            assert.deepStrictEqual(h.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"), [], "egress comes from the services");
        });

        it("refuses a single subnet", async () => {
            await mocked();
            assert.throws(() => new LoadBalancer("lb", { vpcId: "v", subnetIds: ["s1"] }), /"subnetIds" must list subnets in at least 2 AZs, got 1/);
        });
    });

    describe("ServiceImage", () => {
        it("builds for the platform and keeps the configured number of images", async () => {
            const h = await mocked();
            const image = new ServiceImage("svc", { context: ".", dockerfile: "services/svc/Dockerfile", platform: "linux/arm64", keepImages: 3, forceDelete: true, source: SOURCE });
            await h.settle();
            const built = h.one("docker-build:index:Image", "svc-image");
            assert.deepStrictEqual(built.inputs.platforms, ["linux/arm64"]);
            assert.deepStrictEqual(built.inputs.context, { location: "." });
            assert.strictEqual(built.inputs.buildOnPreview, false, "the provider's default builds every image in every preview");
            const cache = `${h.one("aws:ecr/repository:Repository", "svc-repo").name}`;
            assert.match(built.inputs.cacheFrom[0].registry.ref, new RegExp(`/${cache}-[0-9a-f]{7}:buildcache$`));
            assert.deepStrictEqual({ ...built.inputs.cacheTo[0].registry, ref: undefined }, { ref: undefined, imageManifest: true, ociMediaTypes: true, mode: "max" });
            assert.strictEqual(built.inputs.registries[0].username, "AWS");
            assert.strictEqual(built.inputs.registries[0].password, "mock-password");
            assert.strictEqual(h.one("aws:ecr/repository:Repository", "svc-repo").inputs.forceDelete, true);
            const rules = JSON.parse(h.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "svc-lifecycle").inputs.policy).rules;
            assert.deepStrictEqual(rules.map((r: any) => [r.rulePriority, r.selection.tagStatus, r.selection.countNumber]), [[1, "tagged", 1], [2, "any", 3]]);
            assert.deepStrictEqual(rules[0].selection.tagPrefixList, ["buildcache"]);
            const ref = await new Promise<string>((resolve) => image.imageRef.apply(resolve));
            assert.match(ref, /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/svc-repo-[0-9a-f]{7}@sha256:[0-9a-f]{64}$/);
        });

        it("pushes a tag of its own per build, naming the commit, into a repository whose tags are immutable but the cache's", async () => {
            const h = await mocked();
            const clean = new ServiceImage("a", { context: ".", dockerfile: "services/a/Dockerfile", source: SOURCE });
            const dirty = new ServiceImage("b", { context: ".", dockerfile: "services/a/Dockerfile", source: { ...SOURCE, dirty: true } });
            const edited = new ServiceImage("c", { context: ".", dockerfile: "services/a/Dockerfile", source: { ...SOURCE, dirty: true, contentHash: "cd".repeat(32) } });
            await h.settle();
            const tags = await Promise.all([clean, dirty, edited].map((i) => promiseOf(i.tag)));
            assert.match(tags[0], /^3f2c1a9d04be-[0-9a-f]{8}$/);
            assert.match(tags[1], /^3f2c1a9d04be-dirty-[0-9a-f]{8}$/);
            assert.strictEqual(new Set(tags).size, 3, "two builds share a tag, which an immutable repository refuses");
            assert.deepStrictEqual([clean.commit, dirty.commit], [SOURCE.commit, `${SOURCE.commit}-dirty`]);
            const pushed = h.one("docker-build:index:Image", "a-image").inputs.tags;
            assert.deepStrictEqual(pushed, [`123456789012.dkr.ecr.us-east-1.amazonaws.com/${h.one("aws:ecr/repository:Repository", "a-repo").outputs.name}:${tags[0]}`]);
            const repo = h.one("aws:ecr/repository:Repository", "a-repo").inputs;
            assert.strictEqual(repo.imageTagMutability, "IMMUTABLE_WITH_EXCLUSION");
            const cacheTag = /:([^:]+)$/.exec(h.one("docker-build:index:Image", "a-image").inputs.cacheTo[0].registry.ref)![1];
            const wildcard = (f: string) => new RegExp(`^${f.replace(/\*/g, ".*")}$`);
            assert.ok(repo.imageTagMutabilityExclusionFilters.some((f: any) => wildcard(f.filter).test(cacheTag)), "the cache tag could not move");
            assert.ok(!repo.imageTagMutabilityExclusionFilters.some((f: any) => wildcard(f.filter).test(tags[0])), "image tags stay mutable");
        });

        it("refuses to keep fewer images than a rollback needs, and absolute paths", async () => {
            await mocked();
            assert.throws(() => new ServiceImage("svc", { context: ".", dockerfile: "Dockerfile", keepImages: 2, source: SOURCE }), /"keepImages" must be a whole number of at least 3 \(a rollback needs the previous image\), got 2/);
            assert.throws(() => new ServiceImage("svc", { context: "/repo", dockerfile: "Dockerfile", source: SOURCE }), /"context" must be relative to the project, got "\/repo"/);
        });
    });

    describe("FargateService", () => {
        it("admits nothing to a backend until a caller declares it", async () => {
            const h = await mocked();
            new FargateService("x", serviceArgs());
            await h.settle();
            assert.deepStrictEqual(h.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), []);
            assert.deepStrictEqual(h.ofType("aws:lb/targetGroup:TargetGroup"), []);
            assert.deepStrictEqual(h.ofType("aws:appautoscaling/target:Target"), [], "no autoscaling without a higher ceiling");
        });

        it("lets a caller into each callee's group on the callee's port, and starts it once its callees serve", async () => {
            const h = await mocked();
            const a = new FargateService("a", serviceArgs({ family: "a", port: 9001, expose: { kind: "backend", discoveryName: "a" } }));
            const b = new FargateService("b", serviceArgs({ family: "b", port: 9002, expose: { kind: "backend", discoveryName: "b" } }));
            new FargateService("gw", serviceArgs({ family: "gw", calls: [a.asCallee(), b.asCallee()] }));
            await h.settle();
            const ingress = h.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
            assert.deepStrictEqual(ingress.map((r) => [r.name, r.inputs.securityGroupId, r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]), [
                ["gw-to-a", "a-sg-id", "gw-sg-id", 9001, 9001],
                ["gw-to-b", "b-sg-id", "gw-sg-id", 9002, 9002],
            ]);
            const gw = h.one("aws:ecs/service:Service", "gw-service");
            for (const dependency of [h.one(CHECK, "a-deployment"), h.one(CHECK, "b-deployment"), ...ingress]) {
                assert.ok(h.waitsFor(gw, dependency), `gw-service does not wait for ${dependency.name}`);
            }
        });

        it("starts tasks only after their egress rule and the routes out, and checks each deployment", async () => {
            const h = await mocked();
            const route = new Cluster("route-stand-in", { namespace: "n" });
            new FargateService("x", serviceArgs({ egressRoutes: [route] }));
            await h.settle();
            const svc = h.one("aws:ecs/service:Service", "x-service");
            assert.ok(h.waitsFor(svc, h.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "x-out")));
            assert.ok(h.waitsFor(svc, h.one("aws:ecs/cluster:Cluster", "route-stand-in-cluster")), "a component in egressRoutes stands for its resources");
            assert.strictEqual(svc.inputs.waitForSteadyState, false, "the deployment check waits instead");
            const check = h.one(CHECK, "x-deployment");
            assert.ok(h.waitsFor(check, svc));
            assert.match(check.inputs.taskDefinitionArn, /:x-task-[0-9a-f]{7}$/);
            assert.match(check.inputs.service, /^x-service-[0-9a-f]{7}$/);
            assert.strictEqual(check.inputs.region, "us-east-1");
            assert.strictEqual(typeof check.inputs.__provider, "string", "the provider did not serialize");
        });

        it("gates a backend's readiness on its health check, and keeps old task definition revisions", async () => {
            const h = await mocked();
            new FargateService("x", serviceArgs());
            await h.settle();
            const td = h.one("aws:ecs/taskDefinition:TaskDefinition", "x-task");
            assert.strictEqual(td.inputs.skipDestroy, true, "a replacement would deregister the revision a rollback returns to");
            const [main, gate] = JSON.parse(td.inputs.containerDefinitions);
            assert.strictEqual(main.name, "x");
            assert.deepStrictEqual(gate.dependsOn, [{ containerName: "x", condition: "HEALTHY" }]);
            assert.strictEqual(gate.essential, false);
            assert.strictEqual(gate.image, main.image);
            assert.ok(main.healthCheck, "the gate waits for a health check the service must have");
        });

        it("scales on CPU between desiredCount and maxCount, leaving the count to the scaler", async () => {
            const h = await mocked();
            new FargateService("x", serviceArgs({ desiredCount: 2, maxCount: 5 }));
            await h.settle();
            const target = h.one("aws:appautoscaling/target:Target", "x-scaling");
            assert.deepStrictEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [2, 5]);
            assert.strictEqual(h.one("aws:appautoscaling/policy:Policy", "x-cpu-scaling").inputs.policyType, "TargetTrackingScaling");
        });

        const refused: Array<[string, Partial<FargateServiceArgs>, RegExp]> = [
            ["a size Fargate does not run", { cpu: 256, memory: 4096 }, /cpu 256 with memory 4096 is not a Fargate size; with cpu 256, memory must be one of 512, 1024, 2048/],
            ["a ceiling under the count", { desiredCount: 3, maxCount: 2 }, /"maxCount" 2 is below "desiredCount" 3/],
            ["a relative health path", { healthPath: "health" }, /"healthPath" must start with "\/"/],
            ["no subnets", { subnetIds: [] }, /"subnetIds" is empty/],
            ["six path patterns", { expose: { kind: "public", listenerArn: "l", loadBalancerSecurityGroupId: "sg", pathPatterns: ["/a", "/b", "/c", "/d", "/e", "/f"], priority: 10 } }, /at most 5/],
            ["a priority the default route owns", { expose: { kind: "public", listenerArn: "l", loadBalancerSecurityGroupId: "sg", pathPatterns: ["/a"], priority: 50000 } }, /"expose.priority" must be 1-49999/],
            ["a discovery name that is no DNS label", { expose: { kind: "backend", discoveryName: "My_Service" } }, /"expose.discoveryName" must be a DNS label/],
        ];
        for (const [what, overrides, message] of refused) {
            it(`refuses ${what}`, async () => {
                const h = await mocked();
                assert.throws(() => new FargateService("x", serviceArgs(overrides)), message);
                await h.settle();
                assert.deepStrictEqual(h.resources.filter((r) => r.custom), [], "a refused service creates nothing");
            });
        }
    });
});
