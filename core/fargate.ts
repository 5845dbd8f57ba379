import type { Platform } from "./platform";

/**
 * The CPU and memory pairs Fargate accepts for a Linux task. Any other pair makes `RegisterTaskDefinition`
 * fail in the middle of a deployment, so Berth checks it before anything is created.
 */

/** CPU units (1024 = 1 vCPU) to the memory sizes in MiB that Fargate allows with them. */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
    const out: number[] = [];
    for (let v = from; v <= to; v += step) {
        out.push(v);
    }
    return out;
}

/** Whether Fargate runs a task of `cpu` units with `memory` MiB. */
export function isFargateSize(cpu: number, memory: number): boolean {
    return FARGATE_SIZES[cpu]?.includes(memory) ?? false;
}

/** What Fargate allows for `cpu`, in words, for error messages. */
export function describeFargateMemory(cpu: number): string {
    const sizes = FARGATE_SIZES[cpu];
    if (!sizes) {
        return `cpu must be one of ${Object.keys(FARGATE_SIZES).join(", ")}`;
    }
    return `with cpu ${cpu}, memory must be one of ${sizes.join(", ")} (MiB)`;
}

/**
 * What AWS recommends adding to a task's CPU and memory for the Service Connect proxy, which runs inside
 * every task of a service with Service Connect and takes what the other containers do not reserve: "256 CPU
 * units and at least 64 MiB of memory" (512 CPU units above 500 requests per second at peak)
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html,
 * "Service Connect proxy"). The presets in config/ are sized with it, and the service's container leaves
 * the proxy that much memory (`serviceContainerMemory` in core/taskContainers.ts), since ECS adds the proxy to
 * the task without a container definition.
 */
export const SERVICE_CONNECT_PROXY = { cpu: 256, memoryMiB: 64 } as const;

/** Where a service's tasks run: the first `onDemandBase` on on-demand FARGATE, `spotPercent` % of the rest on FARGATE_SPOT. */
export interface Capacity {
    onDemandBase: number;
    spotPercent: number;
}

/**
 * The capacity of a service built for `platform`. Fargate Spot runs X86_64 tasks only ("Linux tasks with the
 * ARM64 architecture don't support the Fargate Spot capacity provider",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html): an ARM64
 * service runs on on-demand FARGATE whatever the Spot share says, or its Spot tasks would never start.
 */
export function capacityFor(platform: Platform, capacity: Capacity): Capacity {
    return { onDemandBase: capacity.onDemandBase, spotPercent: platform === "linux/arm64" ? 0 : capacity.spotPercent };
}
