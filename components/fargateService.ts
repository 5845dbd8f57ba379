import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createAlbRoute, DEFAULT_ROUTE_PRIORITY } from "./albRoute";
import { createAutoscaling } from "./autoscaling";
import { DeploymentCheck } from "./deploymentCheck";
import { describeFargateMemory, isFargateSize } from "./fargate";
import { childName } from "./naming";
import type { Platform } from "./platform";
import {
    DEPLOYMENT_MAXIMUM_PERCENT, DEPLOYMENT_MINIMUM_HEALTHY_PERCENT, HEALTH_CHECK_GRACE_PERIOD,
    SERVICE_CONNECT_IDLE_TIMEOUT, SERVICE_CONNECT_PER_REQUEST_TIMEOUT,
} from "./rollout";
import { createTaskDefinition, PORT_NAME, type ContainerSpec } from "./taskDefinition";

/** The readiness gate's default command: starts the image's `node` and exits at once. */
export const READINESS_GATE_COMMAND = ["node", "-e", "0"];

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
    /**
     * Host names the service answers on (`Host` header), e.g. `["admin.example.com"]`; with `pathPatterns`,
     * both must match.
     * @default []
     */
    hostNames?: readonly string[];
    /** The rule's priority, 1-49999, unique on the listener and stable across catalogue edits; ignored for the default route. */
    priority: number;
    /**
     * Seconds ECS ignores failing ALB health checks of a new task.
     * @default HEALTH_CHECK_GRACE_PERIOD
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
    /**
     * What says the callee serves: its deployment check (or its ECS service). Service Connect clients only
     * reach endpoints that existed when their tasks started, so callers start after it.
     */
    ready: pulumi.Resource;
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
    /**
     * What the tasks need before they start: the private subnets' routes to the NAT gateways (see
     * `Network.privateRoutes`). Without them a fast first deploy starts tasks that cannot pull their image.
     * @default []
     */
    egressRoutes?: pulumi.Resource[];
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
    /** Environment variables of the container, `PORT` among them. */
    environment: Record<string, pulumi.Input<string>>;
    /**
     * Variables filled from Secrets Manager or SSM at start: name to secret ARN (see `ContainerSpec.secrets`).
     * @default {}
     */
    secrets?: Record<string, pulumi.Input<string>>;
    /**
     * Secrets the execution role may read.
     * @default []
     */
    secretArns?: pulumi.Input<string>[];
    /**
     * More containers in the task, e.g. an OpenTelemetry collector.
     * @default []
     */
    sidecars?: ContainerSpec[];
    /** The CloudWatch Logs group for the containers' output. */
    logGroupName: string;
    /** Days the logs are kept. */
    logRetentionDays: number;
    /**
     * The KMS key (ARN) that encrypts the log group (see `LogsKey`).
     * @default none: CloudWatch Logs' own encryption
     */
    logKmsKeyArn?: pulumi.Input<string>;
    /**
     * The non-root `uid:gid` every container of the task runs as: the image's `USER`.
     */
    user: string;
    /**
     * Tags of the task definition and the service; the service passes them on to its tasks
     * (`propagateTags`), e.g. `berth:commit`.
     * @default {}
     */
    tags?: Record<string, pulumi.Input<string>>;
    /**
     * `pulumi destroy` refuses to delete the log group.
     * @default false
     */
    protectLogs?: boolean;
    /**
     * Deleting the stack keeps the log group.
     * @default false
     */
    retainLogs?: boolean;
    /** The region: for the awslogs driver and the deployment check. */
    region: string;
    /**
     * The shared-config profile the deployment check calls ECS with (the stack's `aws:profile`).
     * @default the AWS SDK's default credentials
     */
    awsProfile?: string;
    /**
     * Fail `pulumi up` unless each deployment reaches COMPLETED (see `DeploymentCheck`). Off: the AWS
     * provider's steady-state wait, which passes a rolled-back deployment.
     * @default true
     */
    verifyDeployment?: boolean;
    /** How the service is reached. */
    expose: PublicExposure | BackendExposure;
    /**
     * Backends only: the command of the readiness gate, a container that starts once the service's
     * container is HEALTHY and exits at once (see `readinessGate`). It runs in the service's image, so an
     * image without `node` names another command here, or `false` turns the gate off.
     * @default ["node", "-e", "0"]
     */
    readinessGate?: string[] | false;
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
 * Creates: the task definition with its log group and roles (`taskDefinition.ts`); a security group
 * admitting the container port only from the ALB (public) or only from the services that call it (their
 * own ingress rules), with its egress rule; ingress rules on the groups of the backends it calls; the ECS
 * service in the private subnets without public IP, with the deployment circuit breaker rolling back failed
 * deployments and ECS Service Connect; a deployment check that fails `pulumi up` when a deployment does not
 * complete (`deploymentCheck.ts`); for a public service the ALB route (`albRoute.ts`); and, when `maxCount`
 * exceeds `desiredCount`, CPU target-tracking scaling (`autoscaling.ts`).
 */
export class FargateService extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly taskDefinitionArn: pulumi.Output<string>;
    /** Public services only. */
    public readonly targetGroupArn?: pulumi.Output<string>;
    /** Resolves once the service's deployment completed: what callers and dependents wait for. */
    public readonly ready: pulumi.Resource;

    private readonly name: string;
    private readonly port: number;

    constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:service:FargateService", name, {}, opts);
        validate(name, args);
        this.name = name;
        this.port = args.port;
        const maxCount = args.maxCount ?? args.desiredCount;
        const autoscaled = maxCount > args.desiredCount;
        const calls = args.calls ?? [];

        const task = createTaskDefinition(name, {
            family: args.family,
            cpu: args.cpu,
            memory: args.memory,
            platform: args.platform,
            region: args.region,
            logGroupName: args.logGroupName,
            logRetentionDays: args.logRetentionDays,
            logKmsKeyArn: args.logKmsKeyArn,
            user: args.user,
            tags: args.tags,
            container: {
                name,
                image: args.image,
                port: args.port,
                environment: args.environment,
                secrets: args.secrets,
                healthCheckCommand: args.healthCheckCommand,
            },
            sidecars: [...this.readinessGate(args), ...(args.sidecars ?? [])],
            secretArns: args.secretArns,
            protectLogs: args.protectLogs,
            retainLogs: args.retainLogs,
        }, this);
        const { securityGroup, egress } = this.createSecurityGroup(args);
        const route = args.expose.kind === "public"
            ? createAlbRoute(name, {
                vpcId: args.vpcId,
                listenerArn: args.expose.listenerArn,
                loadBalancerSecurityGroupId: args.expose.loadBalancerSecurityGroupId,
                serviceSecurityGroupId: securityGroup.id,
                port: args.port,
                healthPath: args.healthPath,
                pathPatterns: args.expose.pathPatterns,
                hostNames: args.expose.hostNames,
                priority: args.expose.priority,
            }, this)
            : undefined;
        const callRules = this.admitToCallees(calls, securityGroup);

        const service = this.createService({
            args,
            taskDefinition: task.taskDefinition,
            securityGroup,
            targetGroup: route?.targetGroup,
            autoscaled,
            // ECS refuses a target group that no listener rule uses yet; tasks need their egress rule and the
            // NAT route to pull the image; Service Connect clients must start after the endpoints they call
            // exist and serve, and be let in by them.
            dependsOn: [
                egress,
                ...(args.egressRoutes ?? []),
                ...(route ? [route.rule] : []),
                ...callRules,
                ...calls.map((callee) => callee.ready),
            ],
        });
        if (autoscaled) {
            createAutoscaling(name, { clusterName: args.cluster.name, serviceName: service.name, minCount: args.desiredCount, maxCount }, this);
        }
        this.ready = (args.verifyDeployment ?? true)
            ? new DeploymentCheck(childName(name, "deployment"), {
                region: args.region,
                profile: args.awsProfile,
                cluster: args.cluster.name,
                service: service.name,
                taskDefinitionArn: task.taskDefinition.arn,
            }, { parent: this, dependsOn: [service] })
            : service;

        this.serviceName = service.name;
        this.securityGroupId = securityGroup.id;
        this.logGroupName = task.logGroup.name;
        this.taskDefinitionArn = task.taskDefinition.arn;
        this.targetGroupArn = route?.targetGroup.arn;
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
        return { name: this.name, port: this.port, securityGroupId: this.securityGroupId, ready: this.ready };
    }

    /**
     * Service Connect sends requests to a new task once its proxy runs, before the application answers its
     * health check (aws/containers-roadmap#2334). ECS counts a task RUNNING only once all its containers
     * started, so a container that starts after the service's is HEALTHY holds the task, and with it the
     * endpoint, back until the service is ready: the workaround AWS validated in that issue
     * (https://github.com/aws/containers-roadmap/issues/2334#issuecomment-2285926075). It runs the service's
     * own image, already pulled, and exits at once.
     */
    private readinessGate(args: FargateServiceArgs): ContainerSpec[] {
        const command = args.readinessGate ?? READINESS_GATE_COMMAND;
        if (args.expose.kind !== "backend" || command === false) {
            return [];
        }
        return [{
            name: `${this.name}-ready`,
            image: args.image,
            essential: false,
            command,
            dependsOn: [{ containerName: this.name, condition: "HEALTHY" }],
        }];
    }

    private createSecurityGroup(args: FargateServiceArgs): { securityGroup: aws.ec2.SecurityGroup; egress: aws.vpc.SecurityGroupEgressRule } {
        const securityGroup = new aws.ec2.SecurityGroup(childName(this.name, "sg"), {
            vpcId: args.vpcId,
            description: args.expose.kind === "public"
                ? `${this.name}: port ${args.port} from the ALB only`
                : `${this.name}: port ${args.port} from its callers only`,
        }, { parent: this });

        if (args.expose.kind === "public") {
            new aws.vpc.SecurityGroupIngressRule(childName(this.name, "from-alb"), {
                securityGroupId: securityGroup.id,
                description: "From the ALB",
                ipProtocol: "tcp",
                fromPort: args.port,
                toPort: args.port,
                referencedSecurityGroupId: args.expose.loadBalancerSecurityGroupId,
            }, { parent: this });
        }
        // Tasks pull images, call AWS APIs and reach other services through the NAT and Service Connect.
        const egress = new aws.vpc.SecurityGroupEgressRule(childName(this.name, "out"), {
            securityGroupId: securityGroup.id,
            description: "Outbound to anywhere",
            ipProtocol: "-1",
            cidrIpv4: "0.0.0.0/0",
        }, { parent: this });
        return { securityGroup, egress };
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

    private createService(spec: {
        args: FargateServiceArgs;
        taskDefinition: aws.ecs.TaskDefinition;
        securityGroup: aws.ec2.SecurityGroup;
        targetGroup?: aws.lb.TargetGroup;
        autoscaled: boolean;
        dependsOn: pulumi.Resource[];
    }): aws.ecs.Service {
        const { args, targetGroup } = spec;
        const expose = args.expose;
        const verify = args.verifyDeployment ?? true;
        return new aws.ecs.Service(childName(this.name, "service"), {
            cluster: args.cluster.arn,
            taskDefinition: spec.taskDefinition.arn,
            desiredCount: args.desiredCount,
            launchType: "FARGATE",
            platformVersion: "LATEST",
            networkConfiguration: {
                subnets: args.subnetIds,
                securityGroups: [spec.securityGroup.id],
                assignPublicIp: false,
            },
            deploymentCircuitBreaker: { enable: true, rollback: true },
            deploymentMinimumHealthyPercent: DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
            deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
            loadBalancers: targetGroup
                ? [{ targetGroupArn: targetGroup.arn, containerName: this.name, containerPort: args.port }]
                : undefined,
            healthCheckGracePeriodSeconds: expose.kind === "public" ? (expose.healthCheckGracePeriod ?? HEALTH_CHECK_GRACE_PERIOD) : undefined,
            serviceConnectConfiguration: {
                enabled: true,
                namespace: args.namespaceArn,
                services: expose.kind === "backend"
                    ? [{
                        portName: PORT_NAME,
                        discoveryName: expose.discoveryName,
                        clientAlias: [{ port: args.port, dnsName: expose.discoveryName }],
                        timeout: {
                            // Below the services' 65 s keep-alive, so the proxy never reuses a connection the
                            // service is closing.
                            idleTimeoutSeconds: SERVICE_CONNECT_IDLE_TIMEOUT,
                            // Above the gateway's TIMEOUT_MS, so that the gateway answers 504 first.
                            perRequestTimeoutSeconds: SERVICE_CONNECT_PER_REQUEST_TIMEOUT,
                        },
                    }]
                    : undefined,
            },
            tags: args.tags,
            // Tasks carry the service's tags (the commit among them), so `aws ecs describe-tasks --include TAGS`
            // shows which commit each task runs.
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
            // The deployment check waits, and fails on a rolled-back deployment where this wait passes.
            waitForSteadyState: !verify,
        }, {
            parent: this,
            dependsOn: spec.dependsOn,
            // Autoscaling owns the task count between deployments.
            ignoreChanges: spec.autoscaled ? ["desiredCount"] : [],
        });
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
        const values = expose.pathPatterns.length + (expose.hostNames ?? []).length;
        if (values > 5) {
            throw new Error(`${where}: "expose.pathPatterns" and "expose.hostNames" hold ${values} values; an ALB rule takes at most 5`);
        }
        if (values > 0 && (!Number.isInteger(expose.priority) || expose.priority < 1 || expose.priority >= DEFAULT_ROUTE_PRIORITY)) {
            throw new Error(`${where}: "expose.priority" must be 1-${DEFAULT_ROUTE_PRIORITY - 1}, got ${expose.priority}`);
        }
    } else if (!/^[a-z][a-z0-9-]*$/.test(expose.discoveryName)) {
        throw new Error(`${where}: "expose.discoveryName" must be a DNS label, got ${JSON.stringify(expose.discoveryName)}`);
    }
}
