/** `berth:database`: the preset's database with the stack's overrides, and the range of its isolated subnets. */
import {
    contains,
    defaultIsolatedRange,
    formatCidr,
    isolatedSubnets,
    MIN_SUBNET_PREFIX,
    overlaps,
    parseCidr,
    privateRangeOf,
    splitSubnets,
    subnetBits,
    type Ipv4Cidr,
} from "../core/cidr";
import { parseObject } from "./parsers";
import { DATABASE_SETTINGS } from "./table";
import type { DatabasePreset, DatabaseSettings } from "./types";

/**
 * The database's settings: the preset under `berth:database` overrides, and the range of the isolated
 * subnets, checked against the VPC's layout. Problems go to `problems`.
 */
export function databaseSettings(
    spec: {
        key: string;
        text: string | undefined;
        secret: boolean;
        preset: DatabasePreset;
        vpcCidr: string | undefined;
        azCount: number;
        /** Whether a catalogue service declares the database, so that a range is needed. */
        needed: boolean;
    },
    problems: string[],
): DatabaseSettings {
    const { key } = spec;
    const overrides: Record<string, unknown> = {};
    const value = spec.text === undefined ? {} : parseObject(key, spec.text, spec.secret, problems);
    for (const [field, given] of Object.entries(value ?? {})) {
        if (!(field in DATABASE_SETTINGS)) {
            problems.push(`${key}.${field} is not a database setting; allowed keys: ${Object.keys(DATABASE_SETTINGS).join(", ")}`);
            continue;
        }
        const rule = DATABASE_SETTINGS[field as keyof typeof DATABASE_SETTINGS];
        const result = rule.schema.safeParse(given);
        if (result.success) {
            overrides[field] = result.data;
        } else {
            problems.push(`${key}.${field} is ${spec.secret ? "a secret (not shown)" : JSON.stringify(given)}; allowed: ${rule.allowed}`);
        }
    }
    const settings: DatabaseSettings = { ...spec.preset, ...overrides };
    const vpc = spec.vpcCidr === undefined ? undefined : parseCidr(spec.vpcCidr);
    if (vpc === undefined || typeof vpc === "string" || vpc.prefix + subnetBits(spec.azCount) > MIN_SUBNET_PREFIX) {
        return settings; // vpcCidr's own problem is reported already.
    }
    if (settings.cidr !== undefined) {
        const problem = isolatedRangeProblem(settings.cidr, vpc, spec.azCount);
        if (problem) {
            problems.push(`${key}.cidr is ${JSON.stringify(settings.cidr)}: ${problem}`);
        }
    } else if (spec.needed) {
        const range = defaultIsolatedRange(vpc, spec.azCount);
        if (range === undefined) {
            problems.push(
                `${key}.cidr is not set, and the VPC ${formatCidr(vpc)} has no room left for the database's isolated subnets ` +
                    `nor lies in an RFC 1918 range that a secondary range could come from; allowed: set ${key}.cidr to a free /24 ` +
                    "that AWS accepts as a secondary VPC range",
            );
        } else {
            settings.cidr = formatCidr(range);
        }
    }
    return settings;
}

/** Why the isolated subnets cannot take `text`, or undefined when they can. */
function isolatedRangeProblem(text: string, vpc: Ipv4Cidr, azCount: number): string | undefined {
    const range = parseCidr(text);
    if (typeof range === "string") {
        return range;
    }
    try {
        isolatedSubnets(range, azCount);
    } catch {
        return `allowed: a range that holds ${azCount} subnets of at least /${MIN_SUBNET_PREFIX} (a /${MIN_SUBNET_PREFIX - Math.ceil(Math.log2(azCount))} or larger)`;
    }
    if (range.prefix < 16) {
        return "allowed: a range from /16 to /28 (AWS's limits for a VPC range)";
    }
    const layout = splitSubnets(vpc, azCount);
    const taken = [...layout.public, ...layout.private].find((block) => overlaps(range, parseCidr(block) as Ipv4Cidr));
    if (taken !== undefined) {
        return `it overlaps the subnet ${taken}; allowed: a range the public and private subnets leave free, or one outside the VPC`;
    }
    if (contains(vpc, range)) {
        return undefined;
    }
    if (overlaps(vpc, range)) {
        return `it straddles the VPC's range ${formatCidr(vpc)}; allowed: a range wholly inside or wholly outside it`;
    }
    const home = privateRangeOf(vpc);
    if (home === undefined || privateRangeOf(range) !== home) {
        return `allowed outside the VPC: a range in the VPC's own RFC 1918 range ${home ?? "(the VPC lies in none)"}, which AWS accepts as a secondary VPC range`;
    }
    return undefined;
}
