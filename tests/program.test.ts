/**
 * The whole program under mocks, once per shipped `Pulumi.<stack>.yaml`, asserting on the inputs of every
 * resource it registers.
 */
import * as assert from "assert";
import { DEFAULT_ROUTE_PRIORITY } from "../core/listenerRules";
import { sourceVersion } from "../core/buildContext";
import { TLS_POLICY } from "../components/edge/loadBalancer";
import { SERVICE_CONNECT_PROXY } from "../core/fargate";
import { DATABASE_SECRET_VARIABLE, databaseSettingsFromEnv } from "@berth/kit/contract";
import { POSTGRES_DEFAULT_PORT } from "./support/awsRules";
import { schedulesFor } from "../core/schedule";
import { KEEP_ALIVE_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS } from "@berth/kit/http";
import { loadSettings, type Settings } from "../config";
import { catalog, declarations, deployedCatalog, jobs, resolveCatalog, type CatalogService, type Edge, type ServiceDeclaration } from "../catalog";
import { callersOf } from "./support/catalog";
import { cidr, contains, overlaps } from "./support/cidr";
import { autonameFits, NAME_LIMITS } from "./support/naming";
import { Harness, HOSTED_ZONE_ID, ROOT, runBerth, shippedStacks, stackConfig, type Recorded } from "./support/pulumi";

/** The component that owns a service's parts, and the parts, which sat at the stack's root before it. */
const SERVICE = "berth:service:Service";
const IMAGE = "berth:image:ServiceImage";
const FARGATE = "berth:service:FargateService";
const ALARMS = "berth:alarms:ServiceAlarms";
const SERVICE_PARTS = [IMAGE, FARGATE, ALARMS];
const JOB = "berth:jobs:Job";
const JOB_PARTS = [IMAGE, "berth:jobs:ScheduledJob"];
const jobNames = new Set(jobs.map((j) => j.name));
const WORKER = "berth:messaging:Worker";
const WORKER_PARTS = [IMAGE, "berth:messaging:WorkerService"];
const workerNames = new Set(catalog.filter((s) => s.kind === "worker").map((s) => s.name));

import { T } from "./support/types";

const keyOf = (r: Recorded) => `${r.type}::${r.name}`;

/** The mocks give every resource the ID `<logical name>-id`. */
const idOf = (r: Recorded) => `${r.name}-id`;

function containerOf(h: Harness, service: string): Record<string, any> {
    const td = h.one(T.taskDefinition, `${service}-task`);
    const containers = JSON.parse(td.inputs.containerDefinitions);
    const found = containers.filter((c: { name: string }) => c.name === service);
    assert.strictEqual(found.length, 1);
    return found[0];
}

function environmentOf(h: Harness, service: string): Record<string, string> {
    return Object.fromEntries(containerOf(h, service).environment.map((e: { name: string; value: string }) => [e.name, e.value]));
}

/** Each shipped stack as it is, and with the ALB in the gateway's place (`berth:edge` `alb`). */
const VARIANTS = [
    ...shippedStacks().map((stack) => ({ stack, edge: "gateway" as Edge, title: `Pulumi.${stack}.yaml` })),
    ...shippedStacks().map((stack) => ({ stack, edge: "alb" as Edge, title: `Pulumi.${stack}.yaml and berth:edge alb` })),
];

for (const { stack, edge, title } of VARIANTS) {
    describe(`the program with ${title}`, () => {
        let h: Harness;
        let outputs: Awaited<ReturnType<typeof runBerth>>["outputs"];
        let settings: Settings;
        // What the stack deploys: with the ALB edge, no gateway, and the routed backends public.
        const everything = deployedCatalog(catalog, edge);
        // The public services and backends; workers have tests of their own (tests/workers.test.ts).
        const deployed = everything.filter((s) => s.kind !== "worker");
        const usesDatabase = deployed.some((s) => s.database !== undefined);
        /** The services' alarms: all but the NAT instance's, whose actions are EC2's, and the workers' queues'. */
        // Jobs' alarms: tests/jobs.test.ts.
        const serviceAlarms = () =>
            h
                .ofType(T.alarm)
                .filter(
                    (a) =>
                        a.inputs.namespace !== "AWS/EC2" &&
                        a.inputs.namespace !== "AWS/SQS" &&
                        !jobs.some((j) => a.inputs.name === `berth-${stack}-${j.name}-failed`),
                );

        before(async () => {
            const config = { ...stackConfig(stack), ...(edge === "alb" ? { "berth:edge": "alb" } : {}) };
            settings = loadSettings(config, { project: "berth", stack }, catalog);
            ({ h, outputs } = await runBerth(config, { stack }));
        });

        it("deploys the gateway only at the gateway edge; at the ALB edge each routed backend has the ALB rules of its routes", () => {
            for (const gateway of catalog.filter((s) => s.gateway)) {
                const own = h.resources.filter((r) => r.name === gateway.name || r.name.startsWith(`${gateway.name}-`)).map((r) => `${r.type}::${r.name}`);
                if (edge === "alb") {
                    assert.deepStrictEqual(own, [], "the gateway is not deployed behind the ALB edge");
                } else {
                    assert.ok(own.includes(`${T.service}::${gateway.name}-service`));
                }
            }
            for (const backend of catalog.filter((s) => s.routes.length > 0)) {
                const rules = h.ofType(T.rule).filter((r) => r.name.startsWith(`${backend.name}-`));
                if (edge === "gateway") {
                    assert.deepStrictEqual(rules, [], `${backend.name} is reached through the gateway`);
                    continue;
                }
                const rule = h.one(T.rule, `${backend.name}-rule`);
                const testRule = h.one(T.rule, `${backend.name}-test-rule`);
                const patterns = backend.routes.flatMap((route) => [route, `${route}/*`]);
                assert.deepStrictEqual(rule.inputs.conditions, [{ pathPattern: { values: patterns } }]);
                assert.deepStrictEqual(testRule.inputs.conditions[0], { pathPattern: { values: patterns } });
                assert.strictEqual(testRule.inputs.priority, rule.inputs.priority - 1);
                // The deployment check watches this rule, as it does a public service's.
                assert.strictEqual(h.one(T.check, `${backend.name}-deployment`).inputs.productionRuleArn, rule.outputs.arn);
                // No Service Connect name: nothing but the ALB reaches it.
                const svc = h.one(T.service, `${backend.name}-service`);
                assert.strictEqual(svc.inputs.serviceConnectConfiguration.services, undefined);
            }
            const priorities = h.ofType(T.rule).map((r) => r.inputs.priority);
            assert.strictEqual(new Set(priorities).size, priorities.length, "two rules share a priority");
        });

        it("sends every invoke through the stack's provider, none through the default one", () => {
            const aws = h.invokes.filter((i) => i.token.startsWith("aws:"));
            assert.ok(aws.some((i) => i.token === "aws:index/getAvailabilityZones:getAvailabilityZones"));
            for (const invoke of aws) {
                assert.match(invoke.provider ?? "", /::pulumi:providers:aws::berth::/, `${invoke.token} goes through the default provider`);
            }
        });

        it("registers every resource under a unique type and name", () => {
            const keys = h.resources.map((r) => `${r.type}::${r.name}`);
            const duplicates = keys.filter((k, i) => keys.indexOf(k) !== i);
            assert.deepStrictEqual(duplicates, []);
            assert.ok(h.resources.length > 50, `only ${h.resources.length} resources`);
        });

        it("parents every resource to a Berth component, and gives AWS resources the stack's tagged provider", () => {
            const provider = h.one(T.provider, "berth");
            assert.strictEqual(provider.inputs.region, settings.region);
            assert.deepStrictEqual(JSON.parse(provider.inputs.defaultTags).tags, { project: "berth", stack, environment: settings.environment });
            for (const r of h.resources) {
                if (r.type.startsWith("berth:") || r.type === T.provider || r.type === T.guard) {
                    // A service's image, Fargate service and alarms belong to its `Service`; the rest sit at the root.
                    // A job's image and scheduled job belong to its `Job`.
                    // A worker's image and Fargate service belong to its `Worker`.
                    const owner =
                        jobNames.has(r.name) && JOB_PARTS.includes(r.type)
                            ? JOB
                            : workerNames.has(r.name) && WORKER_PARTS.includes(r.type)
                              ? WORKER
                              : SERVICE_PARTS.includes(r.type)
                                ? SERVICE
                                : undefined;
                    assert.strictEqual(r.parentType, owner, `${r.type} ${r.name} sits at the stack's root`);
                    continue;
                }
                assert.match(r.parentType ?? "", /^berth:/, `${r.type} ${r.name} has no Berth component as parent`);
                if (r.type.startsWith("aws:")) {
                    assert.match(r.provider ?? "", /::pulumi:providers:aws::berth::/, `${r.type} ${r.name} does not use the tagged provider`);
                }
            }
        });

        it("keeps each service's image, Fargate service and alarms, and what they hold, at the URNs they had at the stack's root", () => {
            const parts = (name: string) => [
                [IMAGE, name],
                [FARGATE, name],
                [ALARMS, `${name}-alarms`],
            ];
            for (const service of deployed) {
                assert.strictEqual(h.engineUrn(h.one(SERVICE, service.name)), `urn:pulumi:${stack}::berth::${SERVICE}::${service.name}`);
                for (const [type, name] of parts(service.name)) {
                    const part = h.one(type, name);
                    assert.strictEqual(h.engineUrn(part), `urn:pulumi:${stack}::berth::${SERVICE}$${type}::${name}`);
                    assert.ok(h.formerUrns(part).includes(`urn:pulumi:${stack}::berth::${type}::${name}`), `${type} ${name} loses its former URN`);
                }
                const ecs = h.one(T.service, `${service.name}-service`);
                assert.ok(
                    h.formerUrns(ecs).includes(`urn:pulumi:${stack}::berth::${FARGATE}$${T.service}::${service.name}-service`),
                    `${service.name}'s ECS service loses its former URN`,
                );
            }
            const inside = h.resources.filter((r) => h.engineUrn(r).includes(`::${SERVICE}$`));
            assert.ok(inside.length > deployed.length * 10, `only ${inside.length} resources inside the services`);
            for (const r of inside) {
                const former = h.engineUrn(r).replace(`::${SERVICE}$`, "::");
                assert.ok(h.formerUrns(r).includes(former), `${r.type} ${r.name} would be replaced: ${former} is not among its aliases`);
            }
        });

        it("spans a new VPC over the configured AZs with non-overlapping public and private subnets", () => {
            const [vpc] = h.ofType(T.vpc);
            assert.strictEqual(h.ofType(T.vpc).length, 1);
            assert.strictEqual(vpc.inputs.cidrBlock, settings.vpcCidr);
            assert.strictEqual(vpc.inputs.enableDnsHostnames, true);
            assert.strictEqual(vpc.inputs.enableDnsSupport, true);

            const subnets = h.ofType(T.subnet);
            const kinds = usesDatabase ? ["public", "private", "isolated"] : ["public", "private"];
            assert.strictEqual(subnets.length, kinds.length * settings.azCount);
            for (const kind of kinds) {
                const ofKind = subnets.filter((s) => s.name.startsWith(`berth-${kind}-`));
                const zones = ofKind.map((s) => s.inputs.availabilityZone);
                assert.strictEqual(new Set(zones).size, settings.azCount, `${kind} subnets do not span ${settings.azCount} AZs: ${zones}`);
            }
            // The VPC's ranges: its own block and any secondary block associated with it.
            const ranges = [vpc.inputs.cidrBlock, ...h.ofType(T.cidrAssociation).map((a) => a.inputs.cidrBlock)].map(cidr);
            for (const [i, a] of subnets.entries()) {
                assert.strictEqual(a.inputs.vpcId, idOf(vpc));
                assert.strictEqual(a.inputs.mapPublicIpOnLaunch, false);
                assert.ok(
                    ranges.some((range) => contains(range, cidr(a.inputs.cidrBlock))),
                    `${a.name} lies outside the VPC`,
                );
                for (const b of subnets.slice(i + 1)) {
                    assert.ok(!overlaps(cidr(a.inputs.cidrBlock), cidr(b.inputs.cidrBlock)), `${a.name} overlaps ${b.name}`);
                }
            }
        });

        it("routes public subnets to the Internet gateway and private subnets to a NAT gateway", () => {
            const igw = h.one(T.igw, "berth-igw");
            const nats = h.ofType(T.nat);
            const routeOf = (subnet: Recorded) => {
                const association = h.ofType(T.association).filter((a) => a.inputs.subnetId === idOf(subnet));
                assert.strictEqual(association.length, 1, `${subnet.name} has ${association.length} route tables`);
                const routes = h.ofType(T.route).filter((r) => r.inputs.routeTableId === association[0].inputs.routeTableId);
                assert.strictEqual(routes.length, 1);
                assert.strictEqual(routes[0].inputs.destinationCidrBlock, "0.0.0.0/0");
                return routes[0].inputs;
            };
            for (const subnet of h.ofType(T.subnet).filter((s) => !s.name.includes("-isolated-"))) {
                const route = routeOf(subnet);
                if (subnet.name.includes("-public-")) {
                    assert.strictEqual(route.gatewayId, idOf(igw), `${subnet.name} does not route to the IGW`);
                    assert.strictEqual(route.natGatewayId, undefined);
                } else if (settings.natStrategy === "instance") {
                    const instance = h.one(T.instance, "berth-nat-instance");
                    assert.strictEqual(
                        route.networkInterfaceId,
                        instance.outputs.primaryNetworkInterfaceId,
                        `${subnet.name} does not route to the NAT instance`,
                    );
                    assert.deepStrictEqual([route.natGatewayId, route.gatewayId], [undefined, undefined]);
                } else {
                    assert.ok(nats.map(idOf).includes(route.natGatewayId), `${subnet.name} does not route to a NAT gateway`);
                    assert.strictEqual(route.gatewayId, undefined);
                }
            }
            const publicIds = h
                .ofType(T.subnet)
                .filter((s) => s.name.includes("-public-"))
                .map(idOf);
            for (const nat of nats) {
                assert.ok(publicIds.includes(nat.inputs.subnetId), `${nat.name} is not in a public subnet`);
                assert.ok(h.ofType(T.eip).map(idOf).includes(nat.inputs.allocationId));
            }
        });

        it("has one NAT gateway, one per AZ in its AZ, or one NAT instance in a public subnet, as the NAT strategy says", () => {
            const nats = h.ofType(T.nat);
            const instances = h.ofType(T.instance);
            assert.strictEqual(instances.length, settings.natStrategy === "instance" ? 1 : 0);
            const publicIds = h
                .ofType(T.subnet)
                .filter((s) => s.name.includes("-public-"))
                .map(idOf);
            assert.ok(
                instances.every((i) => publicIds.includes(i.inputs.subnetId)),
                "the NAT instance is not in a public subnet",
            );
            const expected = settings.natStrategy === "perAz" ? settings.azCount : settings.natStrategy === "single" ? 1 : 0;
            assert.strictEqual(nats.length, expected);
            assert.strictEqual(new Set(nats.map((n) => n.inputs.subnetId)).size, expected, "two NAT gateways share a subnet");
            if (settings.natStrategy === "perAz") {
                const natSubnetOf = (privateIndex: number) => {
                    const table = h.one(T.route, `berth-private-default-${privateIndex}`).inputs;
                    return h.ofType(T.nat).find((n) => idOf(n) === table.natGatewayId)!.inputs.subnetId;
                };
                for (let i = 0; i < settings.azCount; i++) {
                    const privateAz = h.one(T.subnet, `berth-private-${i}`).inputs.availabilityZone;
                    const natAz = h.ofType(T.subnet).find((s) => idOf(s) === natSubnetOf(i))!.inputs.availabilityZone;
                    assert.strictEqual(natAz, privateAz, `private subnet ${i} leaves its AZ for NAT`);
                }
            }
        });

        it("puts an internet-facing ALB in the public subnets, with a JSON 404 by default", () => {
            const alb = h.one(T.alb, "berth-alb");
            assert.strictEqual(alb.inputs.internal, false);
            assert.strictEqual(alb.inputs.loadBalancerType, "application");
            assert.strictEqual(alb.inputs.dropInvalidHeaderFields, true);
            assert.strictEqual(alb.inputs.enableDeletionProtection, settings.deletionProtection);
            assert.ok(alb.inputs.idleTimeout * 1000 < KEEP_ALIVE_TIMEOUT_MS, "the gateway would close connections the ALB still reuses (502s)");
            const publicIds = h
                .ofType(T.subnet)
                .filter((s) => s.name.includes("-public-"))
                .map(idOf);
            assert.deepStrictEqual([...alb.inputs.subnets].sort(), publicIds.sort());
            const listeners = h.ofType(T.listener);
            assert.strictEqual(listeners.length, settings.certificateArn ? 2 : 1);
            const serving = listeners.find((l) => l.inputs.protocol === (settings.certificateArn ? "HTTPS" : "HTTP"))!;
            const [action] = serving.inputs.defaultActions;
            assert.strictEqual(action.type, "fixed-response");
            assert.strictEqual(action.fixedResponse.statusCode, "404");
            assert.strictEqual(action.fixedResponse.contentType, "application/json");
            assert.strictEqual(JSON.parse(action.fixedResponse.messageBody).error.code, "not_found");
        });

        it("builds the url output from the ALB's DNS name", async () => {
            const alb = h.one(T.alb, "berth-alb");
            const dnsName = `${alb.name}-`;
            assert.match(outputs.url, /^http:\/\/berth-alb-[0-9a-f]{7}-[0-9a-f]{10}\.us-east-1\.elb\.amazonaws\.com$/);
            assert.ok(outputs.url.startsWith(`http://${dnsName}`));
            assert.strictEqual(outputs.vpcId, idOf(h.ofType(T.vpc)[0]));
            assert.match(outputs.clusterName, /^berth-cluster-/);
        });

        it("recovers the NAT instance when its host fails, reboots it when it fails its own check, and declares it running", () => {
            const ec2Alarms = h.ofType(T.alarm).filter((a) => a.inputs.namespace === "AWS/EC2");
            if (settings.natStrategy !== "instance") {
                assert.deepStrictEqual(ec2Alarms, []);
                return;
            }
            const instance = h.one(T.instance, "berth-nat-instance");
            const topicArn = outputs.alarmTopicArn;
            const actions = ec2Alarms.map((a) => [a.inputs.metricName, a.inputs.dimensions.InstanceId, a.inputs.alarmActions, a.inputs.okActions]).sort();
            assert.deepStrictEqual(actions, [
                ["StatusCheckFailed_Instance", instance.outputs.id ?? idOf(instance), [`arn:aws:automate:${settings.region}:ec2:reboot`, topicArn], [topicArn]],
                ["StatusCheckFailed_System", instance.outputs.id ?? idOf(instance), [`arn:aws:automate:${settings.region}:ec2:recover`, topicArn], [topicArn]],
            ]);
            const running = h.one(T.instanceState, "berth-nat-running");
            assert.strictEqual(running.inputs.state, "running");
        });

        it("opens nothing to the internet but the ALB's HTTP(S) ports", () => {
            const albSg = h.one(T.sg, "berth-alb-sg");
            // The NAT instance admits the VPC's own range, which is no part of the internet.
            const fromVpc = h.ofType(T.ingress).filter((r) => r.inputs.cidrIpv4 === settings.vpcCidr);
            assert.deepStrictEqual(
                fromVpc.map((r) => r.name),
                settings.natStrategy === "instance" ? ["berth-nat-in"] : [],
            );
            const open = h.ofType(T.ingress).filter((r) => !fromVpc.includes(r) && (r.inputs.cidrIpv4 !== undefined || r.inputs.cidrIpv6 !== undefined));
            for (const rule of open) {
                assert.strictEqual(rule.inputs.securityGroupId, idOf(albSg), `${rule.name} opens a non-ALB group to an address range`);
                assert.strictEqual(rule.inputs.ipProtocol, "tcp");
                assert.ok(
                    [80, 443].includes(rule.inputs.fromPort) && rule.inputs.fromPort === rule.inputs.toPort,
                    `${rule.name} opens ${rule.inputs.fromPort}-${rule.inputs.toPort}`,
                );
            }
            assert.deepStrictEqual(open.map((r) => r.inputs.fromPort).sort(), settings.certificateArn ? [443, 80] : [80]);
            for (const sg of h.ofType(T.sg)) {
                assert.strictEqual(sg.inputs.ingress, undefined, `${sg.name} has inline ingress rules`);
            }
        });

        it("runs every service in the private subnets without a public IP, with circuit-breaker rollback", () => {
            const privateIds = h
                .ofType(T.subnet)
                .filter((s) => s.name.includes("-private-"))
                .map(idOf)
                .sort();
            const services = h.ofType(T.service);
            assert.strictEqual(services.length, everything.length);
            for (const svc of services) {
                const net = svc.inputs.networkConfiguration;
                assert.deepStrictEqual([...net.subnets].sort(), privateIds, `${svc.name} is not in the private subnets`);
                assert.strictEqual(net.assignPublicIp, false);
                assert.deepStrictEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
                assert.strictEqual(svc.inputs.deploymentMinimumHealthyPercent, 100);
                assert.strictEqual(svc.inputs.deploymentMaximumPercent, 200);
            }
        });

        it("places tasks by a FARGATE/FARGATE_SPOT strategy from the settings, not by launch type", () => {
            for (const svc of h.ofType(T.service)) {
                assert.strictEqual(svc.inputs.launchType, undefined, "a launch type conflicts with a capacity provider strategy");
                assert.strictEqual(svc.inputs.forceNewDeployment, true, "the provider refuses a strategy change without it");
                const weight = (provider: string) => svc.inputs.capacityProviderStrategies.find((c: any) => c.capacityProvider === provider)?.weight ?? 0;
                const base = svc.inputs.capacityProviderStrategies.find((c: any) => c.capacityProvider === "FARGATE")?.base ?? 0;
                const share = weight("FARGATE_SPOT") / (weight("FARGATE") + weight("FARGATE_SPOT"));
                assert.strictEqual(Math.round(share * 100), settings.spotPercent, `${svc.name}: Spot share`);
                assert.strictEqual(base, settings.onDemandBase);
                assert.ok(svc.inputs.capacityProviderStrategies.every((c: any) => ["FARGATE", "FARGATE_SPOT"].includes(c.capacityProvider)));
            }
            const providers = h.ofType(T.clusterCapacityProviders)[0].inputs.capacityProviders;
            assert.deepStrictEqual([...providers].sort(), ["FARGATE", "FARGATE_SPOT"], "a strategy may name only the cluster's providers");
            if (stack === "dev") {
                assert.strictEqual(settings.spotPercent, 100, "test runs on Spot");
            } else {
                assert.strictEqual(settings.spotPercent, 0, "prod runs on on-demand FARGATE");
            }
        });

        it("routes the private subnets' S3 traffic (image layers) through a free gateway endpoint", () => {
            const endpoint = h.one(T.endpoint, "berth-s3");
            assert.strictEqual(endpoint.inputs.serviceName, `com.amazonaws.${settings.region}.s3`);
            assert.strictEqual(endpoint.inputs.vpcEndpointType, "Gateway");
            const privateTables = h
                .ofType(T.association)
                .filter((a) => a.name.startsWith("berth-private-rta-"))
                .map((a) => a.inputs.routeTableId)
                .sort();
            const associated = h
                .ofType(T.endpointAssociation)
                .filter((a) => a.inputs.vpcEndpointId === idOf(endpoint))
                .map((a) => a.inputs.routeTableId)
                .sort();
            assert.deepStrictEqual(associated, privateTables);
            assert.strictEqual(associated.length, settings.azCount);
        });

        it("rolls each service's deployments back on the alarms a bad version trips, and only on those", () => {
            const alarms = new Map(h.ofType(T.alarm).map((a) => [a.inputs.name, a]));
            for (const service of deployed) {
                const svc = h.one(T.service, `${service.name}-service`);
                const { alarmNames, enable, rollback } = svc.inputs.alarms;
                assert.strictEqual(enable, true);
                assert.strictEqual(rollback, true);
                const roles = alarmNames.map((n: string) => n.replace(`berth-${stack}-${service.name}-`, "")).sort();
                assert.deepStrictEqual(roles, service.kind === "public" ? ["5xx-rate", "unhealthy-targets"] : ["5xx-rate"]);
                for (const name of alarmNames) {
                    const alarm = alarms.get(name);
                    assert.ok(alarm, `${svc.name} rolls back on ${name}, which no alarm has as its name`);
                    assert.ok(h.waitsFor(alarm, svc) || service.kind === "public", `${name} measures the service before it exists`);
                }
                for (const role of ["cpu", "memory", "p99-latency", "tasks-below-desired"]) {
                    const name = `berth-${stack}-${service.name}-${role}`;
                    assert.ok(alarms.has(name), `no ${role} alarm for ${service.name}`);
                    assert.ok(!alarmNames.includes(name), `${service.name} would roll back on ${role}, which load causes as often as a bad version`);
                }
            }
        });

        it("measures every alarm on the service's real dimensions and notifies the encrypted topic", () => {
            const key = h.one(T.kmsKey, "berth-alarms-key");
            const topic = h.one(T.topic, "berth-alarms");
            assert.strictEqual(topic.inputs.kmsMasterKeyId, key.outputs.arn);
            const statements = JSON.parse(key.inputs.policy).Statement;
            const publishers = ["cloudwatch.amazonaws.com", ...(usesDatabase ? ["events.rds.amazonaws.com"] : [])];
            for (const publisher of publishers) {
                assert.ok(
                    statements.some((st: any) => [st.Principal.Service].flat().includes(publisher) && st.Action.includes("kms:GenerateDataKey*")),
                    `${publisher} cannot publish to a topic whose key it may not use`,
                );
            }
            assert.ok(
                statements.some((st: any) => st.Principal.AWS === "arn:aws:iam::123456789012:root" && st.Action === "kms:*"),
                "the account would lose the key",
            );
            assert.strictEqual(key.inputs.enableKeyRotation, true);
            const topicArn = serviceAlarms()[0].inputs.alarmActions[0];
            assert.match(topicArn, /^arn:aws:sns:us-east-1:123456789012:berth-alarms-[0-9a-f]{7}$/);
            const alb = h.one(T.alb, "berth-alb");
            const albSuffix = `app/${alb.name}-`;
            for (const alarm of serviceAlarms()) {
                assert.deepStrictEqual(alarm.inputs.alarmActions, [topicArn]);
                assert.deepStrictEqual(alarm.inputs.okActions, [topicArn]);
                const service = deployed.find((s) => alarm.inputs.name.startsWith(`berth-${stack}-${s.name}-`))!;
                assert.ok(service, `${alarm.inputs.name} names no service`);
                const svc = h.one(T.service, `${service.name}-service`);
                const dims = [alarm.inputs.dimensions ?? {}, ...(alarm.inputs.metricQueries ?? []).map((q: any) => q.metric?.dimensions ?? {})];
                for (const d of dims) {
                    if (d.ServiceName !== undefined) {
                        assert.match(d.ServiceName, new RegExp(`^${service.name}-service-[0-9a-f]{7}$`), `${alarm.inputs.name}: ServiceName`);
                        assert.match(d.ClusterName, /^berth-cluster-[0-9a-f]{7}$/, `${alarm.inputs.name}: ClusterName`);
                    }
                    if (d.TargetGroup !== undefined) {
                        assert.ok(d.TargetGroup.startsWith(`targetgroup/${service.name}-tg-`), `${alarm.inputs.name}: TargetGroup ${d.TargetGroup}`);
                    }
                    if (d.LoadBalancer !== undefined) {
                        assert.ok(d.LoadBalancer.startsWith(albSuffix), `${alarm.inputs.name}: LoadBalancer ${d.LoadBalancer}`);
                    }
                    if (d.TargetDiscoveryName !== undefined) {
                        assert.strictEqual(d.TargetDiscoveryName, svc.inputs.serviceConnectConfiguration.services[0].discoveryName);
                    }
                }
            }
        });

        it("counts running tasks against what ECS wants with Container Insights, else against the floor", () => {
            for (const service of deployed) {
                const alarm = h.ofType(T.alarm).find((a) => a.inputs.name === `berth-${stack}-${service.name}-tasks-below-desired`)!;
                if (settings.containerInsights) {
                    const names = alarm.inputs.metricQueries
                        .filter((q: any) => q.metric)
                        .map((q: any) => `${q.metric.namespace}/${q.metric.metricName}`)
                        .sort();
                    assert.deepStrictEqual(names, ["ECS/ContainerInsights/DesiredTaskCount", "ECS/ContainerInsights/RunningTaskCount"]);
                } else {
                    assert.strictEqual(alarm.inputs.statistic, "SampleCount");
                    assert.strictEqual(alarm.inputs.period, 60, "one sample per running task and minute");
                    assert.strictEqual(alarm.inputs.threshold, settings.services[service.name].desiredCount);
                    assert.strictEqual(alarm.inputs.treatMissingData, "breaching", "no metrics at all means no task runs");
                }
            }
        });

        it("scales on CPU and, for public services, on ALB requests per task, scaling in slower than out", () => {
            const alb = h.one(T.alb, "berth-alb");
            for (const service of deployed) {
                const size = settings.services[service.name];
                const policies = h.ofType(T.scalingPolicy).filter((p) => p.name.startsWith(`${service.name}-`));
                if (size.maxCount === size.desiredCount && schedulesFor(service.name, settings.scaleSchedules).length === 0) {
                    assert.deepStrictEqual(policies, []);
                    continue;
                }
                const metrics = policies
                    .map((p) => p.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification?.predefinedMetricType ?? "requests per task")
                    .sort();
                assert.deepStrictEqual(
                    metrics,
                    service.kind === "public" ? ["ECSServiceAverageCPUUtilization", "requests per task"] : ["ECSServiceAverageCPUUtilization"],
                );
                for (const policy of policies) {
                    const c = policy.inputs.targetTrackingScalingPolicyConfiguration;
                    assert.ok(c.scaleInCooldown > c.scaleOutCooldown, `${policy.name} scales in as fast as out`);
                    if (c.customizedMetricSpecification) {
                        // Requests to both of the service's target groups, at this stack's ALB.
                        const groups = ["tg", "tg-alt"].map((role) => h.one(T.targetGroup, `${service.name}-${role}`).outputs.arnSuffix);
                        const counted = (c.customizedMetricSpecification.metrics as any[])
                            .filter((m) => m.metricStat?.metric.metricName === "RequestCount")
                            .map((m) => Object.fromEntries(m.metricStat.metric.dimensions.map((d: any) => [d.name, d.value])));
                        assert.deepStrictEqual(
                            counted,
                            groups.map((TargetGroup) => ({ LoadBalancer: alb.outputs.arnSuffix, TargetGroup })),
                        );
                        assert.strictEqual(c.targetValue, settings.requestsPerTarget);
                    }
                }
            }
        });

        it("applies each scheduled change to the services it names, in its time zone", () => {
            for (const service of deployed) {
                const expected = schedulesFor(service.name, settings.scaleSchedules);
                const actions = h.ofType(T.scheduledAction).filter((a) => a.name.startsWith(`${service.name}-schedule-`));
                assert.deepStrictEqual(
                    actions.map((a) => a.inputs.name),
                    expected.map((s) => s.name),
                );
                const target = h.ofType(T.scalingTarget).find((t) => t.name === `${service.name}-scaling`);
                for (const [i, action] of actions.entries()) {
                    assert.strictEqual(action.inputs.resourceId, target!.inputs.resourceId);
                    assert.strictEqual(action.inputs.timezone, expected[i].timezone ?? "UTC");
                    assert.ok(action.inputs.scalableTargetAction.minCapacity <= action.inputs.scalableTargetAction.maxCapacity);
                }
            }
            // The shipped prod schedules name the gateway, which the ALB edge does not deploy.
            if (stack === "prod" && edge === "gateway") {
                assert.ok(h.ofType(T.scheduledAction).length > 0, "the shipped prod stack keeps a morning floor");
            }
        });

        it("lets ECS Exec in as the settings say, with the task-role permissions and writable paths it needs", () => {
            for (const service of deployed) {
                const svc = h.one(T.service, `${service.name}-service`);
                assert.strictEqual(svc.inputs.enableExecuteCommand, settings.ecsExec);
                const policy = h.ofType(T.rolePolicy).find((p) => p.name === `${service.name}-exec-policy`);
                const td = h.one(T.taskDefinition, `${service.name}-task`);
                const c = containerOf(h, service.name);
                assert.strictEqual(c.readonlyRootFilesystem, true, "ECS Exec must not cost the read-only root file system");
                if (!settings.ecsExec) {
                    assert.strictEqual(policy, undefined);
                    assert.strictEqual(c.mountPoints, undefined);
                    continue;
                }
                assert.ok(policy, `${service.name}: no ECS Exec permissions`);
                assert.strictEqual(policy.inputs.role, `${service.name}-task-role-${policy.inputs.role.split("-").pop()}`);
                const actions = JSON.parse(policy.inputs.policy)
                    .Statement.flatMap((st: any) => st.Action)
                    .sort();
                assert.deepStrictEqual(actions, [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ]);
                const volumes = (td.inputs.volumes ?? []).map((v: any) => v.name);
                const writable = c.mountPoints.filter((m: any) => !m.readOnly);
                // aws/containers-roadmap#1359: the agent writes under /managed-agents too.
                assert.deepStrictEqual(writable.map((m: any) => m.containerPath).sort(), ["/managed-agents", "/var/lib/amazon", "/var/log/amazon"]);
                for (const m of writable) {
                    assert.ok(volumes.includes(m.sourceVolume), `${m.containerPath} mounts ${m.sourceVolume}, which the task does not define`);
                }
            }
        });

        it("builds a dashboard of every service on its real dimensions, and outputs its URL and the alarm topic", () => {
            const dashboard = h.ofType(T.dashboard)[0];
            assert.strictEqual(dashboard.inputs.dashboardName, `berth-${stack}`);
            const body = JSON.parse(dashboard.inputs.dashboardBody);
            const headings = body.widgets.filter((w: any) => w.type === "text").map((w: any) => w.properties.markdown);
            assert.deepStrictEqual(
                headings,
                deployed.map((s) => `### ${s.name} (${s.kind})`),
            );
            const metrics = body.widgets.filter((w: any) => w.type === "metric").flatMap((w: any) => w.properties.metrics);
            for (const service of deployed) {
                const svc = h.one(T.service, `${service.name}-service`);
                const serviceName = h.ofType(T.alarm).find((a) => a.inputs.name === `berth-${stack}-${service.name}-cpu`)!.inputs.dimensions.ServiceName;
                assert.match(serviceName, new RegExp(`^${svc.name}-`));
                assert.ok(
                    metrics.some((m: any[]) => m.includes(serviceName) && m[1] === "CPUUtilization"),
                    `no CPU graph of ${service.name}`,
                );
                if (service.kind === "public") {
                    assert.ok(
                        metrics.some(
                            (m: any[]) => m[1] === "RequestCount" && m.some((x) => typeof x === "string" && x.startsWith(`targetgroup/${service.name}-tg-`)),
                        ),
                    );
                }
                // Service Connect: what the backend's proxy receives, and how it answers each caller's proxy.
                const clusterName = h.ofType(T.alarm).find((a) => a.inputs.name === `berth-${stack}-${service.name}-cpu`)!.inputs.dimensions.ClusterName;
                const series = (name: string, ...dims: string[]) =>
                    metrics.some(
                        (m: any[]) =>
                            m[0] === "AWS/ECS" &&
                            m[1] === name &&
                            m
                                .slice(2)
                                .filter((x) => typeof x === "string")
                                .join(" ") === dims.join(" "),
                    );
                if (service.kind === "backend") {
                    assert.ok(
                        series("RequestCount", "ClusterName", clusterName, "DiscoveryName", service.name, "ServiceName", serviceName),
                        `${service.name}: no requests received`,
                    );
                    for (const caller of callersOf(service.name, deployed)) {
                        const callerName = h.ofType(T.alarm).find((a) => a.inputs.name === `berth-${stack}-${caller}-cpu`)!.inputs.dimensions.ServiceName;
                        assert.ok(
                            series("HTTPCode_Target_5XX_Count", "ClusterName", clusterName, "ServiceName", callerName, "TargetDiscoveryName", service.name),
                            `${service.name}: no 5xx seen by ${caller}`,
                        );
                    }
                }
            }
            assert.strictEqual(
                outputs.dashboardUrl,
                `https://${settings.region}.console.aws.amazon.com/cloudwatch/home?region=${settings.region}#dashboards/dashboard/berth-${stack}`,
            );
            assert.strictEqual(outputs.alarmTopicArn, serviceAlarms()[0].inputs.alarmActions[0]);
        });

        it("fails `pulumi up` unless each service's new deployment completes", () => {
            for (const service of deployed) {
                const svc = h.one(T.service, `${service.name}-service`);
                const check = h.one(T.check, `${service.name}-deployment`);
                assert.ok(h.waitsFor(check, svc), `${check.name} does not run after the service's update`);
                assert.match(check.inputs.taskDefinitionArn, new RegExp(`:${service.name}-task-[0-9a-f]{7}$`));
                assert.strictEqual(svc.inputs.taskDefinition, check.inputs.taskDefinitionArn);
                assert.strictEqual(check.inputs.region, settings.region);
                assert.strictEqual(svc.inputs.waitForSteadyState, false, "the provider's wait passes a rolled-back deployment");
            }
        });

        it("creates the ALB after the Internet gateway and the public routes", () => {
            const alb = h.one(T.alb, "berth-alb");
            const needed = [
                h.one(T.igw, "berth-igw"),
                h.one(T.route, "berth-public-default"),
                ...h.ofType(T.association).filter((a) => a.name.startsWith("berth-public-rta-")),
            ];
            assert.strictEqual(needed.length, 2 + settings.azCount);
            for (const r of needed) {
                assert.ok(alb.dependsOn.includes(keyOf(r)), `the ALB does not wait for ${r.name}`);
            }
        });

        it("starts each service's tasks after the private routes to the NAT and its own egress rule", () => {
            const routes = [
                ...h.ofType(T.route).filter((r) => r.name.startsWith("berth-private-default-")),
                ...h.ofType(T.association).filter((a) => a.name.startsWith("berth-private-rta-")),
            ];
            assert.strictEqual(routes.length, 2 * settings.azCount);
            for (const service of deployed) {
                const svc = h.one(T.service, `${service.name}-service`);
                for (const r of [...routes, h.one(T.egress, `${service.name}-out`)]) {
                    assert.ok(svc.dependsOn.includes(keyOf(r)), `${svc.name} does not wait for ${r.name}`);
                }
            }
        });

        it("starts every caller after each callee's deployment completed and let it in", () => {
            for (const service of deployed) {
                const svc = h.one(T.service, `${service.name}-service`);
                for (const callee of service.calls) {
                    assert.ok(h.waitsFor(svc, h.one(T.check, `${callee}-deployment`)), `${service.name} starts before ${callee} serves`);
                    assert.ok(h.waitsFor(svc, h.one(T.ingress, `${service.name}-to-${callee}`)));
                }
            }
        });

        it("protects the ALB, VPC, repositories and log groups and guards destroy, or lets destroy remove everything, as deletionProtection says", () => {
            const kept = [...h.ofType(T.alb), ...h.ofType(T.vpc), ...h.ofType(T.repository), ...h.ofType(T.logGroup), ...h.ofType(T.db)];
            for (const r of kept) {
                assert.strictEqual(r.protect, settings.deletionProtection, `${r.name}: protect`);
            }
            for (const r of [...h.ofType(T.repository), ...h.ofType(T.logGroup)]) {
                assert.strictEqual(r.retainOnDelete, settings.retainOnDelete, `${r.name}: retainOnDelete`);
            }
            const guard = h.one(T.guard, "berth-destroy-guard");
            assert.strictEqual(guard.protect, settings.deletionProtection);
            const everything = h.resources.filter((r) => r.custom && r !== guard && !r.type.startsWith("pulumi:providers:"));
            const unguarded = everything.filter((r) => !guard.dependencies.includes(keyOf(r)));
            assert.deepStrictEqual(unguarded.map(keyOf), [], "destroy would delete these before the guard refuses");
            if (!settings.deletionProtection) {
                assert.deepStrictEqual(h.resources.filter((r) => r.protect || r.retainOnDelete).map(keyOf), []);
                for (const repo of h.ofType(T.repository)) {
                    assert.strictEqual(repo.inputs.forceDelete, true, `${repo.name} would refuse deletion while it holds images`);
                }
                assert.strictEqual(h.one(T.alb, "berth-alb").inputs.enableDeletionProtection, false);
            }
        });

        for (const service of deployed) {
            describe(`service ${service.name} (${service.kind})`, () => {
                const size = () => settings.services[service.name];

                it("admits its port only from the ALB or its callers", () => {
                    const sg = h.one(T.sg, `${service.name}-sg`);
                    const rules = h.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === idOf(sg));
                    const sources =
                        service.kind === "public"
                            ? [idOf(h.one(T.sg, "berth-alb-sg"))]
                            : callersOf(service.name, deployed).map((caller) => idOf(h.one(T.sg, `${caller}-sg`)));
                    assert.ok(sources.length > 0, "nothing may reach the service");
                    assert.deepStrictEqual(rules.map((r) => r.inputs.referencedSecurityGroupId).sort(), [...sources].sort());
                    for (const rule of rules) {
                        assert.strictEqual(rule.inputs.fromPort, service.port);
                        assert.strictEqual(rule.inputs.toPort, service.port);
                        assert.strictEqual(rule.inputs.ipProtocol, "tcp");
                        assert.strictEqual(rule.inputs.cidrIpv4, undefined);
                    }
                    const svc = h.one(T.service, `${service.name}-service`);
                    assert.deepStrictEqual(svc.inputs.networkConfiguration.securityGroups, [idOf(sg)]);
                });

                it("runs the pushed image by its digest", () => {
                    const repo = h.one(T.repository, `${service.name}-repo`);
                    const image = h.one(T.image, `${service.name}-image`);
                    const container = containerOf(h, service.name);
                    assert.match(container.image, /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/[a-z0-9-]+@sha256:[0-9a-f]{64}$/);
                    assert.ok(container.image.startsWith(`123456789012.dkr.ecr.us-east-1.amazonaws.com/${service.name}-repo-`));
                    assert.strictEqual(image.inputs.push, true);
                    // Relative to the project: a checkout at another path must not rebuild anything.
                    assert.strictEqual(image.inputs.dockerfile.location, `${service.directory}/Dockerfile`);
                    assert.strictEqual(image.inputs.context.location, ".");
                    assert.strictEqual(image.inputs.buildOnPreview, settings.buildOnPreview);
                    assert.deepStrictEqual(image.inputs.platforms, [service.platform]);
                    assert.match(image.inputs.registries[0].address, new RegExp(`/${service.name}-repo-`));
                    assert.strictEqual(repo.inputs.imageScanningConfiguration.scanOnPush, true);
                    assert.strictEqual(repo.inputs.forceDelete, settings.forceDelete);
                    const policy = JSON.parse(h.one(T.lifecycle, `${service.name}-lifecycle`).inputs.policy);
                    assert.strictEqual(policy.rules.find((r: any) => r.selection.tagStatus === "any").selection.countNumber, settings.keepImages);
                    assert.ok(settings.keepImages >= 3, "ECR could expire the image a rollback needs");
                });

                it("runs every container as the image's non-root user, within memory limits that leave the Service Connect proxy its share", () => {
                    const td = h.one(T.taskDefinition, `${service.name}-task`);
                    const containers: Array<{ name: string; image: string; user: string; memory: number }> = JSON.parse(td.inputs.containerDefinitions);
                    const own = containerOf(h, service.name).image;
                    for (const c of containers) {
                        // The service's image runs as its USER; a sidecar of another image (the collector) as that image's own non-root user.
                        if (c.image === own) {
                            assert.strictEqual(c.user, service.user, `${c.name} runs as ${c.user}`);
                        } else {
                            assert.match(c.user, /^[1-9][0-9]*:[1-9][0-9]*$/, `${c.name} runs as ${c.user}`);
                        }
                        assert.ok(Number.isInteger(c.memory) && c.memory > 0, `${c.name} has no memory limit`);
                    }
                    const total = containers.reduce((sum, c) => sum + c.memory, 0);
                    assert.ok(
                        total + SERVICE_CONNECT_PROXY.memoryMiB <= Number(td.inputs.memory),
                        `${total} MiB of containers leave the proxy no room in ${td.inputs.memory}`,
                    );
                    assert.ok(containerOf(h, service.name).memory >= Number(td.inputs.memory) / 2, "the service gets under half its task");
                });

                it("defines a Fargate task of the configured size, platform, port, health check and logs", () => {
                    const td = h.one(T.taskDefinition, `${service.name}-task`);
                    assert.deepStrictEqual(td.inputs.requiresCompatibilities, ["FARGATE"]);
                    assert.strictEqual(td.inputs.networkMode, "awsvpc");
                    assert.strictEqual(td.inputs.cpu, String(size().cpu));
                    assert.strictEqual(td.inputs.memory, String(size().memory));
                    assert.strictEqual(td.inputs.family, `berth-${stack}-${service.name}`);
                    assert.deepStrictEqual(td.inputs.runtimePlatform, {
                        operatingSystemFamily: "LINUX",
                        cpuArchitecture: service.platform === "linux/arm64" ? "ARM64" : "X86_64",
                    });
                    const c = containerOf(h, service.name);
                    assert.deepStrictEqual(c.portMappings, [
                        { name: "http", containerPort: service.port, hostPort: service.port, protocol: "tcp", appProtocol: "http" },
                    ]);
                    const probe =
                        `fetch("http://127.0.0.1:${service.port}${service.healthPath}",{signal:AbortSignal.timeout(4000)})` +
                        ".then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
                    assert.deepStrictEqual(c.healthCheck.command, service.healthCheck ?? ["CMD", "node", "-e", probe]);
                    assert.ok(SHUTDOWN_TIMEOUT_MS < c.stopTimeout * 1000, "ECS kills the service before it finished its in-flight requests");
                    assert.strictEqual(c.readonlyRootFilesystem, true);
                    assert.strictEqual(environmentOf(h, service.name).PORT, String(service.port));
                    const logs = h.one(T.logGroup, `${service.name}-logs`);
                    assert.strictEqual(logs.inputs.retentionInDays, settings.logRetentionDays);
                    assert.strictEqual(c.logConfiguration.logDriver, "awslogs");
                    assert.strictEqual(c.logConfiguration.options["awslogs-group"], logs.inputs.name);
                    assert.strictEqual(c.logConfiguration.options["awslogs-region"], settings.region);
                    assert.strictEqual(outputs.services[service.name].logGroupName, logs.inputs.name);
                });

                it("gives the execution role only the managed ECS policy and the task role nothing", () => {
                    const td = h.one(T.taskDefinition, `${service.name}-task`);
                    const execution = h.one(T.role, `${service.name}-execution-role`);
                    const task = h.one(T.role, `${service.name}-task-role`);
                    assert.match(td.inputs.executionRoleArn, new RegExp(`${service.name}-execution-role`));
                    assert.match(td.inputs.taskRoleArn, new RegExp(`${service.name}-task-role`));
                    for (const role of [execution, task]) {
                        const statement = JSON.parse(role.inputs.assumeRolePolicy).Statement;
                        assert.deepStrictEqual(statement, [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }]);
                    }
                    const attachments = h.ofType(T.attachment).filter((a) => a.inputs.role.startsWith(`${service.name}-`));
                    assert.deepStrictEqual(
                        attachments.map((a) => [a.inputs.role.replace(/-[0-9a-f]{7}$/, ""), a.inputs.policyArn]),
                        [
                            [`${service.name}-execution-role`, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
                            // A public service's role for ECS to move its traffic between target groups (albRoute.ts).
                            ...(service.kind === "public"
                                ? [[`${service.name}-traffic-role`, "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"]]
                                : []),
                        ],
                    );
                });

                it("runs the configured number of tasks, autoscaling when the ceiling is higher", () => {
                    const svc = h.one(T.service, `${service.name}-service`);
                    assert.strictEqual(svc.inputs.desiredCount, size().desiredCount);
                    const target = h.ofType(T.scalingTarget).filter((t) => t.name === `${service.name}-scaling`);
                    if (size().maxCount > size().desiredCount) {
                        assert.strictEqual(target.length, 1);
                        assert.strictEqual(target[0].inputs.minCapacity, size().desiredCount);
                        assert.strictEqual(target[0].inputs.maxCapacity, size().maxCount);
                        assert.match(target[0].inputs.resourceId, new RegExp(`^service/berth-cluster-[0-9a-f]{7}/${service.name}-service-`));
                        const policy = h.one(T.scalingPolicy, `${service.name}-cpu-scaling`);
                        assert.strictEqual(
                            policy.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType,
                            "ECSServiceAverageCPUUtilization",
                        );
                    } else {
                        assert.strictEqual(target.length, 0);
                    }
                });

                if (service.kind === "public") {
                    it("sits behind the ALB: target group on the container port and health path, listener rule, grace period", () => {
                        const tg = h.one(T.targetGroup, `${service.name}-tg`);
                        assert.strictEqual(tg.inputs.port, service.port);
                        assert.strictEqual(tg.inputs.targetType, "ip");
                        assert.strictEqual(tg.inputs.protocol, "HTTP");
                        assert.strictEqual(tg.inputs.vpcId, idOf(h.ofType(T.vpc)[0]));
                        assert.strictEqual(tg.inputs.healthCheck.path, service.healthPath);
                        assert.strictEqual(tg.inputs.healthCheck.matcher, "200");
                        // A new version serves within about a minute, and an old one leaves within one.
                        const hc = tg.inputs.healthCheck;
                        assert.ok(hc.healthyThreshold * hc.interval + tg.inputs.deregistrationDelay <= 60, "a rollout step takes over a minute");
                        assert.ok(hc.timeout < hc.interval, "checks overlap");

                        const svc = h.one(T.service, `${service.name}-service`);
                        assert.strictEqual(svc.inputs.loadBalancers.length, 1);
                        assert.strictEqual(svc.inputs.loadBalancers[0].containerName, service.name);
                        assert.strictEqual(svc.inputs.loadBalancers[0].containerPort, service.port);
                        assert.match(svc.inputs.loadBalancers[0].targetGroupArn, new RegExp(`:${service.name}-tg-[0-9a-f]{7}$`));
                        // ECS must not stop a new task the ALB has not had time to see healthy.
                        assert.ok(svc.inputs.healthCheckGracePeriodSeconds >= tg.inputs.healthCheck.healthyThreshold * tg.inputs.healthCheck.interval);

                        const rule = h.one(T.rule, `${service.name}-rule`);
                        assert.strictEqual(rule.inputs.actions[0].type, "forward");
                        assert.strictEqual(rule.inputs.actions[0].targetGroupArn, svc.inputs.loadBalancers[0].targetGroupArn);
                        const listener = h.ofType(T.listener).find((l) => l.inputs.protocol === (settings.certificateArn ? "HTTPS" : "HTTP"))!;
                        assert.match(rule.inputs.listenerArn, new RegExp(`:${listener.name}-[0-9a-f]{7}$`));
                        if (service.pathPatterns.length === 0) {
                            assert.deepStrictEqual(rule.inputs.conditions, [{ pathPattern: { values: ["/*"] } }]);
                            assert.strictEqual(rule.inputs.priority, DEFAULT_ROUTE_PRIORITY);
                        } else {
                            assert.deepStrictEqual(rule.inputs.conditions[0].pathPattern.values, service.pathPatterns);
                        }

                        const egress = h.one(T.egress, `${service.name}-alb-out`);
                        assert.strictEqual(egress.inputs.securityGroupId, idOf(h.one(T.sg, "berth-alb-sg")));
                        assert.strictEqual(egress.inputs.referencedSecurityGroupId, idOf(h.one(T.sg, `${service.name}-sg`)));
                        assert.strictEqual(egress.inputs.fromPort, service.port);
                    });
                } else {
                    it("is reachable by name through Service Connect, and not from the ALB", () => {
                        const svc = h.one(T.service, `${service.name}-service`);
                        assert.strictEqual(svc.inputs.loadBalancers, undefined);
                        const [sc] = svc.inputs.serviceConnectConfiguration.services;
                        assert.deepStrictEqual(
                            { ...sc, timeout: undefined },
                            {
                                portName: "http",
                                discoveryName: service.name,
                                clientAlias: [{ port: service.port, dnsName: service.name }],
                                timeout: undefined,
                            },
                        );
                        assert.ok(sc.timeout.idleTimeoutSeconds * 1000 < KEEP_ALIVE_TIMEOUT_MS, "the proxy outlives the service's keep-alive");
                        for (const caller of callersOf(service.name, deployed)) {
                            const timeoutMs = Number(environmentOf(h, caller).TIMEOUT_MS);
                            if (deployed.find((s) => s.name === caller)!.gateway) {
                                assert.ok(
                                    timeoutMs > 0 && timeoutMs < sc.timeout.perRequestTimeoutSeconds * 1000,
                                    `Service Connect cuts ${caller}'s requests (${sc.timeout.perRequestTimeoutSeconds} s) before its own timeout (${timeoutMs} ms) answers 504`,
                                );
                            }
                        }
                        assert.strictEqual(outputs.services[service.name].discoveryName, service.name);
                        assert.strictEqual(h.ofType(T.targetGroup).filter((t) => t.name.startsWith(`${service.name}-`)).length, 0);
                    });
                }

                if (service.gateway) {
                    it("gets the route table of every backend at its Service Connect address", () => {
                        const routes = JSON.parse(environmentOf(h, service.name).ROUTES);
                        const expected: Record<string, string> = {};
                        for (const backend of deployed.filter((s) => service.calls.includes(s.name))) {
                            for (const route of backend.routes) {
                                expected[route] = `http://${backend.name}:${backend.port}`;
                            }
                        }
                        assert.deepStrictEqual(routes, expected);
                        assert.ok(Object.keys(routes).includes("/users") && Object.keys(routes).includes("/products"));
                        const svc = h.one(T.service, `${service.name}-service`);
                        assert.strictEqual(svc.inputs.serviceConnectConfiguration.enabled, true);
                        assert.strictEqual(svc.inputs.serviceConnectConfiguration.namespace, h.ofType(T.cluster)[0].inputs.serviceConnectDefaults.namespace);
                    });
                }
            });
        }

        if (usesDatabase) {
            describe("the database", () => {
                const declaring = deployed.filter((s) => s.database !== undefined);
                const instance = () => h.one(T.db, "berth-instance");

                it("lives in isolated subnets whose route table leads nowhere outside the VPC", () => {
                    const isolated = h.ofType(T.subnet).filter((s) => s.name.startsWith("berth-isolated-"));
                    assert.strictEqual(isolated.length, settings.azCount);
                    const group = h.one(T.dbSubnetGroup, "berth-subnets");
                    assert.deepStrictEqual([...group.inputs.subnetIds].sort(), isolated.map(idOf).sort());
                    assert.match(instance().inputs.dbSubnetGroupName, /^berth-subnets-[0-9a-f]{7}$/);
                    for (const subnet of isolated) {
                        const associations = h.ofType(T.association).filter((a) => a.inputs.subnetId === idOf(subnet));
                        assert.strictEqual(associations.length, 1, `${subnet.name} falls back to the main route table`);
                        const table = h.ofType(T.routeTable).find((t) => idOf(t) === associations[0].inputs.routeTableId)!;
                        assert.strictEqual(table.name, "berth-isolated-rt");
                        assert.strictEqual(table.inputs.routes, undefined, "inline routes");
                        assert.deepStrictEqual(
                            h.ofType(T.route).filter((r) => r.inputs.routeTableId === idOf(table)),
                            [],
                            `${subnet.name} has a route out`,
                        );
                    }
                    assert.strictEqual(instance().inputs.publiclyAccessible, false);
                });

                it("admits PostgreSQL only from the services that declare it, and lets them out to it", () => {
                    const sg = h.one(T.sg, "berth-sg");
                    assert.deepStrictEqual(instance().inputs.vpcSecurityGroupIds, [idOf(sg)]);
                    const ingress = h.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === idOf(sg));
                    assert.deepStrictEqual(
                        ingress.map((r) => r.inputs.referencedSecurityGroupId).sort(),
                        [...declaring, ...jobs.filter((j) => j.database)].map((s) => idOf(h.one(T.sg, `${s.name}-sg`))).sort(),
                    );
                    const port = instance().inputs.port;
                    assert.notStrictEqual(port, POSTGRES_DEFAULT_PORT, "the engine's default port (FSBP RDS.23)");
                    for (const rule of ingress) {
                        assert.deepStrictEqual(
                            [rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort, rule.inputs.cidrIpv4],
                            ["tcp", port, port, undefined],
                        );
                    }
                    assert.deepStrictEqual(
                        h.ofType(T.egress).filter((r) => r.inputs.securityGroupId === idOf(sg)),
                        [],
                        "the database starts no connections",
                    );
                    for (const service of declaring) {
                        const out = h.one(T.egress, `${service.name}-out-database`);
                        assert.deepStrictEqual(
                            [out.inputs.securityGroupId, out.inputs.referencedSecurityGroupId, out.inputs.fromPort],
                            [idOf(h.one(T.sg, `${service.name}-sg`)), idOf(sg), port],
                        );
                        const svc = h.one(T.service, `${service.name}-service`);
                        assert.ok(h.waitsFor(svc, h.one(T.ingress, `${service.name}-to-database`)), `${service.name} starts before the database lets it in`);
                    }
                });

                it("gives declaring services host, port and name as environment, and user and password only as secrets", async () => {
                    for (const service of deployed) {
                        const container = containerOf(h, service.name);
                        const env = environmentOf(h, service.name);
                        const secrets = Object.fromEntries(container.secrets.map((e: { name: string; valueFrom: string }) => [e.name, e.valueFrom]));
                        if (!service.database) {
                            assert.deepStrictEqual(secrets, {});
                            assert.ok(!Object.values(env).some((v) => v.includes(".rds.amazonaws.com")), `${service.name} learns of the database`);
                            continue;
                        }
                        const vars = service.database.env;
                        assert.match(env[vars.host], /^berth-[a-z]+-db\.c[0-9a-f]{11}\.us-east-1\.rds\.amazonaws\.com$/);
                        assert.strictEqual(env[vars.port], String(instance().inputs.port));
                        assert.strictEqual(env[vars.name], instance().inputs.dbName);
                        assert.strictEqual(env.DB_SSL, "verify-full");
                        assert.ok(!(vars.user in env) && !(vars.password in env), "credentials in plain environment");
                        assert.match(secrets[vars.user], /^arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-[0-9a-f-]{36}-[0-9a-f]{6}:username::$/);
                        assert.strictEqual(secrets[vars.password], secrets[vars.user].replace(/:username::$/, ":password::"));
                        assert.deepStrictEqual(Object.keys(secrets).sort(), [vars.password, vars.user].sort());
                    }
                });

                it("lets each execution role read exactly its own secrets, and the others none", () => {
                    const rdsSecret = /^arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-[0-9a-f-]{36}-[0-9a-f]{6}$/;
                    for (const service of deployed) {
                        const policies = h.ofType(T.rolePolicy).filter((p) => p.name === `${service.name}-secrets-policy`);
                        if (!service.database) {
                            assert.deepStrictEqual(policies, [], `${service.name} may read secrets`);
                            continue;
                        }
                        assert.strictEqual(policies.length, 1);
                        assert.match(policies[0].inputs.role, new RegExp(`^${service.name}-execution-role-`));
                        const statements = JSON.parse(policies[0].inputs.policy).Statement;
                        assert.strictEqual(statements.length, 1);
                        assert.deepStrictEqual(statements[0].Action, ["secretsmanager:GetSecretValue"]);
                        assert.strictEqual(statements[0].Effect, "Allow");
                        assert.strictEqual(statements[0].Resource.length, 1);
                        assert.match(statements[0].Resource[0], rdsSecret);
                        const valueFrom = containerOf(h, service.name).secrets[0].valueFrom;
                        assert.ok(valueFrom.startsWith(`${statements[0].Resource[0]}:`), "the role may read another secret than the one the task names");
                    }
                });

                it("encrypts storage, keeps backups, upgrades minor versions, forces TLS and exports its logs with retention", () => {
                    const db = instance();
                    assert.strictEqual(db.inputs.engine, "postgres");
                    assert.strictEqual(db.inputs.storageEncrypted, true);
                    assert.strictEqual(db.inputs.manageMasterUserPassword, true);
                    assert.strictEqual(db.inputs.password, undefined);
                    assert.ok(db.inputs.backupRetentionPeriod >= 1, "automated backups are off");
                    assert.strictEqual(db.inputs.autoMinorVersionUpgrade, true);
                    assert.strictEqual(db.inputs.identifier, `berth-${stack}-db`);
                    assert.strictEqual(db.inputs.instanceClass, settings.database.instanceClass);
                    assert.strictEqual(db.inputs.allocatedStorage, settings.database.storageGb);
                    const params = h.one(T.dbParameterGroup, "berth-params");
                    assert.strictEqual(params.inputs.family, `postgres${String(db.inputs.engineVersion).split(".")[0]}`);
                    assert.deepStrictEqual(
                        params.inputs.parameters.map((p: any) => [p.name, p.value]),
                        [["rds.force_ssl", "1"]],
                    );
                    assert.match(db.inputs.parameterGroupName, /^berth-params-[0-9a-f]{7}$/);
                    assert.deepStrictEqual([...db.inputs.enabledCloudwatchLogsExports].sort(), ["postgresql", "upgrade"]);
                    for (const log of db.inputs.enabledCloudwatchLogsExports) {
                        const group = h.ofType(T.logGroup).find((g) => g.inputs.name === `/aws/rds/instance/${db.inputs.identifier}/${log}`);
                        assert.ok(group, `RDS would create /aws/rds/instance/…/${log} itself, without retention`);
                        assert.strictEqual(group.inputs.retentionInDays, settings.logRetentionDays);
                        assert.ok(db.dependsOn.includes(keyOf(group)), "RDS could create the log group first");
                    }
                });

                it("sends Enhanced Monitoring's metrics through a role RDS may assume, created with its policy before the instance", () => {
                    const db = instance();
                    assert.ok(db.inputs.monitoringInterval > 0, "Enhanced Monitoring is off");
                    const role = h.one(T.role, "berth-monitoring-role");
                    assert.strictEqual(db.inputs.monitoringRoleArn, role.outputs.arn);
                    assert.deepStrictEqual(
                        JSON.parse(role.inputs.assumeRolePolicy).Statement.map((st: any) => st.Principal.Service),
                        ["monitoring.rds.amazonaws.com"],
                    );
                    const attachment = h.one(T.attachment, "berth-monitoring-policy");
                    assert.deepStrictEqual(
                        [attachment.inputs.role, attachment.inputs.policyArn],
                        [role.outputs.name, "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
                    );
                    assert.ok(h.waitsFor(db, attachment), "RDS would find the role without its permissions");
                    assert.strictEqual(db.inputs.iamDatabaseAuthenticationEnabled, true);
                    assert.notStrictEqual(db.inputs.username, "postgres");
                });

                it("notifies the alarm topic of the instance's and the parameter group's critical events", () => {
                    const topicArn = h.one(T.topic, "berth-alarms").outputs.arn;
                    const subscriptions = h.ofType(T.dbEvents);
                    const bySource = new Map(subscriptions.map((e) => [e.inputs.sourceType, e]));
                    assert.deepStrictEqual([...bySource.keys()].sort(), ["db-instance", "db-parameter-group"]);
                    const onInstance = bySource.get("db-instance")!;
                    assert.deepStrictEqual(onInstance.inputs.sourceIds, [instance().inputs.identifier]);
                    for (const category of ["maintenance", "configuration change", "failure"]) {
                        assert.ok(onInstance.inputs.eventCategories.includes(category), `no ${category} events`);
                    }
                    const onParams = bySource.get("db-parameter-group")!;
                    assert.deepStrictEqual(onParams.inputs.sourceIds, [instance().inputs.parameterGroupName]);
                    assert.ok(onParams.inputs.eventCategories.includes("configuration change"));
                    for (const e of subscriptions) {
                        assert.strictEqual(e.inputs.snsTopic, topicArn);
                    }
                });

                it("protects the data as the environment says: prod keeps it, test lets destroy delete it", () => {
                    const db = instance();
                    if (settings.environment === "prod") {
                        assert.strictEqual(db.inputs.multiAz, true);
                        assert.strictEqual(db.inputs.deletionProtection, true);
                        assert.strictEqual(db.protect, true, "pulumi destroy would delete the database");
                        assert.strictEqual(db.inputs.skipFinalSnapshot, false);
                        assert.match(db.inputs.finalSnapshotIdentifier, new RegExp(`^berth-${stack}-db-final-[0-9a-f]{8}$`));
                        assert.strictEqual(db.inputs.deleteAutomatedBackups, false);
                        assert.ok(db.inputs.backupRetentionPeriod >= 7);
                        assert.strictEqual(db.inputs.performanceInsightsEnabled, true);
                        assert.strictEqual(db.inputs.performanceInsightsRetentionPeriod, 7, "beyond 7 days Performance Insights is billed");
                    } else {
                        assert.match(db.inputs.instanceClass, /\.micro$/);
                        assert.strictEqual(db.inputs.multiAz, false);
                        assert.strictEqual(db.inputs.deletionProtection, false);
                        assert.strictEqual(db.protect, false);
                        assert.strictEqual(db.inputs.skipFinalSnapshot, true);
                        assert.strictEqual(db.inputs.finalSnapshotIdentifier, undefined);
                        assert.deepStrictEqual(
                            h.ofType(T.randomId).filter((r) => r.name.endsWith("-snapshot-suffix")),
                            [],
                        );
                    }
                    assert.strictEqual(db.retainOnDelete, false, "a retained instance would block the deletion of its subnets and security group");
                });

                it("starts fresh tasks of each declaring service when RDS rotates the password, and of no other", () => {
                    const machine = h.one(T.stateMachine, "berth-restart-restart");
                    const [task] = Object.values(JSON.parse(machine.inputs.definition).States) as any[];
                    assert.strictEqual(task.Resource, "arn:aws:states:::aws-sdk:ecs:updateService");
                    assert.deepStrictEqual(task.Parameters, { "Cluster.$": "$.cluster", "Service.$": "$.service", ForceNewDeployment: true });
                    const statementOf = (role: string) => JSON.parse(h.one(T.rolePolicy, `berth-restart-${role}-policy`).inputs.policy).Statement;
                    const readers = deployed.filter((s) => s.database !== undefined);
                    const sfn = statementOf("sfn-role");
                    assert.deepStrictEqual(
                        sfn.map((x: any) => x.Action),
                        [["ecs:UpdateService"]],
                    );
                    for (const arn of sfn[0].Resource) {
                        assert.match(
                            arn,
                            new RegExp(
                                `^arn:aws:ecs:us-east-1:123456789012:service/berth-cluster/(${readers.map((r) => r.name).join("|")})-service-[0-9a-f]{7}$`,
                            ),
                        );
                    }
                    assert.strictEqual(sfn[0].Resource.length, readers.length, "the state machine may restart services that read no secret");
                    for (const service of deployed) {
                        const rules = h.ofType(T.eventRule).filter((r) => r.name === `berth-restart-${service.name}-secret-changed`);
                        if (!service.database) {
                            assert.deepStrictEqual(rules, [], `${service.name} restarts on a secret it does not read`);
                            continue;
                        }
                        const pattern = JSON.parse(rules[0].inputs.eventPattern);
                        const dbSecret = JSON.parse(h.one(T.rolePolicy, `${service.name}-secrets-policy`).inputs.policy).Statement[0].Resource;
                        assert.deepStrictEqual(pattern, {
                            source: ["aws.secretsmanager"],
                            "detail-type": ["Secret Label Updated"],
                            resources: dbSecret,
                            detail: { labelUpdated: ["AWSCURRENT"] },
                        });
                        const target = h.one(T.eventTarget, `berth-restart-${service.name}-restart`);
                        assert.match(target.inputs.rule, new RegExp(`^berth-restart-${service.name}-secret-changed-[0-9a-f]{7}$`));
                        assert.match(target.inputs.arn, /^arn:aws:states:us-east-1:123456789012:stateMachine:berth-restart-restart-[0-9a-f]{7}$/);
                        assert.deepStrictEqual(statementOf("events-role"), [
                            { Effect: "Allow", Action: ["states:StartExecution"], Resource: [target.inputs.arn] },
                        ]);
                        const input = JSON.parse(target.inputs.input);
                        assert.ok(sfn[0].Resource.includes(input.service), "the target restarts a service the state machine may not");
                        assert.match(input.service, new RegExp(`:service/berth-cluster/${service.name}-service-[0-9a-f]{7}$`));
                        assert.match(input.cluster, /:berth-cluster-[0-9a-f]{7}$/);
                    }
                });

                it("logs every restart to an encrypted log group kept as long as the stack's logs, once its role may deliver them", () => {
                    const machine = h.one(T.stateMachine, "berth-restart-restart");
                    const logging = machine.inputs.loggingConfiguration;
                    const group = h.one(T.logGroup, "berth-restart-logs");
                    assert.strictEqual(logging.level, "ALL");
                    assert.strictEqual(logging.logDestination, `${group.outputs.arn}:*`);
                    assert.match(group.inputs.name, new RegExp(`^/aws/vendedlogs/states/berth-${stack}-`));
                    assert.strictEqual(group.inputs.retentionInDays, settings.logRetentionDays);
                    assert.strictEqual(Boolean(group.inputs.kmsKeyId), settings.logsKmsKey);
                    const delivery = h.one(T.rolePolicy, "berth-restart-sfn-role-logs-policy");
                    assert.strictEqual(delivery.inputs.role, h.one(T.role, "berth-restart-sfn-role").outputs.name);
                    assert.ok(JSON.parse(delivery.inputs.policy).Statement[0].Action.includes("logs:CreateLogDelivery"));
                    assert.ok(h.waitsFor(machine, delivery), "Step Functions would refuse the log destination");
                });

                it("outputs where the database answers and which secret holds its credentials, never a password", () => {
                    const db = outputs.database!;
                    assert.match(db.address, /\.rds\.amazonaws\.com$/);
                    assert.strictEqual(db.port, instance().inputs.port);
                    assert.strictEqual(db.name, instance().inputs.dbName);
                    assert.match(db.secretArn, /:secret:rds!db-/);
                    assert.deepStrictEqual(Object.keys(db).sort(), ["address", "identifier", "name", "port", "secretArn"]);
                });
            });
        }

        it("keeps names within AWS limits", () => {
            const limits: Array<[string, number]> = [
                [T.alb, NAME_LIMITS.loadBalancer],
                [T.targetGroup, NAME_LIMITS.targetGroup],
                [T.role, NAME_LIMITS.iamRole],
                [T.repository, NAME_LIMITS.ecrRepository],
                [T.service, NAME_LIMITS.ecs],
                [T.cluster, NAME_LIMITS.ecs],
            ];
            for (const [type, limit] of limits) {
                for (const r of h.ofType(type)) {
                    if (r.inputs.name !== undefined) {
                        assert.ok(r.inputs.name.length <= limit, `${type} name ${r.inputs.name} is over ${limit}`);
                    } else {
                        assert.ok(autonameFits(r.name, limit), `${type} ${r.name}'s auto-name would pass ${limit} characters`);
                    }
                }
            }
            for (const r of h.ofType(T.repository)) {
                assert.match(r.name, /^[a-z0-9][a-z0-9-]*$/, "ECR names are lower case");
            }
            for (const r of h.ofType(T.logGroup)) {
                assert.ok(r.inputs.name.length <= NAME_LIMITS.logGroup);
            }
            for (const r of h.ofType(T.taskDefinition)) {
                assert.match(r.inputs.family, /^[A-Za-z0-9_-]{1,255}$/);
            }
        });
    });
}

describe("berth:edge alb on an HTTPS stack whose backend requires a JWT", () => {
    let h: Harness;
    const jwks = "https://issuer.example.com/.well-known/jwks.json";
    before(async () => {
        const config = {
            ...stackConfig("dev"),
            "berth:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
            "berth:domain": "api.example.com",
            "berth:edge": "alb",
            "berth:edgeJwt": JSON.stringify({ issuer: "https://issuer.example.com", jwksUrl: jwks, audience: "berth" }),
        };
        const services = resolveCatalog(declarations.map((d) => (d.name === "products" ? { ...d, auth: "jwt" as const } : d)));
        ({ h } = await runBerth(config, { services }));
    });

    it("verifies the JWT on the HTTPS listener before both rules of the backend forward, and on no other route", () => {
        const https = h.one(T.listener, "berth-https");
        const check = {
            type: "jwt-validation",
            order: 1,
            jwtValidation: {
                issuer: "https://issuer.example.com",
                jwksEndpoint: jwks,
                additionalClaims: [{ name: "aud", format: "single-string", values: ["berth"] }],
            },
        };
        for (const [role, group] of [
            ["rule", "tg"],
            ["test-rule", "tg-alt"],
        ]) {
            const rule = h.one(T.rule, `products-${role}`);
            assert.match(rule.inputs.listenerArn, new RegExp(`:${https.name}-[0-9a-f]{7}$`));
            assert.deepStrictEqual(rule.inputs.actions, [
                check,
                { type: "forward", order: 2, targetGroupArn: h.one(T.targetGroup, `products-${group}`).outputs.arn },
            ]);
        }
        for (const role of ["rule", "test-rule"]) {
            assert.deepStrictEqual(
                h.one(T.rule, `users-${role}`).inputs.actions.map((a: any) => a.type),
                ["forward"],
            );
        }
        assert.strictEqual(
            h.ofType(T.service).some((s) => s.name === "api-service"),
            false,
        );
    });
});

describe("a stack with a certificate and a domain", () => {
    let h: Harness;
    let url: string;
    before(async () => {
        const config = {
            ...stackConfig("dev"),
            "berth:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
            "berth:domain": "api.example.com",
        };
        const run = await runBerth(config);
        h = run.h;
        url = run.outputs.url;
    });

    it("serves HTTPS on 443, redirects HTTP, and opens 443 to the internet", () => {
        const https = h.one(T.listener, "berth-https");
        assert.strictEqual(https.inputs.port, 443);
        assert.strictEqual(https.inputs.certificateArn, "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666");
        const http = h.one(T.listener, "berth-http");
        assert.strictEqual(http.inputs.defaultActions[0].type, "redirect");
        assert.strictEqual(http.inputs.defaultActions[0].redirect.protocol, "HTTPS");
        assert.deepStrictEqual(
            h
                .ofType(T.ingress)
                .filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0")
                .map((r) => r.inputs.fromPort)
                .sort(),
            [443, 80],
        );
        assert.match(h.one(T.rule, "api-rule").inputs.listenerArn, /:berth-https-[0-9a-f]{7}$/);
    });

    it("reports the domain as the url", () => {
        assert.strictEqual(url, "https://api.example.com");
    });
});

describe("a stack with a domain in its hosted zone", () => {
    let h: Harness;
    let url: string;
    const services = () => resolveCatalog([...declarations, { name: "admin", kind: "public", subdomain: "admin" }]);
    before(async () => {
        const config = { ...stackConfig("dev"), "berth:domain": "dev.example.com", "berth:hostedZoneId": HOSTED_ZONE_ID };
        const run = await runBerth(config, { services: services() });
        h = run.h;
        url = run.outputs.url;
    });

    it("gets an ACM certificate for every host name, validated by DNS in the zone before the HTTPS listener uses it", () => {
        const [cert] = h.ofType(T.certificate);
        assert.strictEqual(h.ofType(T.certificate).length, 1);
        assert.deepStrictEqual([cert.inputs.domainName, ...(cert.inputs.subjectAlternativeNames ?? [])], ["dev.example.com", "admin.dev.example.com"]);
        assert.strictEqual(cert.inputs.validationMethod, "DNS");
        const records = h.ofType(T.record).filter((r) => r.inputs.type === "CNAME");
        assert.deepStrictEqual(
            records.map((r) => r.inputs.zoneId),
            [HOSTED_ZONE_ID, HOSTED_ZONE_ID],
        );
        for (const option of cert.outputs.domainValidationOptions) {
            assert.ok(
                records.some((r) => r.inputs.name === option.resourceRecordName && r.inputs.records[0] === option.resourceRecordValue),
                `no record validates ${option.domainName}`,
            );
        }
        const [validation] = h.ofType(T.certificateValidation);
        assert.strictEqual(validation.inputs.certificateArn, cert.outputs.arn);
        assert.deepStrictEqual([...validation.inputs.validationRecordFqdns].sort(), records.map((r) => r.outputs.fqdn).sort());
        const https = h.one(T.listener, "berth-https");
        assert.ok(h.waitsFor(https, validation), "the listener could take a certificate ACM has not issued");
        assert.strictEqual(https.inputs.certificateArn, cert.outputs.arn);
        assert.strictEqual(https.inputs.sslPolicy, TLS_POLICY);
        assert.match(TLS_POLICY, /TLS13/, "no TLS 1.3");
        const http = h.one(T.listener, "berth-http");
        assert.deepStrictEqual(
            http.inputs.defaultActions.map((a: any) => [a.type, a.redirect?.protocol, a.redirect?.statusCode]),
            [["redirect", "HTTPS", "HTTP_301"]],
        );
    });

    it("points an alias record of each name at the ALB and serves each subdomain's service by its host", () => {
        const alb = h.one(T.alb, "berth-alb");
        const aliases = h.ofType(T.record).filter((r) => r.inputs.type === "A");
        assert.deepStrictEqual(aliases.map((r) => r.inputs.name).sort(), ["admin.dev.example.com", "dev.example.com"]);
        for (const a of aliases) {
            assert.deepStrictEqual(a.inputs.aliases, [{ name: alb.outputs.dnsName, zoneId: alb.outputs.zoneId, evaluateTargetHealth: true }]);
            assert.strictEqual(a.inputs.zoneId, HOSTED_ZONE_ID);
        }
        assert.deepStrictEqual(h.one(T.rule, "admin-rule").inputs.conditions, [{ hostHeader: { values: ["admin.dev.example.com"] } }]);
        assert.ok(h.one(T.rule, "admin-rule").inputs.priority < DEFAULT_ROUTE_PRIORITY);
        assert.deepStrictEqual(h.one(T.rule, "api-rule").inputs.conditions, [{ pathPattern: { values: ["/*"] } }]);
        assert.strictEqual(url, "https://dev.example.com");
    });

    it("refuses, before creating anything, a hosted zone that does not hold the domain", async () => {
        const config = { ...stackConfig("dev"), "berth:domain": "dev.example.com", "berth:hostedZoneId": HOSTED_ZONE_ID };
        const error = await runBerth(config, { hostedZones: [{ zoneId: HOSTED_ZONE_ID, name: "example.org" }] }).then(
            () => undefined,
            (e: Error) => e,
        );
        assert.match(String(error), /berth:hostedZoneId is Z0123456789EXAMPLE, the zone example\.org, which does not hold dev\.example\.com; allowed: /);
    });
});

describe("which commit is serving", () => {
    it("each task's image tag, BERTH_COMMIT variable and berth:commit tag name the commit its build context comes from", async () => {
        const { h, outputs } = await runBerth(stackConfig("dev"));
        for (const service of catalog) {
            const source = sourceVersion(ROOT, service.build.context, service.build.dockerfile);
            const label = source.dirty ? `${source.commit}-dirty` : source.commit;
            assert.match(source.commit, /^[0-9a-f]{40}$/, "this checkout is a git repository");
            assert.strictEqual(environmentOf(h, service.name).BERTH_COMMIT, label);
            assert.deepStrictEqual(h.one(T.taskDefinition, `${service.name}-task`).inputs.tags, { "berth:commit": label });
            const svc = h.one(T.service, `${service.name}-service`).inputs;
            assert.deepStrictEqual(svc.tags, { "berth:commit": label });
            assert.strictEqual(svc.propagateTags, "SERVICE", "tasks would not carry the tag");
            assert.ok(outputs.services[service.name].imageTag.startsWith(`${source.commit.slice(0, 12)}${source.dirty ? "-dirty" : ""}-`));
            assert.strictEqual(outputs.services[service.name].commit, label);
        }
    });
});

describe("adding a service", () => {
    let h: Harness;
    let services: CatalogService[];
    before(async () => {
        services = resolveCatalog([
            ...declarations,
            { name: "probe-backend", kind: "backend", routes: ["/probe-backend"], port: 9090, platform: "linux/arm64" },
            { name: "probe-public", kind: "public", pathPatterns: ["/probe-admin", "/probe-admin/*"] },
            // Services in another language: images without node, with their own probes.
            {
                name: "probe-go",
                kind: "backend",
                routes: ["/probe-go"],
                build: { context: "services/probe-go" },
                healthCheck: ["CMD", "/app/server", "-check"],
                readinessGate: ["/app/server", "-version"],
            },
            {
                name: "probe-nogate",
                kind: "backend",
                routes: ["/probe-nogate"],
                healthCheck: ["CMD-SHELL", "wget -qO- localhost:8080/health"],
                readinessGate: false,
            },
        ]);
        ({ h } = await runBerth(stackConfig("dev"), { services }));
    });

    it("runs a service's own health check and readiness gate where its image has no node, and no gate when it declines one", () => {
        const containers = (service: string) =>
            JSON.parse(h.one(T.taskDefinition, `${service}-task`).inputs.containerDefinitions) as Array<{
                name: string;
                command?: string[];
                healthCheck?: { command: string[] };
                dependsOn?: Array<{ containerName: string; condition: string }>;
            }>;
        const [go, gate] = containers("probe-go");
        assert.deepStrictEqual(go.healthCheck?.command, ["CMD", "/app/server", "-check"]);
        assert.deepStrictEqual(
            [gate.name, gate.command, gate.dependsOn],
            ["probe-go-ready", ["/app/server", "-version"], [{ containerName: "probe-go", condition: "HEALTHY" }]],
        );
        const nogate = containers("probe-nogate");
        assert.deepStrictEqual(
            nogate.map((c) => c.name),
            ["probe-nogate"],
        );
        assert.deepStrictEqual(nogate[0].healthCheck?.command, ["CMD-SHELL", "wget -qO- localhost:8080/health"]);
        // The shipped backends keep the node-based defaults.
        const [users, usersGate] = containers("users");
        assert.strictEqual(users.healthCheck?.command[1], "node");
        assert.deepStrictEqual(usersGate.command, ["node", "-e", "0"]);
    });

    it("deploys the gateway after the backends it calls", () => {
        const api = h.one(T.service, "api-service");
        for (const backend of ["users", "products", "probe-backend"]) {
            assert.ok(h.waitsFor(api, h.one(T.check, `${backend}-deployment`)), `api starts before ${backend} serves`);
        }
    });

    it("yields its repository, image, task definition and service from one catalogue entry", () => {
        h.one(T.repository, "probe-backend-repo");
        const image = h.one(T.image, "probe-backend-image");
        assert.match(image.inputs.dockerfile.location, /services\/probe-backend\/Dockerfile$/);
        assert.deepStrictEqual(image.inputs.platforms, ["linux/arm64"]);
        const td = h.one(T.taskDefinition, "probe-backend-task");
        assert.strictEqual(td.inputs.runtimePlatform.cpuArchitecture, "ARM64");
        assert.strictEqual(JSON.parse(td.inputs.containerDefinitions)[0].portMappings[0].containerPort, 9090);
        const svc = h.one(T.service, "probe-backend-service");
        assert.strictEqual(svc.inputs.serviceConnectConfiguration.services[0].discoveryName, "probe-backend");
    });

    it("routes it through the gateway and admits only the gateway", () => {
        const routes = JSON.parse(environmentOf(h, "api").ROUTES);
        assert.strictEqual(routes["/probe-backend"], "http://probe-backend:9090");
        const rules = h.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === "probe-backend-sg-id");
        assert.deepStrictEqual(
            rules.map((r) => [r.name, r.inputs.referencedSecurityGroupId, r.inputs.fromPort]),
            [["api-to-probe-backend", "api-sg-id", 9090]],
        );
    });

    it("gives a public service on path patterns its own listener rule ahead of the default route", () => {
        const rule = h.one(T.rule, "probe-public-rule");
        assert.deepStrictEqual(rule.inputs.conditions, [{ pathPattern: { values: ["/probe-admin", "/probe-admin/*"] } }]);
        assert.ok(rule.inputs.priority < DEFAULT_ROUTE_PRIORITY);
        assert.strictEqual(h.one(T.targetGroup, "probe-public-tg").inputs.healthCheck.path, "/health");
        const priorities = h.ofType(T.rule).map((r) => r.inputs.priority);
        assert.strictEqual(new Set(priorities).size, priorities.length, "two rules share a priority");
    });
});

describe("listener rule priorities", () => {
    const probe = (name: string): ServiceDeclaration => ({ name, kind: "public", pathPatterns: [`/${name}`, `/${name}/*`] });
    async function priorities(decls: ServiceDeclaration[]): Promise<Map<string, number>> {
        const { h } = await runBerth(stackConfig("dev"), { services: resolveCatalog(decls) });
        return new Map(h.ofType(T.rule).map((r) => [r.name, r.inputs.priority]));
    }

    it("stay put when services are removed or inserted before them", async function () {
        // Three whole programs under mocks.
        this.timeout(90_000);
        const before = await priorities([...declarations, probe("probe-a"), probe("probe-b"), probe("probe-c")]);
        const removed = await priorities([...declarations, probe("probe-b"), probe("probe-c")]);
        const inserted = await priorities([probe("probe-new"), ...declarations, probe("probe-b"), probe("probe-c")]);
        for (const after of [removed, inserted]) {
            for (const [rule, priority] of after) {
                if (before.has(rule)) {
                    assert.strictEqual(priority, before.get(rule), `${rule} moved from ${before.get(rule)} to ${priority}`);
                }
            }
            assert.strictEqual(new Set(after.values()).size, after.size, "two rules share a priority");
        }
        assert.strictEqual(inserted.size, before.size);
    });
});

describe("a stack with AWS credential settings", () => {
    const role = { roleArn: "arn:aws:iam::210987654321:role/deployer", externalId: "berth-ext", sessionName: "berth-dev", duration: "1h" };
    let h: Harness;

    before(async () => {
        ({ h } = await runBerth({
            ...stackConfig("dev"),
            "aws:profile": "team-sso",
            "aws:assumeRoles": JSON.stringify([role]),
            "aws:sharedConfigFiles": JSON.stringify(["/home/ci/.aws/config"]),
            "aws:allowedAccountIds": JSON.stringify(["210987654321"]),
        }));
    });

    it("registers the stack's provider with the profile, the role chain, the shared file and the account guard", () => {
        const provider = h.one(T.provider, "berth");
        assert.strictEqual(provider.inputs.profile, "team-sso");
        assert.deepStrictEqual(JSON.parse(provider.inputs.assumeRoles), [role]);
        assert.deepStrictEqual(JSON.parse(provider.inputs.sharedConfigFiles), ["/home/ci/.aws/config"]);
        assert.deepStrictEqual(JSON.parse(provider.inputs.allowedAccountIds), ["210987654321"]);
    });

    it("gives every deployment check the same profile, role chain and shared file", () => {
        const checks = h.ofType(T.check);
        assert.strictEqual(checks.length, catalog.length);
        for (const check of checks) {
            assert.deepStrictEqual(check.inputs.identity, { profile: "team-sso", sharedConfigFile: "/home/ci/.aws/config", assumeRoles: [role] }, check.name);
        }
    });

    it("looks up the region's zones and the rest through that provider", () => {
        assert.ok(h.invokes.length > 0);
        for (const invoke of h.invokes.filter((i) => i.token.startsWith("aws:"))) {
            assert.match(invoke.provider ?? "", /::pulumi:providers:aws::berth::/, invoke.token);
        }
    });
});

describe("a catalogue whose calls form a cycle", () => {
    it("fails before any resource is registered, naming the services", async () => {
        const [a, b] = resolveCatalog([
            { name: "gw", kind: "public" },
            { name: "a", kind: "backend" },
            { name: "b", kind: "backend" },
        ]).slice(1);
        const h = new Harness();
        await h.install(stackConfig("dev"));
        const { deployBerth } = await import("../program");
        const error = await deployBerth([
            { ...a, calls: ["b"] },
            { ...b, calls: ["a"] },
        ]).then(
            () => undefined,
            (e: Error) => e,
        );
        await h.settle();
        assert.match(String(error), /calls form a cycle: a -> b -> a/);
        assert.deepStrictEqual(h.resources, []);
        assert.deepStrictEqual(h.calls, []);
    });
});

describe("stack outputs", () => {
    it("list each service's repository, log group, ECS service name and discovery name", async () => {
        const { h, outputs } = await runBerth(stackConfig("dev"));
        assert.deepStrictEqual(
            Object.keys(outputs.services),
            catalog.map((s) => s.name),
        );
        for (const s of catalog) {
            const out = outputs.services[s.name];
            assert.match(out.repositoryUrl, new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${s.name}-repo-`));
            assert.strictEqual(out.logGroupName, `/berth/dev/${s.name}`);
            // `berth status` and `berth exec` find the ECS service by this name.
            assert.strictEqual(out.serviceName, h.one(T.service, `${s.name}-service`).outputs.name);
            assert.ok(out.serviceName);
            assert.strictEqual(out.discoveryName, s.kind === "backend" ? s.name : undefined);
        }
    });
});

describe("pulumi preview", () => {
    it("registers the same resources with the same names as an update", async () => {
        const { h: update } = await runBerth(stackConfig("dev"));
        const preview = new Harness();
        await preview.install(stackConfig("dev"), "dev", true);
        const { deployBerth } = await import("../program");
        // Outputs stay unknown in a preview: only the registrations are compared.
        await deployBerth(catalog);
        await preview.settle();
        const names = (h: Harness) => h.resources.map((r) => `${r.type}::${r.name}`).sort();
        assert.deepStrictEqual(names(preview), names(update));
    });
});

describe("the database only where a service declares it", () => {
    const withoutDatabase = () => resolveCatalog(declarations.map(({ database: _database, ...rest }) => rest));

    for (const stack of shippedStacks()) {
        it(`creates no database, isolated subnet or secondary range for a catalogue without one (${stack})`, async () => {
            const { h, outputs } = await runBerth(stackConfig(stack), { stack, services: withoutDatabase() });
            const databaseTypes = [T.db, T.dbSubnetGroup, T.dbParameterGroup, T.dbEvents, T.cidrAssociation];
            assert.deepStrictEqual(h.resources.filter((r) => databaseTypes.includes(r.type as never)).map(keyOf), []);
            assert.deepStrictEqual(
                h
                    .ofType(T.randomId)
                    .filter((r) => r.name.endsWith("-snapshot-suffix"))
                    .map(keyOf),
                [],
                "a final snapshot's name",
            );
            // ECS Exec has an inline policy of its own on the task role; no execution role may read a secret.
            assert.deepStrictEqual(
                h
                    .ofType(T.rolePolicy)
                    .filter((r) => r.name.endsWith("-secrets-policy"))
                    .map(keyOf),
                [],
            );
            assert.deepStrictEqual(
                h
                    .ofType(T.subnet)
                    .filter((s) => s.name.includes("-isolated-"))
                    .map(keyOf),
                [],
            );
            assert.strictEqual(outputs.database, undefined);
        });

        it(`adds the database without replacing the VPC or any public or private subnet (${stack})`, async () => {
            const before = (await runBerth(stackConfig(stack), { stack, services: withoutDatabase() })).h;
            const after = (await runBerth(stackConfig(stack), { stack })).h;
            const network = (h: Harness) =>
                [...h.ofType(T.vpc), ...h.ofType(T.subnet).filter((s) => !s.name.includes("-isolated-"))].map((r) => [
                    r.name,
                    r.inputs.cidrBlock,
                    r.inputs.availabilityZone,
                    r.inputs.vpcId ?? null,
                ]);
            assert.deepStrictEqual(network(after), network(before));
            const unchangedRoutes = (h: Harness) =>
                [...h.ofType(T.routeTable), ...h.ofType(T.route), ...h.ofType(T.association)]
                    .filter((r) => !r.name.includes("-isolated-"))
                    .map((r) => [r.name, JSON.stringify(r.inputs)]);
            assert.deepStrictEqual(unchangedRoutes(after), unchangedRoutes(before));
        });
    }
});

describe("a service's own secrets", () => {
    const VALUE = "s3cr3t-value-that-must-stay-hidden";
    const EXISTING = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/jwt-AbCdEf";
    const PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/berth/dev/stripe-key";
    let h: Harness;
    let outputs: Awaited<ReturnType<typeof runBerth>>["outputs"];
    before(async () => {
        const config = {
            ...stackConfig("dev"),
            "berth:secrets": JSON.stringify({ api: { AUTH_API_KEYS: VALUE, AUTH_JWT_SECRET: `${EXISTING}:signing::`, STRIPE_KEY: PARAMETER } }),
        };
        ({ h, outputs } = await runBerth(config, { secretKeys: ["berth:secrets"] }));
    });

    function secretsOf(service: string): Record<string, string> {
        return Object.fromEntries(containerOf(h, service).secrets.map((e: { name: string; valueFrom: string }) => [e.name, e.valueFrom]));
    }

    it("stores a value set with --secret in a Secrets Manager secret of the stack, as a Pulumi secret", () => {
        const secret = h.one(T.secret, "api-secret-auth-api-keys");
        assert.strictEqual(secret.inputs.namePrefix, "berth/dev/api/AUTH_API_KEYS-");
        assert.strictEqual(secret.inputs.recoveryWindowInDays, 0, "a test stack's secret would block its own re-creation for 30 days");
        const version = h.one(T.secretVersion, "api-secret-auth-api-keys-value");
        assert.strictEqual(version.inputs.secretId, idOf(secret));
        assert.deepStrictEqual(version.secretInputs, ["secretString"], "the state would keep the value in plain text");
        assert.strictEqual(version.inputs.secretString.value, VALUE);
        assert.ok(h.waitsFor(h.one(T.service, "api-service"), version), "tasks could start before the secret holds its value");
    });

    it("hands every secret to the container only through `secrets`, never its value", () => {
        const secrets = secretsOf("api");
        assert.match(secrets.AUTH_API_KEYS, /^arn:aws:secretsmanager:us-east-1:123456789012:secret:berth\/dev\/api\/AUTH_API_KEYS-[0-9a-f]{26}-[0-9a-f]{6}$/);
        assert.strictEqual(secrets.AUTH_JWT_SECRET, `${EXISTING}:signing::`);
        assert.strictEqual(secrets.STRIPE_KEY, PARAMETER);
        const env = environmentOf(h, "api");
        for (const name of ["AUTH_API_KEYS", "AUTH_JWT_SECRET", "STRIPE_KEY"]) {
            assert.ok(!(name in env), `${name} is in the plain environment`);
        }
        for (const service of catalog.filter((s) => s.name !== "api")) {
            assert.ok(!Object.keys(secretsOf(service.name)).some((n) => n.startsWith("AUTH_") || n === "STRIPE_KEY"), `${service.name} got api's secrets`);
        }
    });

    it("never shows the value in another input, in the state's plain inputs or in a stack output", () => {
        const version = h.one(T.secretVersion, "api-secret-auth-api-keys-value");
        for (const r of h.resources) {
            const inputs = r === version ? { ...r.inputs, secretString: undefined } : r.inputs;
            assert.ok(!JSON.stringify(inputs).includes(VALUE), `${r.type} ${r.name} carries the value`);
        }
        assert.ok(!JSON.stringify(outputs).includes(VALUE), "a stack output carries the value");
    });

    it("starts fresh api tasks when one of its Secrets Manager secrets gets a new value", () => {
        const pattern = JSON.parse(h.one(T.eventRule, "berth-restart-api-secret-changed").inputs.eventPattern);
        assert.deepStrictEqual(pattern.resources, [EXISTING, secretsOf("api").AUTH_API_KEYS]);
        assert.deepStrictEqual(pattern.detail, { labelUpdated: ["AWSCURRENT"] });
        assert.match(JSON.parse(h.one(T.eventTarget, "berth-restart-api-restart").inputs.input).service, /:service\/berth-cluster\/api-service-[0-9a-f]{7}$/);
    });

    it("lets api's execution role read exactly its secrets and parameters: the stored one, the referenced ones", () => {
        const statements = JSON.parse(h.one(T.rolePolicy, "api-secrets-policy").inputs.policy).Statement;
        const stored = secretsOf("api").AUTH_API_KEYS;
        assert.deepStrictEqual(statements, [
            { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [EXISTING, stored] },
            { Effect: "Allow", Action: ["ssm:GetParameters"], Resource: [PARAMETER] },
        ]);
        for (const service of catalog.filter((s) => s.name !== "api")) {
            const policy = h.ofType(T.rolePolicy).find((p) => p.name === `${service.name}-secrets-policy`);
            const text = policy?.inputs.policy ?? "";
            assert.ok(!text.includes(EXISTING) && !text.includes(PARAMETER) && !text.includes("AUTH_API_KEYS"), `${service.name} may read api's secrets`);
        }
    });
});

describe("a stack created again where its earlier life kept log groups", () => {
    // A prod stack destroyed with retainOnDelete leaves its log groups under their fixed names; creating them
    // again would fail with ResourceAlreadyExistsException.
    const kept = [
        "/berth/prod/users",
        "/berth/prod/vpc-flow-logs",
        "/aws/rds/instance/berth-prod-db/postgresql",
        "/aws/vendedlogs/states/berth-prod-secret-restart",
    ];
    const elsewhere = ["/berth/prod-eu/users", "/berth/dev/users"];

    it("adopts each kept group of its own (Pulumi's import), creates the others, and looks at no other stack's", async () => {
        const { h } = await runBerth(stackConfig("prod"), { stack: "prod", logGroups: [...kept, ...elsewhere] });
        const groups = h.ofType(T.logGroup);
        const imported = groups.filter((g) => g.importId !== undefined);
        const expected = kept.filter((name) => groups.some((g) => g.inputs.name === name));
        assert.ok(expected.length >= 3, `the prod stack makes ${groups.map((g) => g.inputs.name).join(", ")}`);
        assert.deepStrictEqual(imported.map((g) => g.importId).sort(), [...expected].sort());
        for (const g of imported) {
            assert.strictEqual(g.importId, g.inputs.name, "a log group's ID is its name");
        }
        assert.ok(groups.length > imported.length, "the groups that do not exist are created");
    });

    it("creates every group where none is left", async () => {
        const { h } = await runBerth(stackConfig("prod"), { stack: "prod" });
        assert.deepStrictEqual(
            h.ofType(T.logGroup).filter((g) => g.importId !== undefined),
            [],
        );
    });
});

describe("the database environment a service gets in AWS", () => {
    it("is what the kit reads: each variable carrying the connection is read, and the settings name the instance", async () => {
        const { h } = await runBerth(stackConfig("dev"));
        const instance = h.one(T.db, "berth-instance");
        // ECS fills each `secrets` entry from the JSON key its `valueFrom` names
        // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
        const secretJson: Record<string, string> = { username: "berth_app", password: "s3cret" };
        const databaseServices = catalog.filter((s) => s.database);
        assert.ok(databaseServices.length > 0, "no service declares the database");
        for (const service of databaseServices) {
            const container = containerOf(h, service.name);
            const env = environmentOf(h, service.name);
            const secretArn = String(env[DATABASE_SECRET_VARIABLE] ?? "");
            const given: Record<string, string> = { ...env };
            const fromSecret: string[] = [];
            for (const secret of container.secrets as Array<{ name: string; valueFrom: string }>) {
                const [, key] = /^.+:(\w+)::$/.exec(secret.valueFrom) ?? [];
                if (secretJson[key] !== undefined && secret.valueFrom.startsWith(secretArn)) {
                    given[secret.name] = secretJson[key];
                    fromSecret.push(secret.name);
                }
            }
            const read = new Set<string>();
            const watched = new Proxy(given, { get: (target, key) => (read.add(String(key)), target[String(key)]) });
            const settings = databaseSettingsFromEnv(watched as NodeJS.ProcessEnv, service.database!.env);
            const { host, port, database, user, password, ssl } = settings;
            assert.ok(host.startsWith(`${instance.inputs.identifier}.`) && host.endsWith(".rds.amazonaws.com"), `${service.name}: host ${host}`);
            assert.deepStrictEqual(
                { port, database, user, password, ssl, secretArn: settings.secretArn },
                { port: instance.inputs.port, database: instance.inputs.dbName, user: "berth_app", password: "s3cret", ssl: "verify-full", secretArn },
                service.name,
            );
            assert.match(secretArn, /^arn:aws:secretsmanager:.+:secret:rds!/, service.name);
            const fromDatabase = Object.keys(env).filter((k) =>
                [settings.host, String(settings.port), settings.database, secretArn, "verify-full"].includes(env[k]),
            );
            assert.deepStrictEqual(
                [...fromDatabase, ...fromSecret].filter((k) => !read.has(k)),
                [],
                `${service.name}: given but not read by the kit`,
            );
            assert.strictEqual(fromDatabase.length + fromSecret.length, 7, `${service.name}: host, port, name, TLS mode, secret, user, password`);
        }
    });
});

describe("a database password that RDS rotates", () => {
    it("names the managed secret to each database service (DB_SECRET_ARN), whose task role may read exactly it; the others get neither", async () => {
        const { h } = await runBerth(stackConfig("dev"));
        for (const service of catalog) {
            const env = environmentOf(h, service.name);
            const policy = h.ofType(T.rolePolicy).find((p) => p.name === `${service.name}-task-secrets-policy`);
            if (!service.database) {
                assert.strictEqual(env[DATABASE_SECRET_VARIABLE], undefined, service.name);
                assert.strictEqual(policy, undefined, service.name);
                continue;
            }
            // The secret ECS fills the password from at start.
            const password = containerOf(h, service.name).secrets.find((s: { name: string }) => s.name === service.database!.env.password);
            const secretArn = String(password.valueFrom).replace(/:password::$/, "");
            assert.match(secretArn, /^arn:aws:secretsmanager:/);
            assert.strictEqual(env[DATABASE_SECRET_VARIABLE], secretArn);
            assert.ok(policy, `${service.name}: the task role may not read the secret again`);
            assert.match(policy.inputs.role, new RegExp(`^${service.name}-task-role-`));
            assert.deepStrictEqual(JSON.parse(policy.inputs.policy).Statement, [
                { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
            ]);
        }
    });
});
