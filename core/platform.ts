/**
 * The CPU architectures Berth builds images for and runs tasks on. Pure: the catalogue and the components
 * both read it, so it lives with the components (which import nothing from `services/`).
 */

/** An image platform as Docker names it. Fargate runs both (ARM64 on Graviton). */
export type Platform = "linux/amd64" | "linux/arm64";

/** The task definition's `runtimePlatform.cpuArchitecture` for an image platform. */
export function cpuArchitecture(platform: Platform): "X86_64" | "ARM64" {
    return platform === "linux/arm64" ? "ARM64" : "X86_64";
}
