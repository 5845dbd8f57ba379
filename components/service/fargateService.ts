import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { createAlbRoute, DEFAULT_ROUTE_PRIORITY, MAX_RULE_VALUES, testRulePriority, type JwtValidation } from "../edge/albRoute";
import { createAutoscaling } from "./autoscaling";
import type { ScaleSchedule } from "../../core/schedule";
import { createStoredSecrets } from "./secrets";
import type { CheckIdentity } from "../../core/awsIdentity";
import { DeploymentCheck } from "./deploymentCheck";
import { describeFargateMemory, isFargateSize } from "../../core/fargate";
import { childName } from "../naming";
import type { Platform } from "../../core/platform";
import {
    DEPLOYMENT_MAXIMUM_PERCENT, DEPLOYMENT_MINIMUM_HEALTHY_PERCENT, HEALTH_CHECK_GRACE_PERIOD,
    SERVICE_CONNECT_IDLE_TIMEOUT, SERVICE_CONNECT_PER_REQUEST_TIMEOUT,
} from "../../core/rollout";
import { ecsDeploymentConfiguration, type Rollout } from "../../core/rolloutStrategy";
import { deploymentCheckTimeout, rolloutTimeline } from "../../core/rolloutTimeline";
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
     * The ALB's ARN suffix (`app/<name>/<id>`), for scaling on ALB requests per task.
     * @default none: no request-count scaling
     */
    loadBalancerArnSuffix?: pulumi.Input<string>;
    /**
     * The ALB verifies a JWT on every request before it forwards it (`AlbRouteArgs.jwt`).
     * @default none
     */
    jwt?: JwtValidation;
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
     * Secrets Manager secrets the execution role may read: the ARNs behind `secrets`, without JSON keys.
     * @default []
     */
    secretArns?: pulumi.Input<string>[];
    /**
     * SSM Parameter Store parameters the execution role may read: the ARNs behind `secrets`.
     * @default []
     */
    parameterArns?: pulumi.Input<string>[];
    /**
     * Values to keep in Secrets Manager secrets the service creates, one per variable, given to the container
     * through `secrets` like the others (see `createStoredSecrets`). Pass them as Pulumi secrets.
     * @default {}
     */
    secretValues?: Record<string, pulumi.Input<string>>;
    /**
     * The beginning of the names of the secrets made from `secretValues`, e.g. `berth/dev/api/`.
     * @default "<name>/"
     */
    secretNamePrefix?: string;
    /**
     * Days a deleted secret made from `secretValues` stays recoverable (7-30; 0 deletes it at once).
     * @default 30
     */
    secretRecoveryWindowDays?: number;
    /**
     * The database the service connects to: its security group admits this service on `port`, and this
     * service's tasks start only once it does. The connection's variables and secrets come in `environment`,
     * `secrets` and `secretArns` (see `Database.clientFor()`).
     */
    database?: {
        securityGroupId: pulumi.Input<string>;
        port: number;
        /**
         * The secret holding the credentials, which the task role may read (`secretsmanager:GetSecretValue`)
         * to take a rotated password without a restart (see `DATABASE_SECRET_VARIABLE`).
         * @default none
         */
        credentialSecretArn?: pulumi.Input<string>;
    };
    /**
     * More containers in the task, e.g. an OpenTelemetry collector.
     * @default []
     */
    sidecars?: ContainerSpec[];
    /**
     * Traces to AWS X-Ray through an ADOT collector in each task (see `TaskDefinitionArgs.tracing`).
     * @default none
     */
    tracing?: { sampleRatio: number };
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
     * Whom the deployment check calls AWS as: the stack's credential settings, as the AWS provider has them.
     * @default the AWS SDK's default credentials
     */
    awsIdentity?: CheckIdentity;
    /**
     * Fail `pulumi up` unless each deployment reaches COMPLETED (see `DeploymentCheck`). Off: the AWS
     * provider's steady-state wait, which passes a rolled-back deployment.
     * @default true
     */
    verifyDeployment?: boolean;
    /** How the service is reached. */
    expose: PublicExposure | BackendExposure;
    /**
     * Where the tasks run: the first `onDemandBase` tasks on on-demand FARGATE, then `spotPercent` % of the
     * rest on FARGATE_SPOT (interrupted with two minutes' notice when AWS needs the capacity back,
     * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html).
     * @default { onDemandBase: 0, spotPercent: 0 }: everything on on-demand FARGATE
     */
    capacity?: { onDemandBase: number; spotPercent: number };
    /**
     * CloudWatch alarms whose ALARM state fails a deployment of the service, which ECS then rolls back to
     * the last completed one; ECS watches them while the deployment runs and for a bake time after the new
     * tasks are healthy, so a version that starts failing once it serves is rolled back too
     * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html). Plain
     * names, so that alarms on the service's own metrics can be created after it (see alarms.ts).
     * @default []
     */
    deploymentAlarmNames?: string[];
    /**
     * How a new version takes over (see rolloutStrategy.ts): ECS's rolling update, or a canary, linear or
     * blue/green deployment in which ECS runs both versions and moves the traffic, on the ALB's rules for a
     * public service (whose alternate target group, test rule and role for ECS exist whatever the strategy:
     * see albRoute.ts) and in the callers' Service Connect proxies for a backend. Every strategy rolls back on
     * `deploymentAlarmNames` and on failing health checks; the deployment check waits for the strategy's
     * expected release (rolloutTimeline.ts).
     * @default { strategy: "rolling" }
     */
    rollout?: Rollout;
    /**
     * ECS Exec (`aws ecs execute-command`) into the service's container (see `TaskDefinitionArgs.execCommand`).
     * @default false
     */
    enableExecuteCommand?: boolean;
    /**
     * Scaling beyond CPU: ALB requests per task for public services (needs `expose.loadBalancerArnSuffix`),
     * and scheduled changes of the floor and ceiling. Any schedule puts the task count under Application
     * Auto Scaling, even with `maxCount` equal to `desiredCount`.
     * @default { schedules: [] }: no request-count scaling
     */
    scaling?: { requestsPerTarget?: number; schedules?: readonly ScaleSchedule[] };
    /**
     * Backends only: the command of the readiness gate, a container that starts once the service's
     * container is HEALTHY and exits at once (see `readinessGate`). It runs in the service's image, so an
     * image without `node` names another command here, or `false` turns the gate off.
     * @default ["node", "-e", "0"]
     */
    readinessGate?: readonly string[] | false;
    /**
     * The backends this service calls. Each one's security group admits this service's group on its port,
     * and this service is deployed after them.
     * @default []
     */
    calls?: Callee[];
    /**
     * The managed policy (ARN) every IAM role this creates carries as its permissions boundary (`RoleBoundary`).
     * @default none
     */
    permissionsBoundary?: pulumi.Input<string>;
}

/**
 * One microservice on Fargate, public or backend.
 *
 * Creates: the task definition with its log group and roles (`taskDefinition.ts`); a security group
 * admitting the container port only from the ALB (public) or only from the services that call it (their
 * own ingress rules), with its egress rule; ingress rules on the groups of the backends it calls; the ECS
 * service in the private subnets without public IP, with the deployment circuit breaker rolling back failed
 * deployments and ECS Service Connect, deployed with the strategy of `rollout`; a deployment check that fails
 * `pulumi up` when a deployment does not complete (`deploymentCheck.ts`); for a public service the ALB route
 * with the second target group, test rule and role ECS shifts traffic with (`albRoute.ts`); when `maxCount`
 * exceeds `desiredCount` or a schedule applies, target-tracking and scheduled scaling (`autoscaling.ts`);
 * for a service that uses the database, the database's ingress rule from it and its egress rule to it; and a
 * Secrets Manager secret per entry of `secretValues` (`secrets.ts`). The service runs on a
 * FARGATE/FARGATE_SPOT capacity provider strategy, rolls back on its deployment alarms, and may allow ECS Exec.
 */
export class FargateService extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly serviceArn: pulumi.Output<string>;
    /** The Secrets Manager secrets its tasks read at start: the ones given and the ones it stores. */
    public readonly secretArns: pulumi.Input<string>[];
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly taskDefinitionArn: pulumi.Output<string>;
    /** The task role's name, for grants made beside the service (a publisher's topics: components/messaging/). */
    public readonly taskRoleName: pulumi.Output<string>;
    /** Public services only. */
    public readonly targetGroupArn?: pulumi.Output<string>;
    /** Public services only: `targetgroup/<name>/<id>`, the dimension of its ALB metrics. */
    public readonly targetGroupArnSuffix?: pulumi.Output<string>;
    /**
     * Public services only: the suffixes of every target group the service's tasks may be in, the alternate
     * one too when ECS shifts traffic between two (whichever serves after a deployment).
     */
    public readonly targetGroupArnSuffixes?: pulumi.Output<string>[];
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
        const schedules = args.scaling?.schedules ?? [];
        const rollout = args.rollout ?? { strategy: "rolling" };
        const autoscaled = maxCount > args.desiredCount || schedules.length > 0;
        const calls = args.calls ?? [];
        const stored = createStoredSecrets(name, {
            values: args.secretValues ?? {},
            namePrefix: args.secretNamePrefix ?? `${name}/`,
            recoveryWindowDays: args.secretRecoveryWindowDays,
        }, this);
        const secretArns = [...(args.secretArns ?? []), ...Object.values(stored.arns)];

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
                secrets: { ...args.secrets, ...stored.arns },
                healthCheckCommand: args.healthCheckCommand,
            },
            sidecars: [...this.readinessGate(args), ...(args.sidecars ?? [])],
            tracing: args.tracing,
            secretArns,
            taskSecretArns: args.database?.credentialSecretArn !== undefined ? [args.database.credentialSecretArn] : [],
            parameterArns: args.parameterArns,
            execCommand: args.enableExecuteCommand,
            protectLogs: args.protectLogs,
            retainLogs: args.retainLogs,
            permissionsBoundary: args.permissionsBoundary,
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
                jwt: args.expose.jwt,
                permissionsBoundary: args.permissionsBoundary,
            }, this)
            : undefined;
        const callRules = this.admitToCallees(calls, securityGroup);
        const databaseRules = args.database ? this.connectToDatabase(args.database, securityGroup) : [];

        const { service, revision } = this.createService({
            args,
            rollout,
            taskDefinition: task.taskDefinition,
            securityGroup,
            route,
            autoscaled,
            // ECS refuses a target group that no listener rule uses yet; tasks need their egress rule and the
            // NAT route to pull the image; Service Connect clients must start after the endpoints they call
            // exist and serve, and be let in by them.
            dependsOn: [
                egress,
                ...(args.egressRoutes ?? []),
                ...(route ? [route.rule] : []),
                // ECS checks the rules and assumes the role when it takes the advanced configuration.
                ...(route ? [route.shift.testRule, route.shift.rolePolicy] : []),
                ...callRules,
                ...calls.map((callee) => callee.ready),
                // Services migrate their schema at start: the database must let them in by then, and their
                // secrets must hold a value.
                ...databaseRules,
                ...stored.versions,
            ],
        });
        if (autoscaled) {
            const expose = args.expose;
            const requestsPerTarget = args.scaling?.requestsPerTarget;
            createAutoscaling(name, {
                clusterName: args.cluster.name,
                serviceName: service.name,
                minCount: args.desiredCount,
                maxCount,
                // Both target groups: after a deployment that shifted traffic the tasks serve from the other one.
                requestCount: route && expose.kind === "public" && expose.loadBalancerArnSuffix !== undefined && requestsPerTarget !== undefined
                    ? {
                        loadBalancerArnSuffix: expose.loadBalancerArnSuffix,
                        targetGroupArnSuffixes: [route.targetGroup.arnSuffix, route.shift.alternateTargetGroup.arnSuffix],
                        requestsPerTarget,
                    }
                    : undefined,
                schedules,
            }, this);
        }
        const timeline = rolloutTimeline({ rollout, kind: args.expose.kind, deploymentAlarms: (args.deploymentAlarmNames ?? []).length > 0 });
        this.ready = (args.verifyDeployment ?? true)
            ? new DeploymentCheck(childName(name, "deployment"), {
                region: args.region,
                identity: args.awsIdentity,
                cluster: args.cluster.name,
                service: service.name,
                taskDefinitionArn: task.taskDefinition.arn,
                serviceRevision: revision,
                productionRuleArn: route?.rule.arn,
                strategy: rollout.strategy,
                // The longest this strategy's release is expected to take, and time for a rollback on top.
                timeoutSeconds: deploymentCheckTimeout(timeline),
            }, { parent: this, dependsOn: [service] })
            : service;

        this.serviceName = service.name;
        this.serviceArn = service.arn;
        this.secretArns = secretArns;
        this.securityGroupId = securityGroup.id;
        this.logGroupName = task.logGroup.name;
        this.taskDefinitionArn = task.taskDefinition.arn;
        this.taskRoleName = task.taskRole.name;
        this.targetGroupArn = route?.targetGroup.arn;
        this.targetGroupArnSuffix = route?.targetGroup.arnSuffix;
        this.targetGroupArnSuffixes = route ? [route.targetGroup.arnSuffix, route.shift.alternateTargetGroup.arnSuffix] : undefined;
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
            command: [...command],
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

    /**
     * The database's group admits this service on the database's port, and this service's group lets it out
     * there, so that the connection survives a narrower egress policy.
     */
    private connectToDatabase(database: { securityGroupId: pulumi.Input<string>; port: number }, securityGroup: aws.ec2.SecurityGroup): pulumi.Resource[] {
        const ingress = new aws.vpc.SecurityGroupIngressRule(childName(this.name, "to-database"), {
            securityGroupId: database.securityGroupId,
            description: `From ${this.name}, which declares the database`,
            ipProtocol: "tcp",
            fromPort: database.port,
            toPort: database.port,
            referencedSecurityGroupId: securityGroup.id,
        }, { parent: this });
        const egress = new aws.vpc.SecurityGroupEgressRule(childName(this.name, "out-database"), {
            securityGroupId: securityGroup.id,
            description: "To the database",
            ipProtocol: "tcp",
            fromPort: database.port,
            toPort: database.port,
            referencedSecurityGroupId: database.securityGroupId,
        }, { parent: this });
        return [ingress, egress];
    }

    private createService(spec: {
        args: FargateServiceArgs;
        rollout: Rollout;
        taskDefinition: aws.ecs.TaskDefinition;
        securityGroup: aws.ec2.SecurityGroup;
        route?: ReturnType<typeof createAlbRoute>;
        autoscaled: boolean;
        dependsOn: pulumi.Resource[];
    }): { service: aws.ecs.Service; revision: pulumi.Output<string> } {
        const { args, route, rollout } = spec;
        const expose = args.expose;
        const verify = args.verifyDeployment ?? true;
        const alarmNames = [...new Set(args.deploymentAlarmNames ?? [])];
        const ignoreChanges = [
            // Autoscaling owns the task count between deployments.
            ...(spec.autoscaled ? ["desiredCount"] : []),
            ...(route ? OWNED_BY_ECS : []),
        ];
        const inputs: aws.ecs.ServiceArgs = {
            cluster: args.cluster.arn,
            taskDefinition: spec.taskDefinition.arn,
            desiredCount: args.desiredCount,
            // A strategy instead of `launchType`. ECS takes the switch on an existing service only as a new
            // deployment ("When switching from launch type to capacity provider strategy on an existing
            // service ... you must force a new deployment"), and the AWS provider refuses any change of the
            // strategy without `forceNewDeployment` rather than replacing the service
            // (hashicorp/terraform-provider-aws#43533). So the first update after this change rolls every
            // service once, in place, and so does any later change of the service resource.
            capacityProviderStrategies: capacityProviderStrategy(args.capacity ?? { onDemandBase: 0, spotPercent: 0 }),
            forceNewDeployment: true,
            platformVersion: "LATEST",
            networkConfiguration: {
                subnets: args.subnetIds,
                securityGroups: [spec.securityGroup.id],
                assignPublicIp: false,
            },
            // The strategy, always stated (see ecsDeploymentConfiguration). The circuit breaker and the alarms
            // below apply to rolling and blue/green deployments alike
            // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html);
            // canary and linear deployments run the same lifecycle with other traffic steps.
            deploymentConfiguration: ecsDeploymentConfiguration(rollout),
            deploymentCircuitBreaker: { enable: true, rollback: true },
            // The one place deployment alarms are wired in: ECS fails and rolls back a deployment when any
            // of them goes to ALARM, alongside the circuit breaker, whichever trips first.
            alarms: alarmNames.length > 0 ? { alarmNames, enable: true, rollback: true } : undefined,
            enableExecuteCommand: args.enableExecuteCommand ?? false,
            deploymentMinimumHealthyPercent: DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
            deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
            loadBalancers: route
                ? [{
                    targetGroupArn: route.targetGroup.arn,
                    containerName: this.name,
                    containerPort: args.port,
                    // On every public service, whatever its strategy (see createAlbRoute).
                    advancedConfiguration: {
                        alternateTargetGroupArn: route.shift.alternateTargetGroup.arn,
                        productionListenerRule: route.rule.arn,
                        testListenerRule: route.shift.testRule.arn,
                        roleArn: route.shift.role.arn,
                    },
                }]
                : undefined,
            healthCheckGracePeriodSeconds: expose.kind === "public" ? (expose.healthCheckGracePeriod ?? HEALTH_CHECK_GRACE_PERIOD) : undefined,
            serviceConnectConfiguration: {
                enabled: true,
                namespace: args.namespaceArn,
                services: expose.kind === "backend"
                    ? [{
                        portName: PORT_NAME,
                        discoveryName: expose.discoveryName,
                        // No test traffic rules: without them, Service Connect sends callers' requests that carry
                        // its default test header (TEST_TRAFFIC_HEADER's name) to a new version ECS is testing
                        // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-blue-green.html),
                        // and a change of strategy stays a change of strategy alone.
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
        };
        const service = new aws.ecs.Service(childName(this.name, "service"), inputs, {
            parent: this,
            dependsOn: spec.dependsOn,
            ignoreChanges,
            // New target groups (a new port or VPC) come with a new service: their ARNs are not updated in
            // place (OWNED_BY_ECS), and the old groups cannot be deleted while a service uses them.
            replaceWith: route ? [route.targetGroup, route.shift.alternateTargetGroup] : undefined,
        });
        return { service, revision: serviceRevision(inputs, ignoreChanges) };
    }
}

/**
 * A digest of everything the program gives the ECS service, but what an update leaves as it is
 * (`ignoreChanges`): it changes exactly when the service is updated. Every update sends
 * `forceNewDeployment`, so an update of any input but the tags starts a deployment (desired count, capacity
 * share, grace period, network; the AWS provider calls UpdateService unless only the tags changed:
 * hashicorp/terraform-provider-aws, internal/service/ecs/service.go, `resourceServiceUpdate`,
 * `d.HasChangesExcept(..., tags, tags_all)`); the deployment check takes this digest as an input, because
 * Pulumi updates a dynamic resource only when its inputs differ and its `diff` reports `changes`
 * (https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/interfaces/provider.DiffResult.html);
 * `dependsOn` on the service orders the check, it does not re-run it.
 */
export function serviceRevision(inputs: aws.ecs.ServiceArgs, ignoreChanges: readonly string[]): pulumi.Output<string> {
    return pulumi.output(inputs).apply((resolved) => {
        const kept = JSON.parse(JSON.stringify(resolved)) as Record<string, unknown>;
        for (const path of ignoreChanges) {
            const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
            const last = keys.pop()!;
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            const holder = keys.reduce<any>((at, key) => (at === undefined ? undefined : at[key]), kept);
            if (holder !== undefined) {
                delete holder[last];
            }
        }
        return createHash("sha256").update(stableJson(kept)).digest("hex").slice(0, 32);
    });
}

/** JSON with every object's keys sorted, so that the digest does not depend on the order they were written in. */
function stableJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(stableJson).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * What ECS decides about a public service's load balancer after creation: which of the two target groups is
 * the production one. The AWS provider resends the whole `loadBalancers` list in an UpdateService whenever
 * its state differs from the program's (hashicorp/terraform-provider-aws, internal/service/ecs/service.go,
 * `resourceServiceUpdate`: `if d.HasChange("load_balancer") { input.LoadBalancers = expandLoadBalancers(...) }`,
 * with the state read back from DescribeServices), and deployments driven through the provider are reported
 * not to alternate the groups as console deployments do (hashicorp/terraform-provider-aws#45678, open). So
 * Berth states the groups once, at creation, and leaves them to ECS; the deployment check verifies where the
 * production rule sends traffic after each release (rolloutCheck.ts).
 */
const OWNED_BY_ECS = ["loadBalancers[0].targetGroupArn", "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn"];

/**
 * The capacity provider strategy for an on-demand base and a Spot share. Both providers are always listed,
 * so that changing the share changes weights, not the strategy's shape.
 */
export function capacityProviderStrategy(capacity: { onDemandBase: number; spotPercent: number }): Array<{ capacityProvider: string; base?: number; weight: number }> {
    return [
        { capacityProvider: "FARGATE", base: capacity.onDemandBase, weight: 100 - capacity.spotPercent },
        { capacityProvider: "FARGATE_SPOT", weight: capacity.spotPercent },
    ];
}

function validate(name: string, args: FargateServiceArgs): void {
    const where = `FargateService "${name}"`;
    if (args.capacity) {
        const { onDemandBase, spotPercent } = args.capacity;
        if (!Number.isInteger(onDemandBase) || onDemandBase < 0 || onDemandBase > 100_000) {
            throw new Error(`${where}: "capacity.onDemandBase" must be a whole number from 0 to 100000, got ${onDemandBase}`);
        }
        if (!Number.isInteger(spotPercent) || spotPercent < 0 || spotPercent > 100) {
            throw new Error(`${where}: "capacity.spotPercent" must be a whole number from 0 to 100, got ${spotPercent}`);
        }
    }
    if (args.scaling?.requestsPerTarget !== undefined && !(args.scaling.requestsPerTarget > 0)) {
        throw new Error(`${where}: "scaling.requestsPerTarget" must be above 0, got ${args.scaling.requestsPerTarget}`);
    }
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
    const secretNames = [...Object.keys(args.secrets ?? {}), ...Object.keys(args.secretValues ?? {})];
    const clash = secretNames.find((n, i) => n in args.environment || secretNames.indexOf(n) !== i);
    if (clash !== undefined) {
        throw new Error(`${where}: variable "${clash}" is given twice (environment, secrets or secretValues); each variable has one source`);
    }
    const expose = args.expose;
    if (expose.kind === "public") {
        // The test rule holds the same values and the test header, one priority before the service's rule.
        const values = expose.pathPatterns.length + (expose.hostNames ?? []).length;
        if (values + 1 > MAX_RULE_VALUES) {
            throw new Error(`${where}: "expose.pathPatterns" and "expose.hostNames" hold ${values} values; the test rule adds the test header and an ALB rule takes at most ${MAX_RULE_VALUES}`);
        }
        if (values > 0 && (!Number.isInteger(expose.priority) || testRulePriority(expose.priority) < 1 || expose.priority >= DEFAULT_ROUTE_PRIORITY)) {
            throw new Error(`${where}: "expose.priority" must be 2-${DEFAULT_ROUTE_PRIORITY - 1} (the test rule takes the one before), got ${expose.priority}`);
        }
    } else if (!/^[a-z][a-z0-9-]*$/.test(expose.discoveryName)) {
        throw new Error(`${where}: "expose.discoveryName" must be a DNS label, got ${JSON.stringify(expose.discoveryName)}`);
    }
}
