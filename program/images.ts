/** How each image of the catalogue is built and kept: the same for a service, a worker and a job. */
import type { ServiceImageArgs } from "../components/service/serviceImage";
import { sourceVersion } from "../core/buildContext";
import type { Platform } from "../core/platform";
import type { Settings } from "../config";

/** What of a catalogue entry its image is built from. */
export interface ImageSource {
    build: { context: string; dockerfile: string };
    platform: Platform;
}

export function imageArgs(entry: ImageSource, settings: Settings): ServiceImageArgs {
    return {
        // Pulumi runs the program in the project's directory, the root the catalogue's paths are relative to.
        source: sourceVersion(process.cwd(), entry.build.context, entry.build.dockerfile),
        context: entry.build.context,
        dockerfile: entry.build.dockerfile,
        platform: entry.platform,
        keepImages: settings.keepImages,
        forceDelete: settings.forceDelete,
        buildOnPreview: settings.buildOnPreview,
        protect: settings.deletionProtection,
        retainOnDelete: settings.retainOnDelete,
    };
}
