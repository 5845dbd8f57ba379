/**
 * The whole program under mocks, once per shipped `Pulumi.<stack>.yaml`, asserting on the inputs of every
 * resource it registers.
 */
import * as assert from "assert";
import { DEFAULT_ROUTE_PRIORITY } from "../components/albRoute";
import { sourceVersion } from "../components/buildContext";
import { TLS_POLICY } from "../components/loadBalancer";
import { SERVICE_CONNECT_PROXY_MEMORY } from "../components/taskDefinition";
import { overlaps, parseCidr, type Ipv4Cidr } from "../components/cidr";
import { KEEP_ALIVE_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS } from "../services/kit/src/http";
import { loadSettings, type Settings } from "../config";
import { catalog, declarations, healthCheckCommand, resolveCatalog, type CatalogService, type ServiceDeclaration } from "../services/catalog";
import { callersOf } from "./support/catalog";
import { contains } from "./support/cidr";
import { autonameFits, NAME_LIMITS } from "./support/naming";
import { Harness, HOSTED_ZONE_ID, ROOT, runBerth, shippedStacks, stackConfig, type Recorded } from "./support/pulumi";

const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    igw: "aws:ec2/internetGateway:InternetGateway",
    nat: "aws:ec2/natGateway:NatGateway",
    eip: "aws:ec2/eip:Eip",
    route: "aws:ec2/route:Route",
    routeTable: "aws:ec2/routeTable:RouteTable",
    association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    alb: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    rule: "aws:lb/listenerRule:ListenerRule",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    cluster: "aws:ecs/cluster:Cluster",
    service: "aws:ecs/service:Service",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    repository: "aws:ecr/repository:Repository",
    lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    image: "docker-build:index:Image",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    role: "aws:iam/role:Role",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    scalingTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
    provider: "pulumi:providers:aws",
    check: "pulumi-nodejs:dynamic/berth:DeploymentCheck",
    guard: "pulumi-nodejs:dynamic/berth:DestroyGuard",
} as const;

const keyOf = (r: Recorded) => `${r.type}::${r.name}`;

/** The mocks give every resource the ID `<logical name>-id`. */
const idOf = (r: Recorded) => `${r.name}-id`;

function cidr(text: string): Ipv4Cidr {
    const parsed = parseCidr(text);
    assert.ok(typeof parsed !== "string", `${text}: ${parsed}`);
    return parsed;
}

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

for (const stack of shippedStacks()) {
    describe(`the program with Pulumi.${stack}.yaml`, () => {
        let h: Harness;
        let outputs: Awaited<ReturnType<typeof runBerth>>["outputs"];
        let settings: Settings;

        before(async () => {
            const config = stackConfig(stack);
            settings = loadSettings(config, { project: "berth", stack }, catalog);
            ({ h, outputs } = await runBerth(config, { stack }));
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
                    assert.strictEqual(r.parentType, undefined, `${r.type} ${r.name} sits at the stack's root`);
                    continue;
                }
                assert.match(r.parentType ?? "", /^berth:/, `${r.type} ${r.name} has no Berth component as parent`);
                if (r.type.startsWith("aws:")) {
                    assert.match(r.provider ?? "", /::pulumi:providers:aws::berth::/, `${r.type} ${r.name} does not use the tagged provider`);
                }
            }
        });

        it("spans a new VPC over the configured AZs with non-overlapping public and private subnets", () => {
            const [vpc] = h.ofType(T.vpc);
            assert.strictEqual(h.ofType(T.vpc).length, 1);
            assert.strictEqual(vpc.inputs.cidrBlock, settings.vpcCidr);
            assert.strictEqual(vpc.inputs.enableDnsHostnames, true);
            assert.strictEqual(vpc.inputs.enableDnsSupport, true);

            const subnets = h.ofType(T.subnet);
            assert.strictEqual(subnets.length, 2 * settings.azCount);
            for (const kind of ["public", "private"]) {
                const ofKind = subnets.filter((s) => s.name.startsWith(`berth-${kind}-`));
                const zones = ofKind.map((s) => s.inputs.availabilityZone);
                assert.strictEqual(new Set(zones).size, settings.azCount, `${kind} subnets do not span ${settings.azCount} AZs: ${zones}`);
            }
            for (const [i, a] of subnets.entries()) {
                assert.strictEqual(a.inputs.vpcId, idOf(vpc));
                assert.strictEqual(a.inputs.mapPublicIpOnLaunch, false);
                assert.ok(contains(cidr(settings.vpcCidr), cidr(a.inputs.cidrBlock)), `${a.name} lies outside the VPC`);
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
            for (const subnet of h.ofType(T.subnet)) {
                const route = routeOf(subnet);
                if (subnet.name.includes("-public-")) {
                    assert.strictEqual(route.gatewayId, idOf(igw), `${subnet.name} does not route to the IGW`);
                    assert.strictEqual(route.natGatewayId, undefined);
                } else {
                    assert.ok(nats.map(idOf).includes(route.natGatewayId), `${subnet.name} does not route to a NAT gateway`);
                    assert.strictEqual(route.gatewayId, undefined);
                }
            }
            const publicIds = h.ofType(T.subnet).filter((s) => s.name.includes("-public-")).map(idOf);
            for (const nat of nats) {
                assert.ok(publicIds.includes(nat.inputs.subnetId), `${nat.name} is not in a public subnet`);
                assert.ok(h.ofType(T.eip).map(idOf).includes(nat.inputs.allocationId));
            }
        });

        it("has one NAT gateway, or one per AZ in its AZ, as the NAT strategy says", () => {
            const nats = h.ofType(T.nat);
            const expected = settings.natStrategy === "perAz" ? settings.azCount : 1;
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
            const publicIds = h.ofType(T.subnet).filter((s) => s.name.includes("-public-")).map(idOf);
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

        it("opens nothing to the internet but the ALB's HTTP(S) ports", () => {
            const albSg = h.one(T.sg, "berth-alb-sg");
            const open = h.ofType(T.ingress).filter((r) => r.inputs.cidrIpv4 !== undefined || r.inputs.cidrIpv6 !== undefined);
            for (const rule of open) {
                assert.strictEqual(rule.inputs.securityGroupId, idOf(albSg), `${rule.name} opens a non-ALB group to an address range`);
                assert.strictEqual(rule.inputs.ipProtocol, "tcp");
                assert.ok([80, 443].includes(rule.inputs.fromPort) && rule.inputs.fromPort === rule.inputs.toPort, `${rule.name} opens ${rule.inputs.fromPort}-${rule.inputs.toPort}`);
            }
            assert.deepStrictEqual(open.map((r) => r.inputs.fromPort).sort(), settings.certificateArn ? [443, 80] : [80]);
            for (const sg of h.ofType(T.sg)) {
                assert.strictEqual(sg.inputs.ingress, undefined, `${sg.name} has inline ingress rules`);
            }
        });

        it("runs every service in the private subnets without a public IP, with circuit-breaker rollback", () => {
            const privateIds = h.ofType(T.subnet).filter((s) => s.name.includes("-private-")).map(idOf).sort();
            const services = h.ofType(T.service);
            assert.strictEqual(services.length, catalog.length);
            for (const svc of services) {
                const net = svc.inputs.networkConfiguration;
                assert.deepStrictEqual([...net.subnets].sort(), privateIds, `${svc.name} is not in the private subnets`);
                assert.strictEqual(net.assignPublicIp, false);
                assert.deepStrictEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
                assert.strictEqual(svc.inputs.deploymentMinimumHealthyPercent, 100);
                assert.strictEqual(svc.inputs.deploymentMaximumPercent, 200);
                assert.strictEqual(svc.inputs.launchType, "FARGATE");
            }
        });

        it("fails `pulumi up` unless each service's new deployment completes", () => {
            for (const service of catalog) {
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
            const needed = [h.one(T.igw, "berth-igw"), h.one(T.route, "berth-public-default"),
                ...h.ofType(T.association).filter((a) => a.name.startsWith("berth-public-rta-"))];
            assert.strictEqual(needed.length, 2 + settings.azCount);
            for (const r of needed) {
                assert.ok(alb.dependsOn.includes(keyOf(r)), `the ALB does not wait for ${r.name}`);
            }
        });

        it("starts each service's tasks after the private routes to the NAT and its own egress rule", () => {
            const routes = [...h.ofType(T.route).filter((r) => r.name.startsWith("berth-private-default-")),
                ...h.ofType(T.association).filter((a) => a.name.startsWith("berth-private-rta-"))];
            assert.strictEqual(routes.length, 2 * settings.azCount);
            for (const service of catalog) {
                const svc = h.one(T.service, `${service.name}-service`);
                for (const r of [...routes, h.one(T.egress, `${service.name}-out`)]) {
                    assert.ok(svc.dependsOn.includes(keyOf(r)), `${svc.name} does not wait for ${r.name}`);
                }
            }
        });

        it("starts every caller after each callee's deployment completed and let it in", () => {
            for (const service of catalog) {
                const svc = h.one(T.service, `${service.name}-service`);
                for (const callee of service.calls) {
                    assert.ok(h.waitsFor(svc, h.one(T.check, `${callee}-deployment`)), `${service.name} starts before ${callee} serves`);
                    assert.ok(h.waitsFor(svc, h.one(T.ingress, `${service.name}-to-${callee}`)));
                }
            }
        });

        it("protects the ALB, VPC, repositories and log groups and guards destroy, or lets destroy remove everything, as deletionProtection says", () => {
            const kept = [...h.ofType(T.alb), ...h.ofType(T.vpc), ...h.ofType(T.repository), ...h.ofType(T.logGroup)];
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

        for (const service of catalog) {
            describe(`service ${service.name} (${service.kind})`, () => {
                const size = () => settings.services[service.name];

                it("admits its port only from the ALB or its callers", () => {
                    const sg = h.one(T.sg, `${service.name}-sg`);
                    const rules = h.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === idOf(sg));
                    const sources = service.kind === "public"
                        ? [idOf(h.one(T.sg, "berth-alb-sg"))]
                        : callersOf(service.name, catalog).map((caller) => idOf(h.one(T.sg, `${caller}-sg`)));
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
                    const containers: Array<{ name: string; user: string; memory: number }> = JSON.parse(td.inputs.containerDefinitions);
                    for (const c of containers) {
                        assert.strictEqual(c.user, service.user, `${c.name} runs as ${c.user}`);
                        assert.ok(Number.isInteger(c.memory) && c.memory > 0, `${c.name} has no memory limit`);
                    }
                    const total = containers.reduce((sum, c) => sum + c.memory, 0);
                    assert.ok(total + SERVICE_CONNECT_PROXY_MEMORY <= Number(td.inputs.memory), `${total} MiB of containers leave the proxy no room in ${td.inputs.memory}`);
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
                    assert.deepStrictEqual(c.portMappings, [{ name: "http", containerPort: service.port, hostPort: service.port, protocol: "tcp", appProtocol: "http" }]);
                    assert.deepStrictEqual(c.healthCheck.command, healthCheckCommand(service));
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
                    assert.deepStrictEqual(attachments.map((a) => [a.inputs.role.replace(/-[0-9a-f]{7}$/, ""), a.inputs.policyArn]), [
                        [`${service.name}-execution-role`, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
                    ]);
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
                        assert.strictEqual(policy.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType, "ECSServiceAverageCPUUtilization");
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
                        assert.deepStrictEqual({ ...sc, timeout: undefined }, {
                            portName: "http",
                            discoveryName: service.name,
                            clientAlias: [{ port: service.port, dnsName: service.name }],
                            timeout: undefined,
                        });
                        assert.ok(sc.timeout.idleTimeoutSeconds * 1000 < KEEP_ALIVE_TIMEOUT_MS, "the proxy outlives the service's keep-alive");
                        for (const caller of callersOf(service.name, catalog)) {
                            const timeoutMs = Number(environmentOf(h, caller).TIMEOUT_MS);
                            if (catalog.find((s) => s.name === caller)!.gateway) {
                                assert.ok(timeoutMs > 0 && timeoutMs < sc.timeout.perRequestTimeoutSeconds * 1000,
                                    `Service Connect cuts ${caller}'s requests (${sc.timeout.perRequestTimeoutSeconds} s) before its own timeout (${timeoutMs} ms) answers 504`);
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
                        for (const backend of catalog.filter((s) => service.calls.includes(s.name))) {
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

        it("keeps names within AWS limits", () => {
            const limits: Array<[string, number]> = [
                [T.alb, NAME_LIMITS.loadBalancer], [T.targetGroup, NAME_LIMITS.targetGroup], [T.role, NAME_LIMITS.iamRole],
                [T.repository, NAME_LIMITS.ecrRepository], [T.service, NAME_LIMITS.ecs], [T.cluster, NAME_LIMITS.ecs],
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
        assert.deepStrictEqual(h.ofType(T.ingress).filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0").map((r) => r.inputs.fromPort).sort(), [443, 80]);
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
        const [cert] = h.ofType("aws:acm/certificate:Certificate");
        assert.strictEqual(h.ofType("aws:acm/certificate:Certificate").length, 1);
        assert.deepStrictEqual([cert.inputs.domainName, ...(cert.inputs.subjectAlternativeNames ?? [])], ["dev.example.com", "admin.dev.example.com"]);
        assert.strictEqual(cert.inputs.validationMethod, "DNS");
        const records = h.ofType("aws:route53/record:Record").filter((r) => r.inputs.type === "CNAME");
        assert.deepStrictEqual(records.map((r) => r.inputs.zoneId), [HOSTED_ZONE_ID, HOSTED_ZONE_ID]);
        for (const option of cert.outputs.domainValidationOptions) {
            assert.ok(records.some((r) => r.inputs.name === option.resourceRecordName && r.inputs.records[0] === option.resourceRecordValue), `no record validates ${option.domainName}`);
        }
        const [validation] = h.ofType("aws:acm/certificateValidation:CertificateValidation");
        assert.strictEqual(validation.inputs.certificateArn, cert.outputs.arn);
        assert.deepStrictEqual([...validation.inputs.validationRecordFqdns].sort(), records.map((r) => r.outputs.fqdn).sort());
        const https = h.one(T.listener, "berth-https");
        assert.ok(h.waitsFor(https, validation), "the listener could take a certificate ACM has not issued");
        assert.strictEqual(https.inputs.certificateArn, cert.outputs.arn);
        assert.strictEqual(https.inputs.sslPolicy, TLS_POLICY);
        assert.match(TLS_POLICY, /TLS13/, "no TLS 1.3");
        const http = h.one(T.listener, "berth-http");
        assert.deepStrictEqual(http.inputs.defaultActions.map((a: any) => [a.type, a.redirect?.protocol, a.redirect?.statusCode]), [["redirect", "HTTPS", "HTTP_301"]]);
    });

    it("points an alias record of each name at the ALB and serves each subdomain's service by its host", () => {
        const alb = h.one(T.alb, "berth-alb");
        const aliases = h.ofType("aws:route53/record:Record").filter((r) => r.inputs.type === "A");
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
        const error = await runBerth(config, { hostedZones: [{ zoneId: HOSTED_ZONE_ID, name: "example.org" }] }).then(() => undefined, (e: Error) => e);
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
        ]);
        ({ h } = await runBerth(stackConfig("dev"), { services }));
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
        assert.deepStrictEqual(rules.map((r) => [r.name, r.inputs.referencedSecurityGroupId, r.inputs.fromPort]), [["api-to-probe-backend", "api-sg-id", 9090]]);
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

    it("stay put when services are removed or inserted before them", async () => {
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

describe("a catalogue whose calls form a cycle", () => {
    it("fails before any resource is registered, naming the services", async () => {
        const [a, b] = resolveCatalog([{ name: "gw", kind: "public" }, { name: "a", kind: "backend" }, { name: "b", kind: "backend" }]).slice(1);
        const h = new Harness();
        await h.install(stackConfig("dev"));
        const { deployBerth } = await import("../program");
        const error = await deployBerth([{ ...a, calls: ["b"] }, { ...b, calls: ["a"] }]).then(() => undefined, (e: Error) => e);
        await h.settle();
        assert.match(String(error), /calls form a cycle: a -> b -> a/);
        assert.deepStrictEqual(h.resources, []);
        assert.deepStrictEqual(h.calls, []);
    });
});

describe("stack outputs", () => {
    it("list each service's repository, log group and discovery name", async () => {
        const { outputs } = await runBerth(stackConfig("dev"));
        assert.deepStrictEqual(Object.keys(outputs.services), catalog.map((s) => s.name));
        for (const s of catalog) {
            const out = outputs.services[s.name];
            assert.match(out.repositoryUrl, new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${s.name}-repo-`));
            assert.strictEqual(out.logGroupName, `/berth/dev/${s.name}`);
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
