/**
 * Each component on its own under mocks: its defaults, its modes and the arguments it refuses.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/service/cluster";
import { Database, type DatabaseArgs } from "../components/data/database";
import { databaseIdentifier } from "../core/naming";
import { POSTGRES_DEFAULT_PORT } from "./support/awsRules";
import { FargateService, type FargateServiceArgs } from "../components/service/fargateService";
import { LoadBalancer } from "../components/edge/loadBalancer";
import { SecretRestart } from "../components/service/secretRestart";
import { Network } from "../components/network/network";
import { ServiceImage } from "../components/service/serviceImage";
import { serviceArgs } from "./support/fargate";
import { Harness, promiseOf } from "./support/pulumi";
import { T } from "./support/types";

const SOURCE = { commit: "3f2c1a9d04be7c55aa8e0f1b2c3d4e5f60718293", dirty: false, contentHash: "ab".repeat(32) };

const CHECK = T.check;

async function mocked(): Promise<Harness> {
    const h = new Harness();
    await h.install({});
    return h;
}

describe("components", () => {
    describe("Network", () => {
        it("defaults to one NAT gateway shared by every AZ", async () => {
            const h = await mocked();
            const network = new Network("net", { region: "us-east-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b", "c"] });
            assert.strictEqual(network.natGatewayCount, 1);
            await h.settle();
            assert.strictEqual(h.ofType(T.nat).length, 1);
            assert.strictEqual(h.ofType(T.eip).length, 1);
            const privateRoutes = h.ofType(T.route).filter((r) => r.name.startsWith("net-private-default-"));
            assert.deepStrictEqual(
                privateRoutes.map((r) => r.inputs.natGatewayId),
                ["net-nat-0-id", "net-nat-0-id", "net-nat-0-id"],
            );
            assert.deepStrictEqual(
                h.ofType(T.subnet).map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]),
                [
                    ["net-public-0", "10.1.0.0/19", "a"],
                    ["net-public-1", "10.1.32.0/19", "b"],
                    ["net-public-2", "10.1.64.0/19", "c"],
                    ["net-private-0", "10.1.96.0/19", "a"],
                    ["net-private-1", "10.1.128.0/19", "b"],
                    ["net-private-2", "10.1.160.0/19", "c"],
                ],
            );
        });

        it("gives each AZ its own NAT gateway with perAz", async () => {
            const h = await mocked();
            new Network("net", { region: "us-east-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b"], nat: "perAz" });
            await h.settle();
            const nats = h.ofType(T.nat);
            assert.deepStrictEqual(
                nats.map((n) => n.inputs.subnetId),
                ["net-public-0-id", "net-public-1-id"],
            );
            const privateRoutes = h.ofType(T.route).filter((r) => r.name.startsWith("net-private-default-"));
            assert.deepStrictEqual(
                privateRoutes.map((r) => r.inputs.natGatewayId),
                ["net-nat-0-id", "net-nat-1-id"],
            );
        });

        it("exposes the routes that the ALB and the tasks must wait for", async () => {
            const h = await mocked();
            const network = new Network("net", { region: "us-east-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b"] });
            new LoadBalancer("lb", { vpcId: network.vpcId, subnetIds: network.publicSubnetIds, publicRoutes: network.publicRoutes });
            await h.settle();
            const alb = h.one(T.alb, "lb-alb");
            for (const name of ["net-igw", "net-public-default", "net-public-rta-0", "net-public-rta-1"]) {
                assert.ok(
                    alb.dependsOn.some((d) => d.endsWith(`::${name}`)),
                    `the ALB does not wait for ${name}: ${alb.dependsOn}`,
                );
            }
            const privateNames = await Promise.all(network.privateRoutes.map((r) => new Promise<string>((resolve) => r.urn.apply(resolve))));
            assert.deepStrictEqual(privateNames.map((u) => u.split("::").pop()).sort(), [
                "net-private-default-0",
                "net-private-default-1",
                "net-private-rta-0",
                "net-private-rta-1",
            ]);
        });

        it("routes every private subnet's S3 traffic to a gateway endpoint in the region", async () => {
            const h = await mocked();
            new Network("net", { region: "eu-central-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b", "c"] });
            await h.settle();
            const endpoint = h.one(T.endpoint, "net-s3");
            assert.strictEqual(endpoint.inputs.serviceName, "com.amazonaws.eu-central-1.s3");
            assert.strictEqual(endpoint.inputs.vpcEndpointType, "Gateway");
            assert.strictEqual(endpoint.inputs.vpcId, "net-vpc-id");
            const associated = h.ofType(T.endpointAssociation);
            assert.ok(associated.every((a) => a.inputs.vpcEndpointId === "net-s3-id"));
            const privateTables = h
                .ofType(T.routeTable)
                .filter((t) => t.name.startsWith("net-private-rt-"))
                .map((t) => `${t.name}-id`);
            assert.strictEqual(privateTables.length, 3);
            assert.deepStrictEqual(
                associated.map((a) => a.inputs.routeTableId).sort(),
                privateTables.sort(),
                "S3 must be routed from exactly the private route tables",
            );
        });

        it("does NAT with one instance when asked: VPC range in, IMDSv2, no source/destination check, current Amazon Linux", async () => {
            const h = await mocked();
            const network = new Network("net", {
                region: "us-east-1",
                cidrBlock: "10.1.0.0/16",
                availabilityZones: ["a", "b"],
                nat: "instance",
                natInstanceType: "t4g.micro",
            });
            assert.strictEqual(network.natGatewayCount, 0);
            await h.settle();
            assert.deepStrictEqual(h.ofType(T.nat), []);
            assert.deepStrictEqual(h.ofType(T.eip), []);
            const instance = h.one(T.instance, "net-nat-instance");
            assert.strictEqual(instance.inputs.instanceType, "t4g.micro");
            assert.strictEqual(instance.inputs.sourceDestCheck, false);
            assert.strictEqual(instance.inputs.subnetId, "net-public-0-id", "a NAT instance needs the Internet gateway's route");
            assert.strictEqual(instance.inputs.associatePublicIpAddress, true);
            assert.strictEqual(instance.inputs.metadataOptions.httpTokens, "required");
            assert.strictEqual(instance.inputs.ami, "ami-0123456789abcdef0", "the AMI comes from the SSM parameter");
            assert.ok(h.calls.includes("aws:ssm/getParameter:getParameter"));
            assert.match(instance.inputs.userData, /net\.ipv4\.ip_forward=1/);
            assert.match(instance.inputs.userData, /-j MASQUERADE/);
            assert.ok(h.waitsFor(instance, h.one(T.igw, "net-igw")));
            // Its user data installs packages over the Internet at launch: the public subnet's route must exist by then.
            for (const [type, name] of [
                [T.route, "net-public-default"],
                [T.association, "net-public-rta-0"],
            ]) {
                assert.ok(h.waitsFor(instance, h.one(type, name)), `the NAT instance starts before ${name}`);
            }

            const sg = h.one(T.sg, "net-nat-sg");
            assert.deepStrictEqual(instance.inputs.vpcSecurityGroupIds, [`${sg.name}-id`]);
            const ingress = h.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === `${sg.name}-id`);
            assert.deepStrictEqual(
                ingress.map((r) => r.inputs.cidrIpv4),
                ["10.1.0.0/16"],
                "the NAT instance answers only the VPC",
            );

            const privateRoutes = h.ofType(T.route).filter((r) => r.name.startsWith("net-private-default-"));
            assert.strictEqual(privateRoutes.length, 2);
            for (const route of privateRoutes) {
                assert.match(route.inputs.networkInterfaceId, /^eni-[0-9a-f]{17}$/);
                assert.strictEqual(route.inputs.natGatewayId, undefined);
            }
        });

        it("brings a failed NAT instance back: EC2 recovers it when its host fails, reboots it when it fails its own check", async () => {
            const h = await mocked();
            const topic = "arn:aws:sns:eu-west-1:123456789012:alarms";
            new Network("net", { region: "eu-west-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b"], nat: "instance", alarmTopicArn: topic });
            await h.settle();
            const instance = h.one(T.instance, "net-nat-instance");
            const alarms = h.ofType(T.alarm);
            const byMetric = new Map(alarms.map((a) => [a.inputs.metricName, a.inputs]));
            assert.deepStrictEqual([...byMetric.keys()].sort(), ["StatusCheckFailed_Instance", "StatusCheckFailed_System"]);
            assert.deepStrictEqual(byMetric.get("StatusCheckFailed_System")!.alarmActions, ["arn:aws:automate:eu-west-1:ec2:recover", topic]);
            assert.deepStrictEqual(byMetric.get("StatusCheckFailed_Instance")!.alarmActions, ["arn:aws:automate:eu-west-1:ec2:reboot", topic]);
            for (const alarm of byMetric.values()) {
                assert.deepStrictEqual(alarm.okActions, [topic], "nobody hears that the NAT instance is back");
                assert.strictEqual(alarm.namespace, "AWS/EC2");
                assert.deepStrictEqual(alarm.dimensions, { InstanceId: `${instance.name}-id` }, "the alarm watches another instance");
                assert.strictEqual(alarm.comparisonOperator, "GreaterThanThreshold");
                assert.strictEqual(alarm.threshold, 0);
            }
            // A stopped instance fails no status check: the stack declares it running, so `pulumi up --refresh` starts it.
            const state = h.one(T.instanceState, "net-nat-running");
            assert.deepStrictEqual([state.inputs.instanceId, state.inputs.state], [`${instance.name}-id`, "running"]);
        });

        it("makes no NAT instance alarms with NAT gateways", async () => {
            const h = await mocked();
            new Network("net", { region: "us-east-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b"] });
            await h.settle();
            assert.deepStrictEqual(h.ofType(T.alarm), []);
            assert.deepStrictEqual(h.ofType(T.instanceState), []);
        });

        it("adds isolated subnets in a secondary range with a route table of their own, after the range is associated", async () => {
            const h = await mocked();
            const network = new Network("net", {
                region: "us-east-1",
                cidrBlock: "10.1.0.0/16",
                availabilityZones: ["a", "b"],
                isolatedCidrBlock: "10.2.0.0/24",
            });
            assert.strictEqual(network.isolatedSubnetIds.length, 2);
            await h.settle();
            const association = h.one("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation", "net-isolated-cidr");
            assert.deepStrictEqual([association.inputs.vpcId, association.inputs.cidrBlock], ["net-vpc-id", "10.2.0.0/24"]);
            const isolated = h.ofType(T.subnet).filter((s) => s.name.startsWith("net-isolated-"));
            assert.deepStrictEqual(
                isolated.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone, s.inputs.tags["berth:subnet"]]),
                [
                    ["net-isolated-0", "10.2.0.0/25", "a", "isolated"],
                    ["net-isolated-1", "10.2.0.128/25", "b", "isolated"],
                ],
            );
            for (const subnet of isolated) {
                assert.ok(h.waitsFor(subnet, association), `${subnet.name} is created before its range exists`);
            }
            const tables = h.ofType(T.association).filter((a) => a.name.startsWith("net-isolated-rta-"));
            assert.deepStrictEqual(
                tables.map((a) => [a.inputs.subnetId, a.inputs.routeTableId]),
                [
                    ["net-isolated-0-id", "net-isolated-rt-id"],
                    ["net-isolated-1-id", "net-isolated-rt-id"],
                ],
            );
            assert.deepStrictEqual(
                h.ofType(T.route).filter((r) => r.inputs.routeTableId === "net-isolated-rt-id"),
                [],
            );
        });

        it("carves isolated subnets from the VPC's free blocks without a secondary range, and adds none unless asked", async () => {
            const h = await mocked();
            new Network("net", { region: "us-east-1", cidrBlock: "10.1.0.0/16", availabilityZones: ["a", "b", "c"], isolatedCidrBlock: "10.1.255.0/24" });
            new Network("bare", { region: "us-east-1", cidrBlock: "10.9.0.0/16", availabilityZones: ["a", "b"] });
            await h.settle();
            assert.deepStrictEqual(h.ofType("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"), []);
            assert.deepStrictEqual(
                h
                    .ofType(T.subnet)
                    .filter((s) => s.name.startsWith("net-isolated-"))
                    .map((s) => s.inputs.cidrBlock),
                ["10.1.255.0/26", "10.1.255.64/26", "10.1.255.128/26"],
            );
            assert.deepStrictEqual(
                h.resources.filter((r) => r.name.startsWith("bare-isolated")),
                [],
            );
        });

        it("refuses an isolated range that overlaps a subnet, straddles the VPC or is too small", async () => {
            await mocked();
            const zones = ["a", "b"];
            assert.throws(
                () => new Network("a", { region: "us-east-1", cidrBlock: "10.0.0.0/16", availabilityZones: zones, isolatedCidrBlock: "10.0.192.0/24" }),
                /Network "a": "isolatedCidrBlock" "10\.0\.192\.0\/24" overlaps the subnet 10\.0\.192\.0\/18/,
            );
            assert.throws(
                () => new Network("b", { region: "us-east-1", cidrBlock: "10.0.0.0/16", availabilityZones: ["a", "b", "c"], isolatedCidrBlock: "10.0.0.0/15" }),
                /overlaps the subnet 10\.0\.0\.0\/19/,
            );
            assert.throws(
                () =>
                    new Network("c", { region: "us-east-1", cidrBlock: "10.0.0.0/16", availabilityZones: ["a", "b", "c"], isolatedCidrBlock: "10.0.224.0/28" }),
                /"isolatedCidrBlock" "10\.0\.224\.0\/28": 10\.0\.224\.0\/28 is too small for 3 subnets/,
            );
        });

        it("refuses one AZ and a bad CIDR", async () => {
            await mocked();
            assert.throws(
                () => new Network("a", { region: "us-east-1", cidrBlock: "10.0.0.0/16", availabilityZones: ["a"] }),
                /Network "a": "availabilityZones" must list at least 2 zones, got 1/,
            );
            assert.throws(
                () => new Network("b", { region: "us-east-1", cidrBlock: "10.0.0.0/33", availabilityZones: ["a", "b"] }),
                /Network "b": "cidrBlock" "10.0.0.0\/33": it is not an IPv4 CIDR block/,
            );
        });
    });

    describe("Cluster", () => {
        it("creates the Service Connect namespace, the cluster and Fargate capacity", async () => {
            const h = await mocked();
            new Cluster("c", { namespace: "berth-test", containerInsights: true });
            await h.settle();
            assert.strictEqual(h.one(T.httpNamespace, "c-namespace").inputs.name, "berth-test");
            const cluster = h.one(T.cluster, "c-cluster");
            assert.deepStrictEqual(cluster.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
            assert.match(cluster.inputs.serviceConnectDefaults.namespace, /:berth-test$/);
            const capacity = h.one(T.clusterCapacityProviders, "c-capacity");
            assert.deepStrictEqual(capacity.inputs.capacityProviders, ["FARGATE", "FARGATE_SPOT"]);
        });

        it("leaves Container Insights off by default", async () => {
            const h = await mocked();
            new Cluster("c", { namespace: "n" });
            await h.settle();
            assert.deepStrictEqual(h.one(T.cluster, "c-cluster").inputs.settings, [{ name: "containerInsights", value: "disabled" }]);
        });
    });

    describe("LoadBalancer", () => {
        it("is internet-facing on HTTP only without a certificate", async () => {
            const h = await mocked();
            const lb = new LoadBalancer("lb", { vpcId: "vpc-1", subnetIds: ["s1", "s2"] });
            assert.strictEqual(lb.scheme, "http");
            await h.settle();
            assert.deepStrictEqual(
                h.ofType(T.listener).map((l) => [l.name, l.inputs.port]),
                [["lb-http", 80]],
            );
            assert.strictEqual(h.one(T.alb, "lb-alb").inputs.enableDeletionProtection, false);
            assert.deepStrictEqual(
                h.ofType(T.ingress).map((r) => r.inputs.fromPort),
                [80],
            );
            assert.deepStrictEqual(h.ofType(T.egress), [], "egress comes from the services");
        });

        it("refuses a single subnet", async () => {
            await mocked();
            assert.throws(() => new LoadBalancer("lb", { vpcId: "v", subnetIds: ["s1"] }), /"subnetIds" must list subnets in at least 2 AZs, got 1/);
        });
    });

    describe("ServiceImage", () => {
        it("builds for the platform and keeps the configured number of images", async () => {
            const h = await mocked();
            const image = new ServiceImage("svc", {
                context: ".",
                dockerfile: "services/svc/Dockerfile",
                platform: "linux/arm64",
                keepImages: 3,
                forceDelete: true,
                source: SOURCE,
            });
            await h.settle();
            const built = h.one(T.image, "svc-image");
            assert.deepStrictEqual(built.inputs.platforms, ["linux/arm64"]);
            assert.deepStrictEqual(built.inputs.context, { location: "." });
            assert.strictEqual(built.inputs.buildOnPreview, false, "the provider's default builds every image in every preview");
            const cache = `${h.one(T.repository, "svc-repo").name}`;
            assert.match(built.inputs.cacheFrom[0].registry.ref, new RegExp(`/${cache}-[0-9a-f]{7}:buildcache$`));
            assert.deepStrictEqual(
                { ...built.inputs.cacheTo[0].registry, ref: undefined },
                { ref: undefined, imageManifest: true, ociMediaTypes: true, mode: "max" },
            );
            assert.strictEqual(built.inputs.registries[0].username, "AWS");
            assert.strictEqual(built.inputs.registries[0].password, "mock-password");
            assert.strictEqual(h.one(T.repository, "svc-repo").inputs.forceDelete, true);
            const rules = JSON.parse(h.one(T.lifecycle, "svc-lifecycle").inputs.policy).rules;
            assert.deepStrictEqual(
                rules.map((r: any) => [r.rulePriority, r.selection.tagStatus, r.selection.countNumber]),
                [
                    [1, "tagged", 1],
                    [2, "any", 3],
                ],
            );
            assert.deepStrictEqual(rules[0].selection.tagPrefixList, ["buildcache"]);
            const ref = await new Promise<string>((resolve) => image.imageRef.apply(resolve));
            assert.match(ref, /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/svc-repo-[0-9a-f]{7}@sha256:[0-9a-f]{64}$/);
        });

        it("pushes a tag of its own per build, naming the commit, into a repository whose tags are immutable but the cache's", async () => {
            const h = await mocked();
            const clean = new ServiceImage("a", { context: ".", dockerfile: "services/a/Dockerfile", source: SOURCE });
            const dirty = new ServiceImage("b", { context: ".", dockerfile: "services/a/Dockerfile", source: { ...SOURCE, dirty: true } });
            const edited = new ServiceImage("c", {
                context: ".",
                dockerfile: "services/a/Dockerfile",
                source: { ...SOURCE, dirty: true, contentHash: "cd".repeat(32) },
            });
            await h.settle();
            const tags = await Promise.all([clean, dirty, edited].map((i) => promiseOf(i.tag)));
            assert.match(tags[0], /^3f2c1a9d04be-[0-9a-f]{8}$/);
            assert.match(tags[1], /^3f2c1a9d04be-dirty-[0-9a-f]{8}$/);
            assert.strictEqual(new Set(tags).size, 3, "two builds share a tag, which an immutable repository refuses");
            assert.deepStrictEqual([clean.commit, dirty.commit], [SOURCE.commit, `${SOURCE.commit}-dirty`]);
            const pushed = h.one(T.image, "a-image").inputs.tags;
            assert.deepStrictEqual(pushed, [`123456789012.dkr.ecr.us-east-1.amazonaws.com/${h.one(T.repository, "a-repo").outputs.name}:${tags[0]}`]);
            const repo = h.one(T.repository, "a-repo").inputs;
            assert.strictEqual(repo.imageTagMutability, "IMMUTABLE_WITH_EXCLUSION");
            const cacheTag = /:([^:]+)$/.exec(h.one(T.image, "a-image").inputs.cacheTo[0].registry.ref)![1];
            const wildcard = (f: string) => new RegExp(`^${f.replace(/\*/g, ".*")}$`);
            assert.ok(
                repo.imageTagMutabilityExclusionFilters.some((f: any) => wildcard(f.filter).test(cacheTag)),
                "the cache tag could not move",
            );
            assert.ok(!repo.imageTagMutabilityExclusionFilters.some((f: any) => wildcard(f.filter).test(tags[0])), "image tags stay mutable");
        });

        it("refuses to keep fewer images than a rollback needs, and absolute paths", async () => {
            await mocked();
            assert.throws(
                () => new ServiceImage("svc", { context: ".", dockerfile: "Dockerfile", keepImages: 2, source: SOURCE }),
                /"keepImages" must be a whole number of at least 3 \(a rollback needs the previous image\), got 2/,
            );
            assert.throws(
                () => new ServiceImage("svc", { context: "/repo", dockerfile: "Dockerfile", source: SOURCE }),
                /"context" must be relative to the project, got "\/repo"/,
            );
        });
    });

    describe("FargateService", () => {
        it("admits nothing to a backend until a caller declares it", async () => {
            const h = await mocked();
            new FargateService("x", serviceArgs());
            await h.settle();
            assert.deepStrictEqual(h.ofType(T.ingress), []);
            assert.deepStrictEqual(h.ofType(T.targetGroup), []);
            assert.deepStrictEqual(h.ofType(T.scalingTarget), [], "no autoscaling without a higher ceiling");
        });

        it("lets a caller into each callee's group on the callee's port, and starts it once its callees serve", async () => {
            const h = await mocked();
            const a = new FargateService("a", serviceArgs({ family: "a", port: 9001, expose: { kind: "backend", discoveryName: "a" } }));
            const b = new FargateService("b", serviceArgs({ family: "b", port: 9002, expose: { kind: "backend", discoveryName: "b" } }));
            new FargateService("gw", serviceArgs({ family: "gw", calls: [a.asCallee(), b.asCallee()] }));
            await h.settle();
            const ingress = h.ofType(T.ingress);
            assert.deepStrictEqual(
                ingress.map((r) => [r.name, r.inputs.securityGroupId, r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]),
                [
                    ["gw-to-a", "a-sg-id", "gw-sg-id", 9001, 9001],
                    ["gw-to-b", "b-sg-id", "gw-sg-id", 9002, 9002],
                ],
            );
            const gw = h.one(T.service, "gw-service");
            for (const dependency of [h.one(CHECK, "a-deployment"), h.one(CHECK, "b-deployment"), ...ingress]) {
                assert.ok(h.waitsFor(gw, dependency), `gw-service does not wait for ${dependency.name}`);
            }
        });

        it("starts tasks only after their egress rule and the routes out, and checks each deployment", async () => {
            const h = await mocked();
            const route = new Cluster("route-stand-in", { namespace: "n" });
            new FargateService("x", serviceArgs({ egressRoutes: [route] }));
            await h.settle();
            const svc = h.one(T.service, "x-service");
            assert.ok(h.waitsFor(svc, h.one(T.egress, "x-out")));
            assert.ok(h.waitsFor(svc, h.one(T.cluster, "route-stand-in-cluster")), "a component in egressRoutes stands for its resources");
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
            const td = h.one(T.taskDefinition, "x-task");
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
            const target = h.one(T.scalingTarget, "x-scaling");
            assert.deepStrictEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [2, 5]);
            assert.strictEqual(h.one(T.scalingPolicy, "x-cpu-scaling").inputs.policyType, "TargetTrackingScaling");
        });

        const refused: Array<[string, Partial<FargateServiceArgs>, RegExp]> = [
            [
                "a size Fargate does not run",
                { cpu: 256, memory: 4096 },
                /cpu 256 with memory 4096 is not a Fargate size; with cpu 256, memory must be one of 512, 1024, 2048/,
            ],
            ["a ceiling under the count", { desiredCount: 3, maxCount: 2 }, /"maxCount" 2 is below "desiredCount" 3/],
            ["a relative health path", { healthPath: "health" }, /"healthPath" must start with "\/"/],
            ["no subnets", { subnetIds: [] }, /"subnetIds" is empty/],
            [
                "six path patterns",
                {
                    expose: {
                        kind: "public",
                        listenerArn: "l",
                        loadBalancerSecurityGroupId: "sg",
                        pathPatterns: ["/a", "/b", "/c", "/d", "/e", "/f"],
                        priority: 10,
                    },
                },
                /at most 5/,
            ],
            [
                "a priority the default route owns",
                { expose: { kind: "public", listenerArn: "l", loadBalancerSecurityGroupId: "sg", pathPatterns: ["/a"], priority: 50000 } },
                /"expose.priority" must be 2-49999 \(the test rule takes the one before\), got 50000/,
            ],
            [
                "a discovery name that is no DNS label",
                { expose: { kind: "backend", discoveryName: "My_Service" } },
                /"expose.discoveryName" must be a DNS label/,
            ],
        ];
        for (const [what, overrides, message] of refused) {
            it(`refuses ${what}`, async () => {
                const h = await mocked();
                assert.throws(() => new FargateService("x", serviceArgs(overrides)), message);
                await h.settle();
                assert.deepStrictEqual(
                    h.resources.filter((r) => r.custom),
                    [],
                    "a refused service creates nothing",
                );
            });
        }
    });

    describe("SecretRestart", () => {
        it("is refused without a service to restart", async () => {
            const h = await mocked();
            assert.throws(
                () => new SecretRestart("r", { clusterArn: "c", readers: [], logs: { groupName: "/aws/vendedlogs/states/r", retentionDays: 7 } }),
                /SecretRestart "r": "readers" is empty/,
            );
            await h.settle();
            assert.deepStrictEqual(
                h.resources.filter((r) => r.custom),
                [],
            );
        });
    });

    describe("Database", () => {
        function databaseArgs(overrides: Partial<DatabaseArgs> = {}): DatabaseArgs {
            return {
                vpcId: "vpc-1",
                subnetIds: ["subnet-a", "subnet-b"],
                identifier: "berth-test-db",
                engineVersion: "17",
                instanceClass: "db.t4g.micro",
                allocatedStorage: 20,
                logRetentionDays: 7,
                ...overrides,
            };
        }

        it("takes a final snapshot by default, under a name that stays put between updates and differs per stack life", async () => {
            const h = await mocked();
            const db = new Database("db", databaseArgs());
            await h.settle();
            const instance = h.one(T.db, "db-instance");
            const suffix = h.one(T.randomId, "db-snapshot-suffix");
            assert.strictEqual(suffix.inputs.keepers.identifier, "berth-test-db", "a new identifier would reuse the old snapshot's name");
            assert.match(instance.inputs.finalSnapshotIdentifier, /^berth-test-db-final-[0-9a-f]{8}$/);
            assert.strictEqual(instance.inputs.skipFinalSnapshot, false);
            assert.strictEqual(await promiseOf(db.finalSnapshotIdentifier!), instance.inputs.finalSnapshotIdentifier);
            assert.strictEqual(instance.inputs.multiAz, false);
            assert.strictEqual(instance.inputs.backupRetentionPeriod, 7);
        });

        it("replaces the instance by deleting it first, under a final snapshot name that its replacement does not reuse", async () => {
            const h = await mocked();
            new Database("db", databaseArgs());
            await h.settle();
            const instance = h.one(T.db, "db-instance");
            // RDS refuses a second instance under the same identifier: the old one must go first.
            assert.strictEqual(instance.deleteBeforeReplace, true);
            // The inputs whose change replaces a DB instance (ForceNew in terraform-provider-aws
            // internal/service/rds/instance.go): each one the instance sets must draw a new snapshot suffix,
            // or the replacement would one day be deleted under its predecessor's snapshot name.
            const forceNew = [
                "identifier",
                "engine",
                "dbName",
                "username",
                "storageEncrypted",
                "kmsKeyId",
                "availabilityZone",
                "characterSetName",
                "ncharCharacterSetName",
                "timezone",
                "snapshotIdentifier",
                "customIamInstanceProfile",
            ];
            const keepers = h.one(T.randomId, "db-snapshot-suffix").inputs.keepers;
            const set = forceNew.filter((k) => instance.inputs[k] !== undefined);
            assert.ok(set.includes("username") && set.includes("dbName"));
            for (const key of set) {
                assert.strictEqual(keepers[key], String(instance.inputs[key]), `a new ${key} replaces the instance but keeps the snapshot's name`);
            }
        });

        it("skips the snapshot and its name when told, and deletes the automated backups with the instance", async () => {
            const h = await mocked();
            new Database("db", databaseArgs({ finalSnapshot: false }));
            await h.settle();
            const instance = h.one(T.db, "db-instance");
            assert.deepStrictEqual(
                [instance.inputs.skipFinalSnapshot, instance.inputs.finalSnapshotIdentifier, instance.inputs.deleteAutomatedBackups],
                [true, undefined, true],
            );
            assert.deepStrictEqual(h.ofType(T.randomId), []);
        });

        it("hands a client the connection as environment and the credentials as secret keys of the managed secret", async () => {
            const h = await mocked();
            const db = new Database("db", databaseArgs());
            const client = db.clientFor({ host: "PGHOST", port: "PGPORT", name: "PGDATABASE", user: "PGUSER", password: "PGPASSWORD" });
            const environment = await promiseOf(pulumi.output(client.environment));
            const secrets = await promiseOf(pulumi.output(client.secrets));
            const [arn] = await promiseOf(pulumi.output(client.secretArns));
            await h.settle();
            assert.deepStrictEqual(Object.keys(environment).sort(), ["DB_SECRET_ARN", "DB_SSL", "PGDATABASE", "PGHOST", "PGPORT"]);
            // The secret itself, by ARN, for the kit to read again after a rotation; never its value.
            assert.strictEqual(environment.DB_SECRET_ARN, arn);
            assert.strictEqual(await promiseOf(pulumi.output(client.credentialSecretArn)), arn);
            assert.match(environment.PGHOST, /^berth-test-db\.c[0-9a-f]{11}\.us-east-1\.rds\.amazonaws\.com$/);
            assert.deepStrictEqual(secrets, { PGUSER: `${arn}:username::`, PGPASSWORD: `${arn}:password::` });
            const instance = h.one(T.db, "db-instance");
            assert.strictEqual(client.port, instance.inputs.port, "the services would be let in on another port than the one RDS listens on");
            assert.strictEqual(environment.PGPORT, String(instance.inputs.port));
            assert.notStrictEqual(client.port, POSTGRES_DEFAULT_PORT, "the engine's default port (FSBP RDS.23)");
        });

        const refused: Array<[string, Partial<DatabaseArgs>, RegExp]> = [
            ["one subnet", { subnetIds: ["subnet-a"] }, /"subnetIds" must list subnets in at least 2 AZs/],
            ["an identifier with capitals", { identifier: "Berth-DB" }, /"identifier" "Berth-DB" must be 1-63 lowercase/],
            ["an identifier with a double hyphen", { identifier: "berth--db" }, /"identifier" "berth--db"/],
            ["an unsupported major version", { engineVersion: "12" }, /"engineVersion" 12 is PostgreSQL 12; allowed: 14, 15, 16, 17/],
            ["a class of another engine's family", { instanceClass: "db.x2g.large" }, /"instanceClass" "db\.x2g\.large"; allowed: db\.<family>\.<size>/],
            ["too little storage", { allocatedStorage: 5 }, /"allocatedStorage" must be 20-65536 GiB, got 5/],
            ["no backups", { backupRetentionDays: 0 }, /"backupRetentionDays" must be 1-35, got 0/],
        ];
        for (const [what, overrides, message] of refused) {
            it(`refuses ${what}`, async () => {
                const h = await mocked();
                assert.throws(() => new Database("db", databaseArgs(overrides)), message);
                await h.settle();
                assert.deepStrictEqual(
                    h.resources.filter((r) => r.custom),
                    [],
                    "a refused database creates nothing",
                );
            });
        }

        it("names the instance after the project and stack within RDS's rules", () => {
            assert.strictEqual(databaseIdentifier("berth", "dev"), "berth-dev-db");
            assert.strictEqual(databaseIdentifier("berth", "Team_A.Prod"), "berth-team-a-prod-db");
            assert.strictEqual(databaseIdentifier("9lives", "x"), "lives-x-db");
            const long = databaseIdentifier("berth", "a".repeat(80));
            assert.ok(long.length <= 63 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(long) && !long.includes("--"), long);
        });
    });
});
