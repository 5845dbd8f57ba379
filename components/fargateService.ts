import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Platform } from "../services/catalog";
import { describeFargateMemory, isFargateSize } from "./fargate";
import { childName } from "./naming";

/** The last priority an ALB rule may have: the default route's rule takes it so that every other rule wins. */
export const DEFAULT_ROUTE_PRIORITY = 50000;

/** Tuned for fast rollouts; AWS's defaults (300 s, 30 s interval, 5 checks) keep old tasks for minutes. */
export const TARGET_GROUP_TIMING = {
    deregistrationDelay: 15,
    interval: 10,
    timeout: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
} as const;

/** Seconds Service Connect's proxy keeps an idle connection to a backend open. */
export const SERVICE_CONNECT_IDLE_TIMEOUT = 60;

/** Seconds ECS waits between SIGTERM and SIGKILL; the services finish in-flight requests well within it. */
export const STOP_TIMEOUT = 30;

/** A public service: behind the ALB (AWS Copilot's Load Balanced Web Service). */
export interface PublicExposure {
    kind: "public";
    /** The listener to add the service's rule to. */
    listenerArn: pulumi.Input<string>;
    /** The ALB's security group: the only source the service admits. */
    loadBalancerSecurityGroupId: pulumi.Input<string>;
    /**
     * ALB path patterns (at most 5). Empty: the default route, a catch-all rule with the last priority.
     * @example ["/admin", "/admin/*"]
     */
    pathPatterns: readonly string[];
    /** The rule's priority, 1-49999, unique on the listener; ignored for the default route. */
    priority: number;
    /**
     * Seconds ECS ignores failing ALB health checks of a new task.
     * @default 30
     */
    healthCheckGracePeriod?: number;
}

/**
 * A backend service: private, reached by name through ECS Service Connect (Copilot's Backend Service).
 * Its security group admits nothing until a caller declares it in `calls`.
 */
export interface BackendExposure {
    kind: "backend";
    /** The name callers reach the service by: `http://<discoveryName>:<port>`. */
    discoveryName: string;
}

/** A service another one calls: see `FargateService.asCallee()`. */
export interface Callee {
    name: string;
    port: number;
    securityGroupId: pulumi.Input<string>;
    /** The callee's ECS service: Service Connect clients only resolve endpoints that existed when they started. */
    service: pulumi.Resource;
}

export interface FargateServiceArgs {
    /** The cluster the service runs in. */
    cluster: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
    /** The ECS Service Connect namespace (its ARN). */
    namespaceArn: pulumi.Input<string>;
    /** The VPC of the subnets. */
    vpcId: pulumi.Input<string>;
    /** Private subnets, one per AZ. Tasks never get a public IP. */
    subnetIds: pulumi.Input<string>[];
    /** The image to run, pinned to its digest (`<repository>@sha256:...`). */
    image: pulumi.Input<string>;
    /** The task definition family, unique in the account and region, e.g. `berth-dev-users`. */
    family: string;
    /** The port the container listens on. */
    port: number;
    /** The path the ALB's health check requests. */
    healthPath: string;
    /** The container health check, e.g. `["CMD", "node", "-e", "..."]`. */
    healthCheckCommand: string[];
    /**
     * The image's CPU architecture; the task's runtime platform matches it.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /** Task CPU units (1024 = 1 vCPU); with `memory`, a pair Fargate accepts. */
    cpu: number;
    /** Task memory in MiB. */
    memory: number;
    /** Tasks to run; the autoscaling floor. */
    desiredCount: number;
    /**
     * The autoscaling ceiling (CPU target tracking). Equal to `desiredCount`: no autoscaling.
     * @default desiredCount
     */
    maxCount?: number;
    /** Environment variables of the container. */
    environment?: Record<string, pulumi.Input<string>>;
    /** The CloudWatch Logs group for the container's output. */
    logGroupName: string;
    /** Days the logs are kept. */
    logRetentionDays: number;
    /** The region, for the awslogs driver. */
    region: string;
    /** How the service is reached. */
    expose: PublicExposure | BackendExposure;
    /**
     * The backends this service calls. Each one's security group admits this service's group on its port,
     * and this service is deployed after them.
     * @default []
     */
    calls?: Callee[];
}

/**
 * One microservice on Fargate, public or backend.
 *
 * Creates: a CloudWatch log group; an execution role with only AWS's managed ECS execution policy (pull
 * the image, write logs) and a task role with no permissions; a security group admitting the container
 * port only from the ALB (public; callers add their own rules to a backend's group); ingress rules on the
 * groups of the backends it calls; the Fargate task definition; the ECS service
 * in the private subnets without public IP, with the deployment circuit breaker rolling back failed
 * deployments and ECS Service Connect; for a public service a target group, its listener rule and the
 * ALB's egress to the service; and, when `maxCount` exceeds `desiredCount`, CPU target-tracking scaling.
 */
export class FargateService extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly taskDefinitionArn: pulumi.Output<string>;
    /** Public services only. */
    public readonly targetGroupArn?: pulumi.Output<string>;

    private readonly name: string;
    private readonly port: number;
    private readonly service: aws.ecs.Service;

    constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:service:FargateService", name, {}, opts);
        this.name = name;
        this.port = args.port;
        validate(name, args);
        const maxCount = args.maxCount ?? args.desiredCount;
        const platform = args.platform ?? "linux/amd64";

        const logGroup = new aws.cloudwatch.LogGroup(childName(name, "logs"), {
            name: args.logGroupName,
            retentionInDays: args.logRetentionDays,
        }, { parent: this });
        const executionRole = this.createExecutionRole();
        const taskRole = this.createRole("task-role", "Runtime permissions of the service's code: none by default");
        const securityGroup = this.createSecurityGroup(args);
        const taskDefinition = this.createTaskDefinition(args, platform, logGroup, executionRole, taskRole);

        const targetGroup = args.expose.kind === "public" ? this.createTargetGroup(args) : undefined;
        const rule = args.expose.kind === "public" && targetGroup
            ? this.routeFromLoadBalancer(args.expose, targetGroup, securityGroup, args.port)
            : undefined;

        const callRules = this.admitToCallees(args.calls ?? [], securityGroup);
        const service = this.createService(args, taskDefinition, securityGroup, maxCount > args.desiredCount, [
            ...(rule ? [rule] : []),
            ...callRules,
            ...(args.calls ?? []).map((callee) => callee.service),
        ], targetGroup);
        this.service = service;
        if (maxCount > args.desiredCount) {
            this.createAutoscaling(args, service, maxCount);
        }

        this.serviceName = service.name;
        this.securityGroupId = securityGroup.id;
        this.logGroupName = logGroup.name;
        this.taskDefinitionArn = taskDefinition.arn;
        this.targetGroupArn = targetGroup?.arn;
        this.registerOutputs({
            serviceName: this.serviceName,
            securityGroupId: this.securityGroupId,
            logGroupName: this.logGroupName,
            taskDefinitionArn: this.taskDefinitionArn,
            targetGroupArn: this.targetGroupArn,
        });
    }

    /** What a service that calls this one needs to know of it. */
    asCallee(): Callee {
        return { name: this.name, port: this.port, securityGroupId: this.securityGroupId, service: this.service };
    }

    private createRole(role: string, description: string): aws.iam.Role {
        return new aws.iam.Role(childName(this.name, role), {
            description,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Principal: { Service: "ecs-tasks.amazonaws.com" },
                    Action: "sts:AssumeRole",
                }],
            }),
        }, { parent: this });
    }

    private createExecutionRole(): aws.iam.Role {
        const role = this.createRole("execution-role", "ECS pulls the image and writes the logs of the service");
        new aws.iam.RolePolicyAttachment(childName(this.name, "execution-policy"), {
            role: role.name,
            policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy,
        }, { parent: this });
        return role;
    }

    private createSecurityGroup(args: FargateServiceArgs): aws.ec2.SecurityGroup {
        const sg = new aws.ec2.SecurityGroup(childName(this.name, "sg"), {
            vpcId: args.vpcId,
            description: args.expose.kind === "public"
                ? `${this.name}: port ${args.port} from the ALB only`
                : `${this.name}: port ${args.port} from its callers only`,
        }, { parent: this });

        if (args.expose.kind === "public") {
            new aws.vpc.SecurityGroupIngressRule(childName(this.name, "from-alb"), {
                securityGroupId: sg.id,
                description: "From the ALB",
                ipProtocol: "tcp",
                fromPort: args.port,
                toPort: args.port,
                referencedSecurityGroupId: args.expose.loadBalancerSecurityGroupId,
            }, { parent: this });
        }
        // Tasks pull images, call AWS APIs and reach other services through the NAT and Service Connect.
        new aws.vpc.SecurityGroupEgressRule(childName(this.name, "out"), {
            securityGroupId: sg.id,
            description: "Outbound to anywhere",
            ipProtocol: "-1",
            cidrIpv4: "0.0.0.0/0",
        }, { parent: this });
        return sg;
    }

    private admitToCallees(callees: Callee[], securityGroup: aws.ec2.SecurityGroup): aws.vpc.SecurityGroupIngressRule[] {
        return callees.map((callee) => new aws.vpc.SecurityGroupIngressRule(childName(this.name, `to-${callee.name}`), {
            securityGroupId: callee.securityGroupId,
            description: `From ${this.name}, which calls ${callee.name}`,
            ipProtocol: "tcp",
            fromPort: callee.port,
            toPort: callee.port,
            referencedSecurityGroupId: securityGroup.id,
        }, { parent: this }));
    }

    private createTaskDefinition(
        args: FargateServiceArgs,
        platform: Platform,
        logGroup: aws.cloudwatch.LogGroup,
        executionRole: aws.iam.Role,
        taskRole: aws.iam.Role,
    ): aws.ecs.TaskDefinition {
        const environment = Object.entries({ NODE_ENV: "production", ...args.environment, PORT: String(args.port) })
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, value]) => ({ name, value }));
        return new aws.ecs.TaskDefinition(childName(this.name, "task"), {
            family: args.family,
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: String(args.cpu),
            memory: String(args.memory),
            runtimePlatform: {
                operatingSystemFamily: "LINUX",
                cpuArchitecture: platform === "linux/arm64" ? "ARM64" : "X86_64",
            },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi.jsonStringify([{
                name: this.name,
                image: args.image,
                essential: true,
                portMappings: [{
                    // Service Connect finds the port by this name.
                    name: "http",
                    containerPort: args.port,
                    hostPort: args.port,
                    protocol: "tcp",
                    appProtocol: "http",
                }],
                environment,
                logConfiguration: {
                    logDriver: "awslogs",
                    options: {
                        "awslogs-group": logGroup.name,
                        "awslogs-region": args.region,
                        "awslogs-stream-prefix": this.name,
                    },
                },
                healthCheck: { command: args.healthCheckCommand, interval: 10, timeout: 5, retries: 3, startPeriod: 15 },
                stopTimeout: STOP_TIMEOUT,
                readonlyRootFilesystem: true,
                // A tiny init as PID 1 forwards SIGTERM and reaps zombies.
                linuxParameters: { initProcessEnabled: true },
            }]),
        }, { parent: this });
    }

    private createTargetGroup(args: FargateServiceArgs): aws.lb.TargetGroup {
        return new aws.lb.TargetGroup(childName(this.name, "tg"), {
            vpcId: args.vpcId,
            targetType: "ip",
            protocol: "HTTP",
            port: args.port,
            deregistrationDelay: TARGET_GROUP_TIMING.deregistrationDelay,
            healthCheck: {
                enabled: true,
                protocol: "HTTP",
                port: "traffic-port",
                path: args.healthPath,
                matcher: "200",
                interval: TARGET_GROUP_TIMING.interval,
                timeout: TARGET_GROUP_TIMING.timeout,
                healthyThreshold: TARGET_GROUP_TIMING.healthyThreshold,
                unhealthyThreshold: TARGET_GROUP_TIMING.unhealthyThreshold,
            },
        }, { parent: this });
    }

    private routeFromLoadBalancer(
        expose: PublicExposure,
        targetGroup: aws.lb.TargetGroup,
        securityGroup: aws.ec2.SecurityGroup,
        port: number,
    ): aws.lb.ListenerRule {
        new aws.vpc.SecurityGroupEgressRule(childName(this.name, "alb-out"), {
            securityGroupId: expose.loadBalancerSecurityGroupId,
            description: `To ${this.name} on ${port}`,
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            referencedSecurityGroupId: securityGroup.id,
        }, { parent: this });
        const isDefault = expose.pathPatterns.length === 0;
        return new aws.lb.ListenerRule(childName(this.name, "rule"), {
            listenerArn: expose.listenerArn,
            priority: isDefault ? DEFAULT_ROUTE_PRIORITY : expose.priority,
            conditions: [{ pathPattern: { values: isDefault ? ["/*"] : [...expose.pathPatterns] } }],
            actions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        }, { parent: this });
    }

    private createService(
        args: FargateServiceArgs,
        taskDefinition: aws.ecs.TaskDefinition,
        securityGroup: aws.ec2.SecurityGroup,
        autoscaled: boolean,
        dependsOn: pulumi.Resource[],
        targetGroup?: aws.lb.TargetGroup,
    ): aws.ecs.Service {
        const expose = args.expose;
        return new aws.ecs.Service(childName(this.name, "service"), {
            cluster: args.cluster.arn,
            taskDefinition: taskDefinition.arn,
            desiredCount: args.desiredCount,
            launchType: "FARGATE",
            platformVersion: "LATEST",
            networkConfiguration: {
                subnets: args.subnetIds,
                securityGroups: [securityGroup.id],
                assignPublicIp: false,
            },
            deploymentCircuitBreaker: { enable: true, rollback: true },
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            loadBalancers: targetGroup
                ? [{ targetGroupArn: targetGroup.arn, containerName: this.name, containerPort: args.port }]
                : undefined,
            healthCheckGracePeriodSeconds: expose.kind === "public" ? (expose.healthCheckGracePeriod ?? 30) : undefined,
            serviceConnectConfiguration: {
                enabled: true,
                namespace: args.namespaceArn,
                services: expose.kind === "backend"
                    ? [{
                        portName: "http",
                        discoveryName: expose.discoveryName,
                        clientAlias: [{ port: args.port, dnsName: expose.discoveryName }],
                        // Below the services' 65 s keep-alive, so the proxy never reuses a connection the
                        // service is closing.
                        timeout: { idleTimeoutSeconds: SERVICE_CONNECT_IDLE_TIMEOUT },
                    }]
                    : undefined,
            },
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
            // `pulumi up` returns once the new tasks are healthy, or fails when the circuit breaker rolls back.
            waitForSteadyState: true,
        }, {
            parent: this,
            // ECS refuses a target group that no listener rule uses yet; Service Connect clients must start
            // after the endpoints they call exist, and be let in by them.
            dependsOn,
            // Autoscaling owns the task count between deployments.
            ignoreChanges: autoscaled ? ["desiredCount"] : [],
        });
    }

    private createAutoscaling(args: FargateServiceArgs, service: aws.ecs.Service, maxCount: number): void {
        const target = new aws.appautoscaling.Target(childName(this.name, "scaling"), {
            serviceNamespace: "ecs",
            scalableDimension: "ecs:service:DesiredCount",
            resourceId: pulumi.interpolate`service/${args.cluster.name}/${service.name}`,
            minCapacity: args.desiredCount,
            maxCapacity: maxCount,
        }, { parent: this });
        new aws.appautoscaling.Policy(childName(this.name, "cpu-scaling"), {
            policyType: "TargetTrackingScaling",
            serviceNamespace: target.serviceNamespace,
            scalableDimension: target.scalableDimension,
            resourceId: target.resourceId,
            targetTrackingScalingPolicyConfiguration: {
                predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                targetValue: 60,
                scaleOutCooldown: 60,
                scaleInCooldown: 300,
            },
        }, { parent: this });
    }
}

function validate(name: string, args: FargateServiceArgs): void {
    const where = `FargateService "${name}"`;
    if (!isFargateSize(args.cpu, args.memory)) {
        throw new Error(`${where}: cpu ${args.cpu} with memory ${args.memory} is not a Fargate size; ${describeFargateMemory(args.cpu)}`);
    }
    if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535) {
        throw new Error(`${where}: "port" must be 1-65535, got ${args.port}`);
    }
    if (!args.healthPath.startsWith("/")) {
        throw new Error(`${where}: "healthPath" must start with "/", got ${JSON.stringify(args.healthPath)}`);
    }
    if ((args.maxCount ?? args.desiredCount) < args.desiredCount) {
        throw new Error(`${where}: "maxCount" ${args.maxCount} is below "desiredCount" ${args.desiredCount}`);
    }
    if (args.subnetIds.length === 0) {
        throw new Error(`${where}: "subnetIds" is empty`);
    }
    const expose = args.expose;
    if (expose.kind === "public") {
        if (expose.pathPatterns.length > 5) {
            throw new Error(`${where}: "expose.pathPatterns" has ${expose.pathPatterns.length} patterns; an ALB rule takes at most 5`);
        }
        if (expose.pathPatterns.length > 0 && (!Number.isInteger(expose.priority) || expose.priority < 1 || expose.priority >= DEFAULT_ROUTE_PRIORITY)) {
            throw new Error(`${where}: "expose.priority" must be 1-${DEFAULT_ROUTE_PRIORITY - 1}, got ${expose.priority}`);
        }
    } else if (!/^[a-z][a-z0-9-]*$/.test(expose.discoveryName)) {
        throw new Error(`${where}: "expose.discoveryName" must be a DNS label, got ${JSON.stringify(expose.discoveryName)}`);
    }
}
