/** `berth:services`: per-service overrides of the task sizes and counts, and each service's rollout. */
import { z } from "zod";
import { describeFargateMemory, isFargateSize } from "../core/fargate";
import { MAX_RELEASE } from "../core/rollout";
import { parseRolloutChoice, resolveRollout, type ParsedChoice, type Rollout, type RolloutDefaults, type RolloutProblem } from "../core/rolloutStrategy";
import { formatDuration, rolloutTimeline } from "../core/rolloutTimeline";
import type { ScaleSchedule } from "../core/schedule";
import type { CatalogService } from "../catalog";
import type { AnySetting, EnvironmentName, KeysOfKind } from "./setting";
import { SETTINGS } from "./table";
import type { ServiceSettings } from "./types";

/** The keys a service may override, from the table: the same parsers as the top-level keys, so "3" and 3 mean the same. */
const SERVICE_KEYS = (Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]).filter((key) => SETTINGS[key].kind === "service") as KeysOfKind<
    typeof SETTINGS,
    "service"
>[];
const SERVICE_OVERRIDE_KEYS = [...SERVICE_KEYS, "rollout"];

const serviceOverride = z.strictObject({
    ...Object.fromEntries(SERVICE_KEYS.map((key) => [key, SETTINGS[key].schema.optional()])),
    // Read field by field by parseRolloutChoice, which names each wrong one.
    rollout: z.unknown().optional(),
});
type ServiceOverride = Partial<ServiceSettings> & { rollout?: unknown };

export function checkSize(key: string, size: { cpu: number; memory: number }, problems: string[]): void {
    if (!isFargateSize(size.cpu, size.memory)) {
        problems.push(`${key} is cpu ${size.cpu} with memory ${size.memory}, which Fargate does not run; allowed: ${describeFargateMemory(size.cpu)}`);
    }
}

export function parseServiceOverrides(key: string, text: string, services: readonly CatalogService[], problems: string[]): Record<string, ServiceOverride> {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        problems.push(`${key} is ${JSON.stringify(text)}; allowed: an object such as {"users": {"desiredCount": 3}}`);
        return {};
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${key} is ${JSON.stringify(value)}; allowed: an object such as {"users": {"desiredCount": 3}}`);
        return {};
    }
    const names = services.map((s) => s.name);
    const out: Record<string, ServiceOverride> = {};
    for (const [name, override] of Object.entries(value)) {
        if (!names.includes(name)) {
            problems.push(`${key}.${name} names no service of the catalogue; allowed: ${names.join(", ")}`);
            continue;
        }
        const result = serviceOverride.safeParse(override);
        if (!result.success) {
            for (const issue of result.error.issues) {
                const field = issue.path.map(String).join(".");
                const where = field ? `${key}.${name}.${field}` : `${key}.${name}`;
                const given = field ? (override as Record<string, unknown>)[field] : override;
                problems.push(
                    issue.code === "unrecognized_keys"
                        ? `${where} has unknown keys ${issue.keys.join(", ")}; allowed: ${SERVICE_OVERRIDE_KEYS.join(", ")}`
                        : `${where} is ${JSON.stringify(given)}; allowed: ${field in SETTINGS ? SETTINGS[field as keyof typeof SETTINGS].allowed : issue.message}`,
                );
            }
            continue;
        }
        out[name] = result.data as ServiceOverride;
    }
    return out;
}

/**
 * Each service's sizes and counts: its override under `berth:services.<name>`, then the stack's merged value
 * (adjusted as the table says for a key left unset), checked as a whole.
 */
export function serviceSettings(
    spec: {
        ns: string;
        services: readonly CatalogService[];
        overrides: Record<string, ServiceOverride>;
        merged: ServiceSettings;
        scaleSchedules: readonly ScaleSchedule[];
    },
    problems: string[],
): Record<string, ServiceSettings> {
    const out: Record<string, ServiceSettings> = {};
    for (const service of spec.services) {
        const o = spec.overrides[service.name] ?? {};
        const s: Record<string, unknown> = {};
        for (const key of SERVICE_KEYS) {
            const setting = SETTINGS[key] as AnySetting;
            s[key] = o[key] ?? (setting.unset ? setting.unset(spec.merged[key], s) : spec.merged[key]);
        }
        out[service.name] = s as ServiceSettings;
        serviceProblems(spec.ns, service.name, out[service.name], o, spec.scaleSchedules, problems);
    }
    return out;
}

function serviceProblems(ns: string, name: string, s: ServiceSettings, o: ServiceOverride, scaleSchedules: readonly ScaleSchedule[], problems: string[]): void {
    const key = `${ns}services.${name}`;
    if (o.cpu !== undefined || o.memory !== undefined) {
        checkSize(key, s, problems);
    }
    if (s.maxCount < s.desiredCount && (o.maxCount !== undefined || o.desiredCount !== undefined)) {
        problems.push(`${key}.maxCount is ${s.maxCount}, below its desiredCount ${s.desiredCount}; allowed: at least desiredCount`);
    }
    for (const [i, schedule] of scaleSchedules.entries()) {
        const applies = schedule.services === undefined || schedule.services.includes(name);
        if (applies && schedule.maxCount === undefined && schedule.minCount > s.maxCount) {
            problems.push(
                `${ns}scaleSchedules[${i}] (${schedule.name}) sets minCount ${schedule.minCount}, above the maxCount ${s.maxCount} of ` +
                    `service ${name}; allowed: a minCount up to ${s.maxCount}, or a maxCount of its own`,
            );
        }
    }
}

/**
 * Each service's rollout: the catalogue's choice, then `berth:services.<name>.rollout`, the preset filling in
 * what neither sets. Refused, naming the key: a wrong field; a parameter of another strategy; a release
 * expected to take longer than `MAX_RELEASE`.
 */
export function serviceRollouts(
    spec: {
        ns: string;
        services: readonly CatalogService[];
        overrides: Record<string, ServiceOverride>;
        defaults: RolloutDefaults;
        environment: EnvironmentName;
    },
    problems: string[],
): Record<string, Rollout> {
    const out: Record<string, Rollout> = {};
    for (const service of spec.services) {
        const key = `${spec.ns}services.${service.name}.rollout`;
        const given = spec.overrides[service.name]?.rollout;
        // Said where the value comes from when the stack did not set it.
        const source = given === undefined ? ` (from catalog/index.ts${service.rollout ? "" : ": none"})` : "";
        const report = (p: RolloutProblem) =>
            problems.push(`${p.field ? `${key}.${p.field}` : key} is ${JSON.stringify(p.value)}${source}; allowed: ${p.allowed}`);
        let stack: ParsedChoice | undefined;
        if (given !== undefined) {
            const parsed = parseRolloutChoice(given);
            parsed.problems.forEach(report);
            if (!parsed.choice) {
                continue;
            }
            stack = parsed.choice;
        }
        const { rollout, problems: mismatched } = resolveRollout(spec.defaults, [service.rollout, stack]);
        mismatched.forEach(report);
        if (mismatched.length > 0) {
            continue;
        }
        const timeline = rolloutTimeline({ rollout, kind: service.kind });
        if (timeline.release > MAX_RELEASE) {
            problems.push(
                `${key} is ${JSON.stringify(rollout)}${source}, with the ${spec.environment} preset's values for what it leaves out: a release ` +
                    `takes about ${formatDuration(timeline.release)}; allowed: at most ${formatDuration(MAX_RELEASE)} (shorter bakes, larger steps), ` +
                    "so that `pulumi up` in the pipeline's deploy jobs sees the backends' and then the gateway's release through (docs/releases.md, \"Rollout strategies\")",
            );
        }
        out[service.name] = rollout;
    }
    return out;
}
