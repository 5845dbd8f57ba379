/** The first step of loading settings: each `berth:` key of the stack parsed by its entry of the table. */
import type { z } from "zod";
import { SETTINGS } from "./table";

type Table = typeof SETTINGS;
export type Key = keyof Table;

/** Each key the stack sets, as its schema parsed it (before a `read` step). */
export type Parsed = { [K in Key]?: z.output<Table[K]["schema"]> };

export function isKey(key: string): key is Key {
    return key in SETTINGS;
}

/**
 * Parses every `<ns><key>` of `config` with the table's schema; an unknown key or a value the schema refuses
 * becomes a problem naming the key, the value (never a secret's) and what is allowed.
 */
export function parseKeys(config: Readonly<Record<string, string>>, ns: string, show: (key: string, value: unknown) => string, problems: string[]): Parsed {
    const parsed: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(config)) {
        if (!fullKey.startsWith(ns)) {
            continue;
        }
        const key = fullKey.slice(ns.length);
        if (!isKey(key)) {
            problems.push(`${fullKey} is not a setting Berth knows; allowed keys: ${Object.keys(SETTINGS).join(", ")}`);
            continue;
        }
        const spec = SETTINGS[key];
        const result = spec.schema.safeParse(value);
        if (result.success) {
            parsed[key] = result.data;
        } else {
            problems.push(`${fullKey} is ${show(key, value)}; allowed: ${spec.allowed}`);
        }
    }
    return parsed as Parsed;
}

/** The keys the stack must set, which `Pulumi.yaml` gives defaults for. */
export function requiredProblems(config: Readonly<Record<string, string>>, ns: string): string[] {
    return Object.entries(SETTINGS)
        .filter(([key, spec]) => spec.kind === "required" && config[`${ns}${key}`] === undefined)
        .map(([key, spec]) => `${ns}${key} is not set; allowed: ${spec.allowed} (Pulumi.yaml gives its default)`);
}
