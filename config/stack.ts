/** The stack's settings as Pulumi hands them to this run. */
import * as pulumi from "@pulumi/pulumi";
import type { CatalogService } from "../catalog";
import { loadSettings } from "./load";
import type { Settings } from "./types";

/** The stack's settings, read from Pulumi's configuration of this run. */
export function settingsFromStack(services: readonly CatalogService[]): Settings {
    const config = pulumi.runtime.allConfig();
    return loadSettings(config, { project: pulumi.getProject(), stack: pulumi.getStack() }, services, Object.keys(config).filter(isConfigSecret));
}

/**
 * Whether a key was set with `--secret`. The SDK answers it (runtime/config.js `isConfigSecret`, reading the
 * secret keys the CLI hands the program) without exporting it in its types; without it, every value is
 * treated as shown, which only makes `berth:secrets` refuse plain values more often.
 */
function isConfigSecret(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
    return runtimeConfig.isConfigSecret?.(key) ?? false;
}
