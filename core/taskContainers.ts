/**
 * The containers of a service's task: what each is (`ContainerSpec`), how much memory the service's own
 * container keeps beside its sidecars and the Service Connect proxy, and what ECS Exec needs of a container.
 * Pure, so that the tracing sidecar (core/tracing.ts), the component and the tests share them.
 */
import { SERVICE_CONNECT_PROXY } from "./fargate";

/** The name of the container port that Service Connect and the target group find the service by. */
export const PORT_NAME = "http";

/** A sidecar's memory hard limit when its spec names none: `node -e 0` (the readiness gate) peaks near 40 MiB. */
export const SIDECAR_MEMORY = 64;

/** The least memory Berth gives the service's own container. */
export const MIN_SERVICE_MEMORY = 128;

/**
 * The service container's memory hard limit (`memory`, which ecs-task-definition-memory-hard-limit asks of
 * every container): the task's memory less the sidecars' limits and the Service Connect proxy's share. On
 * Fargate the containers' reservations must fit in the task's memory, and a container's `memory` counts as
 * its reservation when it sets no `memoryReservation`.
 */
export function serviceContainerMemory(taskMemory: number, sidecars: readonly Pick<ContainerSpec<unknown>, "memory">[]): number {
    return taskMemory - SERVICE_CONNECT_PROXY.memoryMiB - sidecars.reduce((sum, c) => sum + (c.memory ?? SIDECAR_MEMORY), 0);
}

/**
 * One container of the task. `V` is the type of the values only a deployment knows (the pushed image, an
 * endpoint, a secret's ARN): Pulumi inputs in the component, plain text for a sidecar known in advance.
 */
export interface ContainerSpec<V = string> {
    /** The container's name, unique in the task. */
    name: string;
    /** The image, pinned to a digest for the service's own container. */
    image: V;
    /**
     * The port it listens on, exposed under the name `http` (Service Connect finds the service by it).
     * Omitted: the container exposes no port (a sidecar that only sends).
     */
    port?: number;
    /** Plain environment variables. */
    environment?: Record<string, V>;
    /**
     * Variables ECS fills in from Secrets Manager or SSM Parameter Store at start: variable name to the
     * secret's ARN. The execution role may read only the ARNs listed in `TaskDefinitionArgs.secretArns`.
     * @default {}
     */
    secrets?: Record<string, V>;
    /** The container health check command, e.g. `["CMD", "node", "-e", "..."]`. Omitted: none. */
    healthCheckCommand?: string[];
    /**
     * Whether the task stops when this container stops.
     * @default true
     */
    essential?: boolean;
    /** The command, replacing the image's. Omitted: the image's own. */
    command?: string[];
    /**
     * The container's memory hard limit in MiB: ECS stops the container beyond it.
     * @default the service's container: `serviceContainerMemory()`; a sidecar: `SIDECAR_MEMORY`
     */
    memory?: number;
    /**
     * Containers this one starts after, e.g. `[{ containerName: "users", condition: "HEALTHY" }]`.
     * @default []
     */
    dependsOn?: Array<{ containerName: string; condition: "START" | "COMPLETE" | "SUCCESS" | "HEALTHY" }>;
    /**
     * Task volumes mounted into the container, e.g. writable paths under a read-only root file system.
     * @default []
     */
    mountPoints?: Array<{ sourceVolume: string; containerPath: string; readOnly: boolean }>;
    /**
     * The non-root `uid:gid` this container runs as, for a sidecar from another image with a user of its own.
     * @default the task's `user`
     */
    user?: string;
}

/**
 * The task-role permissions ECS Exec needs: the SSM agent in the container opens its channels with them
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html, "IAM permissions required for
 * ECS Exec").
 */
export const EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
] as const;

/**
 * Where ECS Exec writes inside the container. AWS documents ECS Exec as unsupported with
 * `readonlyRootFilesystem` because the SSM agent "requires that the container file system is able to be
 * written to" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html, Considerations).
 * The agent keeps its state under `/var/lib/amazon/ssm` and its logs under `/var/log/amazon/ssm`
 * (amazon-ecs-agent agent/engine/execcmd/manager_linux.go), and writes under `/managed-agents` as well: the
 * workaround of aws/containers-roadmap#1359 and of aws-containers/amazon-ecs-exec-checker#71 mounts exactly
 * `/managed-agents`, `/var/lib/amazon/ssm` and `/var/log/amazon/ssm` writable. Task volumes on those trees
 * keep the root file system read-only. The
 * agent runs as root (`execAgentCmdUser = "0"` in manager_start_linux.go), so a non-root container user
 * does not stop it writing there.
 */
export const EXEC_WRITABLE_PATHS = ["/managed-agents", "/var/lib/amazon", "/var/log/amazon"] as const;
