import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import { cpuArchitecture, type Platform } from "../../core/platform";
import { CONTAINER_HEALTH_CHECK, STOP_TIMEOUT } from "../../core/rollout";
import { COLLECTOR_CONTAINER, collectorContainer, tracingEnvironment, XRAY_ACTIONS } from "../../core/tracing";
import {
    EXEC_ACTIONS,
    EXEC_WRITABLE_PATHS,
    MIN_SERVICE_MEMORY,
    PORT_NAME,
    serviceContainerMemory,
    SIDECAR_MEMORY,
    type ContainerSpec,
} from "../../core/taskContainers";

/** The task volume mounted at one of `EXEC_WRITABLE_PATHS`. */
function execVolumeName(path: string): string {
    return `exec${path.replace(/\//g, "-")}`;
}

export interface TaskDefinitionArgs {
    /** The task definition family, unique in the account and region, e.g. `berth-dev-users`. */
    family: string;
    /** Task CPU units (1024 = 1 vCPU); with `memory`, a pair Fargate accepts. */
    cpu: number;
    /** Task memory in MiB. */
    memory: number;
    /**
     * The image's CPU architecture.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /** The region, for the awslogs driver. */
    region: string;
    /** The CloudWatch Logs group every container writes to, each under its own stream prefix. */
    logGroupName: string;
    /** Days the logs are kept. */
    logRetentionDays: number;
    /**
     * The KMS key (ARN) that encrypts the log group; its key policy must let CloudWatch Logs use it.
     * @default none: CloudWatch Logs' own encryption
     */
    logKmsKeyArn?: pulumi.Input<string>;
    /**
     * Tags of the task definition, e.g. the commit its image was built from.
     * @default {}
     */
    tags?: Record<string, pulumi.Input<string>>;
    /**
     * The user every container runs as, `uid:gid`, the non-root user of the service's image (its Dockerfile's
     * `USER`). Set in the task definition too, because ecs-task-definition-linux-user-non-root reads the task
     * definition, not the image.
     */
    user: string;
    /** The service's own container: it gets the stop timeout, init process and read-only root file system. */
    container: ContainerSpec<pulumi.Input<string>>;
    /**
     * More containers in the task, e.g. an OpenTelemetry collector; they get the same logging and hardening.
     * @default []
     */
    sidecars?: ContainerSpec<pulumi.Input<string>>[];
    /**
     * Secrets Manager secrets the execution role may read (`secretsmanager:GetSecretValue`), for the
     * containers' `secrets`: the secrets' ARNs, without a JSON key.
     * @default []
     */
    secretArns?: pulumi.Input<string>[];
    /**
     * Secrets Manager secrets the task role may read (`secretsmanager:GetSecretValue`): what the service's
     * own code reads at run time, such as the database's credentials after a rotation.
     * @default []
     */
    taskSecretArns?: pulumi.Input<string>[];
    /**
     * ECS Exec into the service's container: the task role gets `EXEC_ACTIONS`, and the container writable
     * volumes at `EXEC_WRITABLE_PATHS` while its root file system stays read-only.
     * @default false
     */
    execCommand?: boolean;
    /**
     * SSM Parameter Store parameters the execution role may read (`ssm:GetParameters`), for the containers'
     * `secrets`.
     * @default []
     */
    parameterArns?: pulumi.Input<string>[];
    /**
     * Traces to AWS X-Ray: the ADOT collector as a sidecar (`collectorContainer`), the service's container
     * told to export to it and to keep `sampleRatio` of the traces it starts (`tracingEnvironment`), and the
     * task role allowed `XRAY_ACTIONS`.
     * @default none: no collector, no variables, no permission
     */
    tracing?: { sampleRatio: number };
    /**
     * `pulumi destroy` refuses to delete the log group (Pulumi's `protect`).
     * @default false
     */
    protectLogs?: boolean;
    /**
     * Deleting the stack leaves the log group in CloudWatch (Pulumi's `retainOnDelete`).
     * @default false
     */
    retainLogs?: boolean;
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

/** What `createTaskDefinition` made. */
export interface TaskDefinitionParts {
    taskDefinition: aws.ecs.TaskDefinition;
    logGroup: aws.cloudwatch.LogGroup;
    executionRole: aws.iam.Role;
    taskRole: aws.iam.Role;
}

/**
 * A Fargate task definition with its log group and roles: an execution role with AWS's managed ECS
 * execution policy (pull the image, write logs) plus read access to exactly `secretArns` and `parameterArns`,
 * and a task role with no permissions but ECS Exec's channels (`execCommand`) and X-Ray's `PutTraceSegments`
 * (`tracing`, which also adds the ADOT collector beside the service).
 *
 * Old revisions stay registered (`skipDestroy`): the circuit breaker rolls a failed deployment back to the
 * last revision that completed, which a replacement would otherwise deregister.
 */
export function createTaskDefinition(name: string, args: TaskDefinitionArgs, parent: pulumi.Resource): TaskDefinitionParts {
    const logGroup = createLogGroup(name, args, parent);
    const executionRole = createExecutionRole(name, args, parent);
    const taskRole = createTaskRole(name, args, parent);
    const exec = args.execCommand ?? false;
    const specs = containerSpecs(name, args, taskRole, parent);
    const log = { group: logGroup.name, region: args.region };
    const taskDefinition = new aws.ecs.TaskDefinition(
        childName(name, "task"),
        {
            family: args.family,
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: String(args.cpu),
            memory: String(args.memory),
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: cpuArchitecture(args.platform ?? "linux/amd64") },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi.jsonStringify(specs.map((c) => containerDefinition(c, log, args.user))),
            // Fargate task storage, empty at start and gone with the task.
            volumes: exec ? EXEC_WRITABLE_PATHS.map((path) => ({ name: execVolumeName(path) })) : undefined,
            skipDestroy: true,
            tags: args.tags,
        },
        { parent },
    );
    return { taskDefinition, logGroup, executionRole, taskRole };
}

function createLogGroup(name: string, args: TaskDefinitionArgs, parent: pulumi.Resource): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
        childName(name, "logs"),
        {
            name: args.logGroupName,
            retentionInDays: args.logRetentionDays,
            kmsKeyId: args.logKmsKeyArn,
        },
        { parent, protect: args.protectLogs ?? false, retainOnDelete: args.retainLogs ?? false },
    );
}

/** The execution role: AWS's managed ECS execution policy, and read access to exactly the task's secrets and parameters. */
function createExecutionRole(name: string, args: TaskDefinitionArgs, parent: pulumi.Resource): aws.iam.Role {
    const opts = { parent };
    const executionRole = createRole(name, "execution-role", "ECS pulls the image, writes the logs and reads the secrets of the service", args, parent);
    new aws.iam.RolePolicyAttachment(
        childName(name, "execution-policy"),
        {
            role: executionRole.name,
            policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy,
        },
        opts,
    );
    // ECS needs kms:Decrypt only for secrets under a customer managed key, not the AWS managed default keys
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html, "Required IAM
    // permissions for Amazon ECS secrets"); Berth's secrets and the RDS-managed one use aws/secretsmanager.
    const statements = [
        { Action: ["secretsmanager:GetSecretValue"], Resource: args.secretArns ?? [] },
        { Action: ["ssm:GetParameters"], Resource: args.parameterArns ?? [] },
    ].filter((s) => s.Resource.length > 0);
    if (statements.length > 0) {
        new aws.iam.RolePolicy(
            childName(name, "secrets-policy"),
            {
                role: executionRole.name,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: statements.map((s) => ({ Effect: "Allow", ...s })),
                }),
            },
            opts,
        );
    }
    return executionRole;
}

/** The task role: no permissions but its own secrets, ECS Exec's channels and (by `withTracing`) X-Ray's. */
function createTaskRole(name: string, args: TaskDefinitionArgs, parent: pulumi.Resource): aws.iam.Role {
    const opts = { parent };
    const taskRole = createRole(name, "task-role", "Runtime permissions of the service's code: none by default", args, parent);
    if ((args.taskSecretArns ?? []).length > 0) {
        new aws.iam.RolePolicy(
            childName(name, "task-secrets-policy"),
            {
                role: taskRole.name,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: args.taskSecretArns }],
                }),
            },
            opts,
        );
    }
    if (args.execCommand ?? false) {
        new aws.iam.RolePolicy(
            childName(name, "exec-policy"),
            {
                role: taskRole.name,
                policy: JSON.stringify({
                    Version: "2012-10-17",
                    // ssmmessages has no resource-level permissions: "*" is the only resource these actions take.
                    Statement: [{ Effect: "Allow", Action: [...EXEC_ACTIONS], Resource: "*" }],
                }),
            },
            opts,
        );
    }
    return taskRole;
}

/**
 * The service's container (with the collector's variables when traced, and ECS Exec's writable paths) and its
 * sidecars, each with its memory; refuses a service container left too little memory and a root user.
 */
function containerSpecs(name: string, args: TaskDefinitionArgs, taskRole: aws.iam.Role, parent: pulumi.Resource): ContainerSpec<pulumi.Input<string>>[] {
    const exec = args.execCommand ?? false;
    const traced = args.tracing ? withTracing(name, args.container, args.tracing.sampleRatio, taskRole, parent) : args.container;
    const container: ContainerSpec<pulumi.Input<string>> = exec
        ? {
              ...traced,
              mountPoints: [
                  ...(traced.mountPoints ?? []),
                  ...EXEC_WRITABLE_PATHS.map((path) => ({ sourceVolume: execVolumeName(path), containerPath: path, readOnly: false })),
              ],
          }
        : traced;

    const sidecars = [...(args.sidecars ?? []), ...(args.tracing ? [collectorContainer(args.region)] : [])];
    const memory = args.container.memory ?? serviceContainerMemory(args.memory, sidecars);
    if (memory < MIN_SERVICE_MEMORY) {
        throw new Error(
            `task definition "${name}": ${args.memory} MiB leave the service's container ${memory} MiB after its sidecars and the Service Connect proxy; allowed: a task memory that leaves at least ${MIN_SERVICE_MEMORY} MiB`,
        );
    }
    for (const [where, user] of [["user", args.user], ...sidecars.filter((c) => c.user !== undefined).map((c) => [`sidecar ${c.name}'s user`, c.user!])]) {
        if (/^(root|0)(:|$)/.test(user)) {
            throw new Error(`task definition "${name}": ${where} is ${JSON.stringify(user)}; allowed: a non-root uid:gid such as 10001:10001`);
        }
    }
    return [{ ...container, memory }, ...sidecars.map((c) => ({ ...c, memory: c.memory ?? SIDECAR_MEMORY }))];
}

/**
 * The service's container with the variables that send its spans to the collector, starting once the
 * collector has started (so that its first spans find the receiver; ECS stops dependents first, so the
 * collector also outlives the service's last spans: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html),
 * and the task role's permission to send them on.
 */
function withTracing(
    name: string,
    container: ContainerSpec<pulumi.Input<string>>,
    sampleRatio: number,
    taskRole: aws.iam.Role,
    parent: pulumi.Resource,
): ContainerSpec<pulumi.Input<string>> {
    new aws.iam.RolePolicy(
        childName(name, "xray-policy"),
        {
            role: taskRole.name,
            policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: [...XRAY_ACTIONS], Resource: "*" }],
            }),
        },
        { parent },
    );
    return {
        ...container,
        environment: { ...container.environment, ...tracingEnvironment(sampleRatio) },
        dependsOn: [...(container.dependsOn ?? []), { containerName: COLLECTOR_CONTAINER, condition: "START" }],
    };
}

function createRole(
    name: string,
    role: string,
    description: string,
    scope: Pick<TaskDefinitionArgs, "permissionsBoundary" | "rolePath">,
    parent: pulumi.Resource,
): aws.iam.Role {
    return new aws.iam.Role(
        childName(name, role),
        {
            path: scope.rolePath,
            permissionsBoundary: scope.permissionsBoundary,
            description,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
        },
        { parent },
    );
}

/** One entry of `containerDefinitions`, as ECS takes it. Variables are sorted so that order never diffs. */
export function containerDefinition(
    spec: ContainerSpec<pulumi.Input<string>>,
    log: { group: pulumi.Input<string>; region: string },
    user: string,
): Record<string, unknown> {
    const sorted = (vars: Record<string, pulumi.Input<string>> | undefined) => Object.entries(vars ?? {}).sort(([a], [b]) => a.localeCompare(b));
    return {
        name: spec.name,
        image: spec.image,
        essential: spec.essential ?? true,
        command: spec.command,
        user: spec.user ?? user,
        memory: spec.memory,
        dependsOn: spec.dependsOn,
        mountPoints: spec.mountPoints,
        portMappings:
            spec.port === undefined
                ? []
                : [
                      {
                          name: PORT_NAME,
                          containerPort: spec.port,
                          hostPort: spec.port,
                          protocol: "tcp",
                          appProtocol: "http",
                      },
                  ],
        environment: sorted(spec.environment).map(([name, value]) => ({ name, value })),
        secrets: sorted(spec.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
        logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": log.group, "awslogs-region": log.region, "awslogs-stream-prefix": spec.name },
        },
        healthCheck: spec.healthCheckCommand ? { command: spec.healthCheckCommand, ...CONTAINER_HEALTH_CHECK } : undefined,
        stopTimeout: STOP_TIMEOUT,
        readonlyRootFilesystem: true,
        // A tiny init as PID 1 forwards SIGTERM and reaps zombies.
        linuxParameters: { initProcessEnabled: true },
    };
}
