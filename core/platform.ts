/**
 * The CPU architectures Berth builds images for and runs tasks on: the catalogue, the components and the
 * cost estimate read them.
 */

/** An image platform as Docker names it. Fargate runs both (ARM64 on Graviton). */
export type Platform = "linux/amd64" | "linux/arm64";

/** The task definition's `runtimePlatform.cpuArchitecture` for an image platform. */
export function cpuArchitecture(platform: Platform): "X86_64" | "ARM64" {
    return platform === "linux/arm64" ? "ARM64" : "X86_64";
}
