/**
 * Stack configuration -> one validated, typed `Settings` object.
 *
 * A stack picks an environment preset with `berth:environment` and may override single keys of it.
 * Everything is checked here, before any resource is created; an error names the key, the value and what
 * is allowed, and lists every wrong key at once.
 */
import type { CatalogService } from "../catalog";
import { parseAwsIdentity, regionOf } from "./aws";
import { databaseSettings } from "./database";
import { ConfigError } from "./errors";
import { domainProblems, edgeOf, servesHttps, vpcProblems, type Show } from "./network";
import { PRESETS } from "./presets";
import { parseKeys, requiredProblems, type Parsed } from "./read";
import { parseSecrets } from "./secrets";
import { checkSize, parseServiceOverrides, serviceRollouts, serviceSettings } from "./services";
import type { AnySetting, EnvironmentName, Kind, ReadContext } from "./setting";
import { SETTINGS } from "./table";
import type { Preset, Settings } from "./types";

/**
 * Turns the stack's configuration into Settings, or throws a ConfigError listing every problem.
 *
 * @param config every configuration value of the stack, as `pulumi.runtime.allConfig()` gives it
 *   (`"berth:azCount": "2"`; objects as JSON text)
 * @param services the service catalogue, for per-service overrides
 * @param secretKeys the keys set with `pulumi config set --secret`: their values never appear in an error
 */
export function loadSettings(
    config: Readonly<Record<string, string>>,
    context: { project: string; stack: string },
    services: readonly CatalogService[],
    secretKeys: readonly string[] = [],
): Settings {
    const ns = `${context.project}:`;
    const problems: string[] = [];
    const show: Show = (key, value) => (secretKeys.includes(`${ns}${key}`) ? "a secret (not shown)" : JSON.stringify(value));
    const readContext = (key: string): ReadContext => ({ key: `${ns}${key}`, services, problems });

    const parsed = parseKeys(config, ns, show, problems);
    const awsIdentity = parseAwsIdentity(config, problems);
    const region = regionOf(config, problems);
    problems.push(...requiredProblems(config, ns), ...vpcProblems(ns, parsed, show), ...domainProblems(ns, parsed, services, region, show));
    const { edge, deployed } = edgeOf(ns, parsed, services, problems);
    const environment = parsed.environment ?? "test";
    const preset = PRESETS[environment];
    if (environment === "prod" && !servesHttps(parsed) && parsed.allowHttpOnly !== true) {
        problems.push(
            `${ns}domain is not set, so this prod stack would serve plain HTTP; allowed: set ${ns}domain and ${ns}hostedZoneId ` +
                `(or ${ns}certificateArn), or say so on purpose with \`pulumi config set ${ns}allowHttpOnly true\``,
        );
    }
    const merged = mergePreset(preset, parsed, readContext);
    problems.push(...presetProblems(ns, environment, merged));
    const own = stackValues(parsed, readContext);

    const overrides = parsed.services === undefined ? {} : parseServiceOverrides(`${ns}services`, parsed.services, services, problems);
    const perService = serviceSettings({ ns, services, overrides, merged, scaleSchedules: merged.scaleSchedules }, problems);
    // Behind the ALB the routed backends roll out as public services do.
    const rollouts = serviceRollouts({ ns, services: deployed, overrides, defaults: merged.rolloutDefaults, environment }, problems);
    const database = databaseSettings(
        {
            key: `${ns}database`,
            text: parsed.database,
            secret: secretKeys.includes(`${ns}database`),
            preset: preset.database,
            vpcCidr: parsed.vpcCidr,
            azCount: parsed.azCount ?? 2,
            needed: services.some((s) => s.database !== undefined),
        },
        problems,
    );
    const secrets = parsed.secrets === undefined ? {} : parseSecrets(`${ns}secrets`, parsed.secrets, services, secretKeys.includes(`${ns}secrets`), problems);

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    const { cpu: _cpu, memory: _memory, desiredCount: _d, maxCount: _m, database: _db, ...shared } = merged;
    return {
        ...shared,
        ...own,
        project: context.project,
        stack: context.stack,
        environment,
        region: region!,
        vpcCidr: parsed.vpcCidr!,
        azCount: parsed.azCount!,
        edge,
        awsIdentity,
        services: perService,
        database,
        secrets,
        rollouts,
    } as Settings;
}

/** The keys of the table of the given kinds, in its order. */
function keysOf(...kinds: Kind[]): (keyof typeof SETTINGS)[] {
    return (Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]).filter((key) => kinds.includes(SETTINGS[key].kind));
}

/**
 * The preset with the stack's overrides: each `preset` and `service` key the stack sets, read by its `read`
 * step when it has one; each key left unset, the preset's value, adjusted by the table's `unset` rule.
 */
function mergePreset(preset: Preset, parsed: Parsed, context: (key: string) => ReadContext): Preset {
    const merged: Record<string, unknown> = {};
    for (const key of keysOf("preset", "service")) {
        const spec = SETTINGS[key] as AnySetting;
        const given = parsed[key];
        const fromPreset = preset[key as keyof Preset];
        merged[key] = given === undefined ? (spec.unset ? spec.unset(fromPreset, merged) : fromPreset) : spec.read ? spec.read(given, context(key)) : given;
    }
    return { ...merged, database: preset.database, rolloutDefaults: preset.rolloutDefaults } as Preset;
}

/** What the merged preset may not hold, whichever keys the stack set. */
function presetProblems(ns: string, environment: EnvironmentName, merged: Preset): string[] {
    const problems: string[] = [];
    checkSize(`${ns}cpu/${ns}memory`, merged, problems);
    if (environment === "prod" && merged.natStrategy === "instance") {
        problems.push(
            `${ns}natStrategy is "instance" in a prod stack; allowed in prod: single, perAz (one EC2 instance is a single point ` +
                'of failure with a burstable instance\'s bandwidth; see docs/scaling.md, "NAT")',
        );
    }
    if (environment === "prod" && merged.spotPercent > 0 && merged.onDemandBase < 1) {
        problems.push(
            `${ns}onDemandBase is 0 with ${ns}spotPercent ${merged.spotPercent} in a prod stack; allowed: at least 1, so that ` +
                "each service keeps an on-demand task when AWS reclaims Spot capacity",
        );
    }
    if (merged.maxCount < merged.desiredCount) {
        problems.push(`${ns}maxCount is ${merged.maxCount}, below desiredCount ${merged.desiredCount}; allowed: at least desiredCount`);
    }
    return problems;
}

/** The `stack` and `optional` keys: the stack's value (read by the key's `read` step), else the key's default. */
function stackValues(parsed: Parsed, context: (key: string) => ReadContext): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of keysOf("stack", "optional")) {
        const spec = SETTINGS[key] as AnySetting;
        const given = parsed[key];
        out[key] = given === undefined ? spec.default : spec.read ? spec.read(given, context(key)) : given;
    }
    return out;
}
