import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_ROUTE_PRIORITY, MAX_RULE_VALUES, testRulePriority, type JwtValidation } from "../../core/listenerRules";
import type { CheckIdentity } from "../../core/awsIdentity";
import { describeFargateMemory, isFargateSize } from "../../core/fargate";
import type { Platform } from "../../core/platform";
import type { Rollout } from "../../core/rolloutStrategy";
import type { ScaleSchedule } from "../../core/schedule";
import type { ContainerSpec } from "../../core/taskContainers";

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
    /**
     * The IAM path of every role this creates: the stack's (`stackRolePath`), which the pipeline's deploy role
     * is limited to.
     * @default none: the provider's default path
     */
    rolePath?: string;
}

/** Refuses arguments AWS or the service's own wiring would refuse, naming the argument's path. */
export function validateFargateServiceArgs(name: string, args: FargateServiceArgs): void {
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
            throw new Error(
                `${where}: "expose.pathPatterns" and "expose.hostNames" hold ${values} values; the test rule adds the test header and an ALB rule takes at most ${MAX_RULE_VALUES}`,
            );
        }
        if (values > 0 && (!Number.isInteger(expose.priority) || testRulePriority(expose.priority) < 1 || expose.priority >= DEFAULT_ROUTE_PRIORITY)) {
            throw new Error(`${where}: "expose.priority" must be 2-${DEFAULT_ROUTE_PRIORITY - 1} (the test rule takes the one before), got ${expose.priority}`);
        }
    } else if (!/^[a-z][a-z0-9-]*$/.test(expose.discoveryName)) {
        throw new Error(`${where}: "expose.discoveryName" must be a DNS label, got ${JSON.stringify(expose.discoveryName)}`);
    }
}
