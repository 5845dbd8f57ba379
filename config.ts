/**
 * Stack configuration -> one validated, typed `Settings` object.
 *
 * A stack picks an environment preset with `berth:environment` and may override single keys of it.
 * Everything is checked here, before any resource is created; an error names the key, the value and what
 * is allowed, and lists every wrong key at once.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { overlaps, parseCidr, MIN_SUBNET_PREFIX, subnetBits } from "./components/cidr";
import { describeFargateMemory, FARGATE_SIZES, isFargateSize } from "./components/fargate";
import { MIN_KEEP_IMAGES } from "./components/serviceImage";
import type { NatStrategy } from "./components/network";
import type { CatalogService } from "./services/catalog";

export type EnvironmentName = "test" | "prod";

/** Everything that differs between environments. A stack may override any key of its preset. */
export interface Preset {
    /** One NAT gateway for the VPC, or one per AZ so that losing an AZ does not cut the others off. */
    natStrategy: NatStrategy;
    /** Task CPU units (1024 = 1 vCPU); with `memory`, a size Fargate accepts. */
    cpu: number;
    /** Task memory in MiB. */
    memory: number;
    /** Tasks per service; also the autoscaling floor. */
    desiredCount: number;
    /** Autoscaling ceiling; equal to `desiredCount` means no autoscaling. */
    maxCount: number;
    /** Days CloudWatch Logs keeps the services' logs. */
    logRetentionDays: number;
    /** ECS Container Insights on the cluster (billed per metric). */
    containerInsights: boolean;
    /**
     * `pulumi destroy` refuses before it deletes anything: ALB deletion protection, and Pulumi's `protect` on
     * the ALB, the VPC, the ECR repositories, the log groups and a guard that every resource comes before.
     */
    deletionProtection: boolean;
    /** Deleting the stack keeps the ECR repositories (with their images) and the log groups. */
    retainOnDelete: boolean;
    /** Whether destroying a stack deletes ECR repositories that still hold images. */
    forceDelete: boolean;
    /** How many images each ECR repository keeps; older ones expire. */
    keepImages: number;
    /**
     * An AWS WAF web ACL on the ALB (AWS managed rule groups and a per-address rate limit). Off saves the web
     * ACL's and its rules' monthly fees and fails `alb-waf-enabled`.
     */
    wafEnabled: boolean;
    /** VPC flow logs to CloudWatch Logs. Off saves their ingestion and fails `vpc-flow-logs-enabled`. */
    flowLogs: boolean;
    /** ALB access logs to an S3 bucket of the stack. Off fails `elb-logging-enabled`. */
    accessLogs: boolean;
    /**
     * A customer managed KMS key encrypts the stack's CloudWatch log groups. Off saves the key's monthly fee
     * and fails `cloudwatch-log-group-encrypted`.
     */
    logsKmsKey: boolean;
}

export const PRESETS: Readonly<Record<EnvironmentName, Readonly<Preset>>> = {
    test: {
        natStrategy: "single",
        cpu: 256,
        memory: 512,
        desiredCount: 1,
        maxCount: 1,
        logRetentionDays: 7,
        containerInsights: false,
        deletionProtection: false,
        retainOnDelete: false,
        forceDelete: true,
        keepImages: 10,
        wafEnabled: false,
        flowLogs: false,
        accessLogs: true,
        logsKmsKey: false,
    },
    prod: {
        natStrategy: "perAz",
        cpu: 512,
        memory: 1024,
        desiredCount: 2,
        maxCount: 6,
        // cw-loggroup-retention-period-check's default minimum.
        logRetentionDays: 365,
        containerInsights: true,
        deletionProtection: true,
        retainOnDelete: true,
        forceDelete: false,
        keepImages: 30,
        wafEnabled: true,
        flowLogs: true,
        accessLogs: true,
        logsKmsKey: true,
    },
};

/** The sizes and counts of one service's tasks. */
export interface ServiceSettings {
    cpu: number;
    memory: number;
    desiredCount: number;
    maxCount: number;
}

export interface Settings extends Omit<Preset, "cpu" | "memory" | "desiredCount" | "maxCount"> {
    project: string;
    stack: string;
    environment: EnvironmentName;
    region: string;
    vpcCidr: string;
    azCount: number;
    /** A certificate of the team's own in ACM for the HTTPS listener; HTTP then redirects to HTTPS. */
    certificateArn?: string;
    /**
     * The DNS name the ALB's default route answers on, e.g. `example.com` or `dev.example.com`; public
     * services with a `subdomain` answer on `<subdomain>.<domain>`. Needs `hostedZoneId` or `certificateArn`.
     */
    domain?: string;
    /**
     * The Route 53 public hosted zone that holds `domain`: Berth creates the ACM certificate with its DNS
     * validation records and points alias records at the ALB.
     */
    hostedZoneId?: string;
    /** `prod` serves plain HTTP only because the stack says so (`allowHttpOnly`). */
    allowHttpOnly: boolean;
    /** Availability zone IDs (`use1-az1`) to place the subnets in, in order; undefined: the region's first `azCount`. */
    availabilityZoneIds?: string[];
    /** Build images during `pulumi preview` too. */
    buildOnPreview: boolean;
    /** The stack's `aws:profile`, for the calls Berth makes itself (the deployment check). */
    awsProfile?: string;
    /** Per catalogue service, in catalogue order. */
    services: Record<string, ServiceSettings>;
}

/** A wrong stack configuration. Pulumi prints a RunError's message without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** Log retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const MAX_AZ_COUNT = 6;
/** Names one ACM certificate holds by default: the domain and 9 more (ACM quota "Domain names per certificate", 10). */
const MAX_CERTIFICATE_NAMES = 10;
const MAX_TASKS = 100;

/**
 * A whole number written in decimal digits, given as a number or as its text (the Pulumi CLI hands every
 * top-level value over as text; values set with `--path` may arrive as JSON numbers). "", "0x3", "1e2",
 * " 3" and "3.0" are refused, which `Number()` would accept.
 */
const wholeNumber = (min: number, max: number) =>
    z.union([z.number(), z.string().regex(/^(0|[1-9][0-9]*)$/).transform(Number)])
        .pipe(z.number().int().min(min).max(max));

const boolean = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

/** Availability zone IDs as AWS names them: `use1-az1`, `euw1-az3`, `usw2-lax1-az1`. */
const ZONE_ID = /^[a-z]{2,4}[0-9](-[a-z]+[0-9]*)?-az[0-9]+$/;

/**
 * Blocks that hold no unicast host addresses (RFC 6890): a VPC there cannot work. AWS accepts a VPC range
 * from /16 to /28 and recommends the RFC 1918 ranges, publicly routable ones being possible
 * (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html); 169.254.0.0/16 is where every
 * VPC's instance metadata and Amazon DNS (169.254.169.253) answer.
 */
export const RESERVED_RANGES: ReadonlyArray<readonly [string, string]> = [
    ["0.0.0.0/8", "\"this network\""],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local, used by the instance metadata service and the Amazon DNS server"],
    ["224.0.0.0/4", "multicast"],
    ["240.0.0.0/4", "reserved, and the broadcast address"],
];

/** Each key Berth reads from its namespace: how it is parsed, and what is allowed, in words. */
const KEYS = {
    environment: { schema: z.enum(["test", "prod"]), allowed: "one of test, prod" },
    vpcCidr: { schema: z.string(), allowed: `an IPv4 network such as 10.0.0.0/16, from /16 to /${MIN_SUBNET_PREFIX - subnetBits(MAX_AZ_COUNT)}` },
    azCount: { schema: wholeNumber(2, MAX_AZ_COUNT), allowed: `a whole number from 2 (the ALB needs two AZs) to ${MAX_AZ_COUNT}` },
    natStrategy: { schema: z.enum(["single", "perAz"]), allowed: "one of single, perAz" },
    cpu: { schema: wholeNumber(1, 1_000_000), allowed: `one of ${Object.keys(FARGATE_SIZES).join(", ")}` },
    memory: { schema: wholeNumber(1, 1_000_000), allowed: "a Fargate memory size in MiB" },
    desiredCount: { schema: wholeNumber(0, MAX_TASKS), allowed: `a whole number from 0 to ${MAX_TASKS}` },
    maxCount: { schema: wholeNumber(1, MAX_TASKS), allowed: `a whole number from 1 to ${MAX_TASKS}, at least desiredCount` },
    logRetentionDays: {
        schema: wholeNumber(1, 3653).refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v)),
        allowed: `one of ${LOG_RETENTION_DAYS.join(", ")}`,
    },
    containerInsights: { schema: boolean, allowed: "true or false" },
    deletionProtection: { schema: boolean, allowed: "true or false" },
    retainOnDelete: { schema: boolean, allowed: "true or false" },
    forceDelete: { schema: boolean, allowed: "true or false" },
    keepImages: {
        schema: wholeNumber(MIN_KEEP_IMAGES, 1000),
        allowed: `a whole number from ${MIN_KEEP_IMAGES} (the running image, the one a rollback returns to, the one rolling out) to 1000`,
    },
    allowHttpOnly: { schema: boolean, allowed: "true or false (true lets a prod stack serve plain HTTP without a domain)" },
    wafEnabled: { schema: boolean, allowed: "true or false" },
    flowLogs: { schema: boolean, allowed: "true or false" },
    accessLogs: { schema: boolean, allowed: "true or false" },
    logsKmsKey: { schema: boolean, allowed: "true or false" },
    hostedZoneId: {
        schema: z.string().regex(/^Z[A-Z0-9]{1,31}$/),
        allowed: "a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (aws route53 list-hosted-zones-by-name --dns-name example.com)",
    },
    buildOnPreview: { schema: boolean, allowed: "true or false" },
    availabilityZoneIds: {
        schema: z.string().transform((text, ctx) => {
            try {
                return JSON.parse(text) as unknown;
            } catch {
                ctx.addIssue({ code: "custom", message: "not JSON" });
                return z.NEVER;
            }
        }).pipe(z.array(z.string().regex(ZONE_ID)).min(2).refine((ids) => new Set(ids).size === ids.length)),
        allowed: "a list of at least 2 distinct zone IDs such as [\"use1-az1\", \"use1-az2\"] (set with `pulumi config set --path 'berth:availabilityZoneIds[0]' use1-az1`)",
    },
    certificateArn: {
        schema: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/),
        allowed: "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
    },
    domain: {
        schema: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/),
        allowed: "a lowercase DNS name such as api.example.com",
    },
    services: { schema: z.string(), allowed: "an object of per-service overrides" },
} as const;

/** An ACM certificate ARN: `arn:<partition>:acm:<region>:<account>:certificate/<id>`. */
const CERTIFICATE_REGION = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):/;

type Key = keyof typeof KEYS;
type Parsed = { [K in Key]?: z.output<(typeof KEYS)[K]["schema"]> };

const SERVICE_OVERRIDE_KEYS = ["cpu", "memory", "desiredCount", "maxCount"] as const;

/**
 * Turns the stack's configuration into Settings, or throws a ConfigError listing every problem.
 *
 * @param config every configuration value of the stack, as `pulumi.runtime.allConfig()` gives it
 *   (`"berth:azCount": "2"`; objects as JSON text)
 * @param services the service catalogue, for per-service overrides
 */
export function loadSettings(
    config: Readonly<Record<string, string>>,
    context: { project: string; stack: string },
    services: readonly CatalogService[],
): Settings {
    const ns = `${context.project}:`;
    const problems: string[] = [];
    const parsed: Parsed = {};

    for (const [fullKey, value] of Object.entries(config)) {
        if (!fullKey.startsWith(ns)) {
            continue;
        }
        const key = fullKey.slice(ns.length);
        if (!(key in KEYS)) {
            problems.push(`${fullKey} is not a setting Berth knows; allowed keys: ${Object.keys(KEYS).join(", ")}`);
            continue;
        }
        const spec = KEYS[key as Key];
        const result = spec.schema.safeParse(value);
        if (result.success) {
            (parsed as Record<string, unknown>)[key] = result.data;
        } else {
            problems.push(`${fullKey} is ${JSON.stringify(value)}; allowed: ${spec.allowed}`);
        }
    }

    const region = config["aws:region"];
    if (!region) {
        problems.push("aws:region is not set; set it with `pulumi config set aws:region us-east-1` (or your region)");
    }
    for (const key of ["environment", "vpcCidr", "azCount"] as const) {
        if (config[`${ns}${key}`] === undefined) {
            problems.push(`${ns}${key} is not set; allowed: ${KEYS[key].allowed} (Pulumi.yaml gives its default)`);
        }
    }

    if (parsed.vpcCidr !== undefined) {
        const cidr = parseCidr(parsed.vpcCidr);
        const azCount = parsed.azCount ?? 2;
        if (typeof cidr === "string") {
            problems.push(`${ns}vpcCidr is ${JSON.stringify(parsed.vpcCidr)}: ${cidr}`);
        } else if (cidr.prefix < 16 || cidr.prefix + subnetBits(azCount) > MIN_SUBNET_PREFIX) {
            problems.push(
                `${ns}vpcCidr is ${JSON.stringify(parsed.vpcCidr)}; allowed: a prefix from /16 to ` +
                `/${MIN_SUBNET_PREFIX - subnetBits(azCount)} for ${azCount} AZs (AWS VPCs are /16 to /28, subnets at least /${MIN_SUBNET_PREFIX})`,
            );
        } else {
            for (const [range, what] of RESERVED_RANGES) {
                if (overlaps(cidr, parseCidr(range) as Exclude<ReturnType<typeof parseCidr>, string>)) {
                    problems.push(`${ns}vpcCidr is ${JSON.stringify(parsed.vpcCidr)}, which overlaps ${range} (${what}); allowed: a range of unicast addresses, best from 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
                }
            }
        }
    }
    const certificateRegion = parsed.certificateArn === undefined ? undefined : CERTIFICATE_REGION.exec(parsed.certificateArn)?.[1];
    if (certificateRegion !== undefined && region && certificateRegion !== region) {
        problems.push(`${ns}certificateArn is ${JSON.stringify(parsed.certificateArn)}, a certificate in ${certificateRegion}; allowed: a certificate in the stack's region ${region} (an ALB uses ACM certificates of its own region)`);
    }
    if (parsed.availabilityZoneIds !== undefined && parsed.azCount !== undefined && parsed.availabilityZoneIds.length !== parsed.azCount) {
        problems.push(`${ns}availabilityZoneIds lists ${parsed.availabilityZoneIds.length} zones (${parsed.availabilityZoneIds.join(", ")}) but ${ns}azCount is ${parsed.azCount}; allowed: exactly azCount zone IDs`);
    }
    const https = parsed.certificateArn !== undefined || parsed.hostedZoneId !== undefined;
    if (parsed.domain !== undefined && !https) {
        problems.push(`${ns}domain is ${JSON.stringify(parsed.domain)} but neither ${ns}hostedZoneId nor ${ns}certificateArn is set; allowed: a domain with the Route 53 hosted zone that holds it (Berth makes the certificate), or with a certificate of your own`);
    }
    if (parsed.hostedZoneId !== undefined && parsed.domain === undefined) {
        problems.push(`${ns}hostedZoneId is set but ${ns}domain is not; allowed: set ${ns}domain to the name in that zone the ALB answers on`);
    }
    const subdomains = services.filter((s) => s.subdomain !== undefined);
    if (parsed.domain === undefined && subdomains.some((s) => s.pathPatterns.length === 0)) {
        const names = subdomains.filter((s) => s.pathPatterns.length === 0).map((s) => s.name);
        problems.push(`${ns}domain is not set, but ${names.join(", ")} answer only on a subdomain of it; allowed: set ${ns}domain (and ${ns}hostedZoneId)`);
    }
    const hostNames = parsed.domain === undefined ? [] : [parsed.domain, ...subdomains.map((s) => `${s.subdomain}.${parsed.domain}`)];
    if (hostNames.length > MAX_CERTIFICATE_NAMES) {
        problems.push(`${ns}domain ${JSON.stringify(parsed.domain)} with the catalogue's subdomains makes ${hostNames.length} names; allowed: at most ${MAX_CERTIFICATE_NAMES}, the names one ACM certificate holds by default`);
    }

    const environment = parsed.environment ?? "test";
    const preset = PRESETS[environment];
    if (environment === "prod" && !https && parsed.allowHttpOnly !== true) {
        problems.push(
            `${ns}domain is not set, so this prod stack would serve plain HTTP; allowed: set ${ns}domain and ${ns}hostedZoneId ` +
            `(or ${ns}certificateArn), or say so on purpose with \`pulumi config set ${ns}allowHttpOnly true\``,
        );
    }
    const merged: Preset = {
        natStrategy: parsed.natStrategy ?? preset.natStrategy,
        cpu: parsed.cpu ?? preset.cpu,
        memory: parsed.memory ?? preset.memory,
        desiredCount: parsed.desiredCount ?? preset.desiredCount,
        maxCount: parsed.maxCount ?? Math.max(preset.maxCount, parsed.desiredCount ?? preset.desiredCount),
        logRetentionDays: parsed.logRetentionDays ?? preset.logRetentionDays,
        containerInsights: parsed.containerInsights ?? preset.containerInsights,
        deletionProtection: parsed.deletionProtection ?? preset.deletionProtection,
        retainOnDelete: parsed.retainOnDelete ?? preset.retainOnDelete,
        forceDelete: parsed.forceDelete ?? preset.forceDelete,
        keepImages: parsed.keepImages ?? preset.keepImages,
        wafEnabled: parsed.wafEnabled ?? preset.wafEnabled,
        flowLogs: parsed.flowLogs ?? preset.flowLogs,
        accessLogs: parsed.accessLogs ?? preset.accessLogs,
        logsKmsKey: parsed.logsKmsKey ?? preset.logsKmsKey,
    };
    checkSize(`${ns}cpu/${ns}memory`, merged, problems);
    if (merged.maxCount < merged.desiredCount) {
        problems.push(`${ns}maxCount is ${merged.maxCount}, below desiredCount ${merged.desiredCount}; allowed: at least desiredCount`);
    }

    const overrides = parsed.services === undefined ? {} : parseServiceOverrides(`${ns}services`, parsed.services, services, problems);
    const serviceSettings: Record<string, ServiceSettings> = {};
    for (const service of services) {
        const o = overrides[service.name] ?? {};
        const desiredCount = o.desiredCount ?? merged.desiredCount;
        const s: ServiceSettings = {
            cpu: o.cpu ?? merged.cpu,
            memory: o.memory ?? merged.memory,
            desiredCount,
            maxCount: o.maxCount ?? Math.max(merged.maxCount, desiredCount),
        };
        if (o.cpu !== undefined || o.memory !== undefined) {
            checkSize(`${ns}services.${service.name}`, s, problems);
        }
        if (s.maxCount < s.desiredCount && (o.maxCount !== undefined || o.desiredCount !== undefined)) {
            problems.push(`${ns}services.${service.name}.maxCount is ${s.maxCount}, below its desiredCount ${s.desiredCount}; allowed: at least desiredCount`);
        }
        serviceSettings[service.name] = s;
    }

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    const { cpu: _cpu, memory: _memory, desiredCount: _d, maxCount: _m, ...shared } = merged;
    return {
        ...shared,
        project: context.project,
        stack: context.stack,
        environment,
        region: region!,
        vpcCidr: parsed.vpcCidr!,
        azCount: parsed.azCount!,
        certificateArn: parsed.certificateArn,
        domain: parsed.domain,
        hostedZoneId: parsed.hostedZoneId,
        allowHttpOnly: parsed.allowHttpOnly ?? false,
        availabilityZoneIds: parsed.availabilityZoneIds,
        buildOnPreview: parsed.buildOnPreview ?? false,
        awsProfile: config["aws:profile"] || undefined,
        services: serviceSettings,
    };
}

function checkSize(key: string, size: { cpu: number; memory: number }, problems: string[]): void {
    if (!isFargateSize(size.cpu, size.memory)) {
        problems.push(`${key} is cpu ${size.cpu} with memory ${size.memory}, which Fargate does not run; allowed: ${describeFargateMemory(size.cpu)}`);
    }
}

/** The same parsers as the top-level keys, so "3" and 3 mean the same here as there. */
const serviceOverride = z.strictObject({
    cpu: KEYS.cpu.schema.optional(),
    memory: KEYS.memory.schema.optional(),
    desiredCount: KEYS.desiredCount.schema.optional(),
    maxCount: KEYS.maxCount.schema.optional(),
});
type ServiceOverride = z.output<typeof serviceOverride>;

function parseServiceOverrides(
    key: string,
    text: string,
    services: readonly CatalogService[],
    problems: string[],
): Record<string, ServiceOverride> {
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
                        : `${where} is ${JSON.stringify(given)}; allowed: ${field in KEYS ? KEYS[field as Key].allowed : issue.message}`,
                );
            }
            continue;
        }
        out[name] = result.data;
    }
    return out;
}

/** The stack's settings, read from Pulumi's configuration of this run. */
export function settingsFromStack(services: readonly CatalogService[]): Settings {
    return loadSettings(
        pulumi.runtime.allConfig(),
        { project: pulumi.getProject(), stack: pulumi.getStack() },
        services,
    );
}

/** The region's availability zones as `aws.getAvailabilityZones` lists them: names and IDs, in the same order. */
export interface RegionZones {
    names: readonly string[];
    zoneIds: readonly string[];
}

/**
 * Picks the zones the VPC spans, checking what can only be known from the region: how many AZs it offers,
 * and whether the pinned zone IDs exist there. Zone names map to different physical zones in each account;
 * zone IDs do not, which is why a team pins IDs (Fargate runs only in some zones of some regions).
 */
export function chooseZones(settings: Settings, region: RegionZones): string[] {
    const key = `${settings.project}:`;
    if (settings.availabilityZoneIds) {
        const missing = settings.availabilityZoneIds.filter((id) => !region.zoneIds.includes(id));
        if (missing.length > 0) {
            throw new ConfigError([
                `${key}availabilityZoneIds is ${JSON.stringify(settings.availabilityZoneIds)}, but ${settings.region} offers no zone ` +
                `${missing.join(", ")}; allowed: ${region.zoneIds.join(", ")}`,
            ]);
        }
        return settings.availabilityZoneIds.map((id) => region.names[region.zoneIds.indexOf(id)]);
    }
    if (settings.azCount > region.names.length) {
        throw new ConfigError([
            `${key}azCount is ${settings.azCount}, but ${settings.region} offers ${region.names.length} ` +
            `availability zones (${region.names.join(", ")}); allowed: 2 to ${region.names.length}`,
        ]);
    }
    return region.names.slice(0, settings.azCount);
}
