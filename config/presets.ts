/** The environment presets, read from the settings table. */
import type { AnySetting, EnvironmentName } from "./setting";
import { DATABASE_SETTINGS, ROLLOUT_DEFAULTS, SETTINGS } from "./table";
import type { DatabasePreset, Preset } from "./types";

/** The `preset` and `service` values of `table` in environment `name`. */
function presetValues(table: Readonly<Record<string, AnySetting>>, name: EnvironmentName): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(table)
            .filter(([, spec]) => spec.kind === "preset" || spec.kind === "service")
            .map(([key, spec]) => [key, spec.preset![name]]),
    );
}

function presetOf(name: EnvironmentName): Preset {
    return {
        ...presetValues(SETTINGS, name),
        database: presetValues(DATABASE_SETTINGS, name) as DatabasePreset,
        rolloutDefaults: ROLLOUT_DEFAULTS[name],
    } as Preset;
}

export const PRESETS: Readonly<Record<EnvironmentName, Readonly<Preset>>> = {
    test: presetOf("test"),
    prod: presetOf("prod"),
};
