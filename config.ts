/**
 * Stack configuration -> one validated, typed `Settings` object.
 *
 * A stack picks an environment preset with `berth:environment` and may override single keys of it.
 * Everything is checked here, before any resource is created; an error names the key, the value and what
 * is allowed, and lists every wrong key at once.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
    contains, defaultIsolatedRange, formatCidr, isolatedSubnets, overlaps, parseCidr, privateRangeOf, splitSubnets,
    MIN_SUBNET_PREFIX, subnetBits, type Ipv4Cidr,
} from "./core/cidr";
import { DATABASE_TLS_VARIABLE } from "./components/data/database";
import { BACKUP_RETENTION_DAYS, INSTANCE_CLASSES_ALLOWED, isInstanceClass, majorVersion, POSTGRES_MAJOR_VERSIONS, STORAGE_GIB } from "./core/databaseRules";
import { GIT_BRANCH, GITHUB_ENVIRONMENT, GITHUB_OIDC_PROVIDER_ARN, GITHUB_REPOSITORY } from "./core/githubAccess";
import { CARRIED_AWS_KEYS, durationSeconds, type AssumedRole, type AwsIdentity } from "./core/awsIdentity";
import { describeFargateMemory, FARGATE_SIZES, isFargateSize } from "./core/fargate";
import { parseSecretReference, SECRET_REFERENCES_ALLOWED, type SecretReference } from "./core/secretReference";
import { MAX_RELEASE } from "./core/rollout";
import {
    parseRolloutChoice, resolveRollout, type ParsedChoice, type Rollout, type RolloutDefaults, type RolloutProblem,
} from "./core/rolloutStrategy";
import { formatDuration, rolloutTimeline } from "./core/rolloutTimeline";
import { MIN_KEEP_IMAGES } from "./core/imageRetention";
import { TRACING_VARIABLES } from "./core/tracing";
import { NAT_INSTANCE_TYPES, type NatInstanceType, type NatStrategy } from "./core/nat";
import { isTimeZone, scheduleExpressionProblem, type ScaleSchedule } from "./core/schedule";
import type { JwtValidation } from "./core/listenerRules";
import { albEdgeCatalog, albEdgeProblems, EDGES, serviceEnvironment, type CatalogService, type Edge } from "./catalog";

export type EnvironmentName = "test" | "prod";

/** Everything that differs between environments. A stack may override any key of its preset. */
export interface Preset {
    /**
     * One NAT gateway for the VPC, one per AZ so that losing an AZ does not cut the others off, or (test
     * stacks) one small EC2 instance doing NAT for a fraction of a NAT gateway's price.
     */
    natStrategy: NatStrategy;
    /** The EC2 instance type of the NAT instance (`natStrategy: instance`), a Graviton burstable type. */
    natInstanceType: NatInstanceType;
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
    /** Tasks per service that always run on on-demand FARGATE, whatever `spotPercent` says. */
    onDemandBase: number;
    /** Share (0-100 %) of the tasks above `onDemandBase` that run on FARGATE_SPOT (up to 70 % cheaper, may be reclaimed). */
    spotPercent: number;
    /** ALB requests per task per minute that public services scale out at (target tracking). */
    requestsPerTarget: number;
    /** ECS Exec (`aws ecs execute-command`) into the services' containers. */
    ecsExec: boolean;
    /** Scheduled changes of the services' task-count bounds, e.g. none at night in test, a morning floor in prod. */
    scaleSchedules: ScaleSchedule[];
    /** The PostgreSQL instance, created when a catalogue service declares `database`. */
    database: DatabasePreset;
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
    /**
     * Traces to AWS X-Ray: an ADOT collector in every task (its memory comes from the task's) and the services
     * exporting to it. Off: no collector, no X-Ray charges, and the services trace nothing.
     */
    tracing: boolean;
    /**
     * The share of requests the gateway traces (0 < ratio <= 1); the backends follow its decision, so a trace
     * is whole or absent. X-Ray bills per trace recorded.
     */
    tracingSampleRatio: number;
    /**
     * The parameters of each strategy that shifts traffic (`berth:services.<name>.rollout`), where neither the
     * catalogue nor the stack sets them: short bakes in `test`, bakes at least as long as a rollback alarm's
     * window in `prod`, so that an alarm can still roll the traffic back before the old version goes.
     */
    rolloutDefaults: RolloutDefaults;
}

/** The database's size, engine and protection: every key can be overridden under `berth:database`. */
export interface DatabasePreset {
    /** The DB instance class, e.g. `db.t4g.micro`. */
    instanceClass: string;
    /** gp3 storage in GiB. */
    storageGb: number;
    /** PostgreSQL's major version (RDS picks and upgrades the minor) or a minor version such as `17.6`. */
    engineVersion: string;
    /** A standby in a second AZ. */
    multiAz: boolean;
    /** Days of automated backups (point-in-time recovery). */
    backupRetentionDays: number;
    /** Performance Insights with its free 7-day retention. */
    performanceInsights: boolean;
    /** A snapshot when the instance is deleted; automated backups are kept for their retention too. */
    finalSnapshot: boolean;
}

/** The database's settings, with the range of its isolated subnets. */
export interface DatabaseSettings extends DatabasePreset {
    /** The isolated subnets' range; undefined when no service declares the database and none was set. */
    cidr?: string;
}

/** One variable a service reads from a secret (`berth:secrets.<service>.<VARIABLE>`). */
export type ServiceSecret =
    | { name: string; kind: "value"; value: pulumi.Output<string> }
    | ({ name: string } & SecretReference);

export const PRESETS: Readonly<Record<EnvironmentName, Readonly<Preset>>> = {
    test: {
        // One t4g.nano instead of a NAT gateway: a tenth of the cost; it recovers from a failed host or check
        // by itself, and `pulumi up --refresh` starts it when stopped (components/network/network.ts, README "NAT").
        natStrategy: "instance",
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
        natInstanceType: "t4g.nano",
        onDemandBase: 0,
        spotPercent: 100,
        requestsPerTarget: 1000,
        ecsExec: true,
        scaleSchedules: [],
        database: {
            instanceClass: "db.t4g.micro",
            storageGb: 20,
            engineVersion: "17",
            multiAz: false,
            // FSBP RDS.11's minimum (db-instance-backup-enabled, backupRetentionMinimum 7). Free here: RDS keeps
            // backups up to the size of the region's provisioned storage at no charge, and a test database's
            // week of changes is far smaller than its 20 GiB.
            backupRetentionDays: 7,
            performanceInsights: false,
            finalSnapshot: false,
        },
        wafEnabled: false,
        flowLogs: false,
        accessLogs: true,
        logsKmsKey: false,
        // A test stack turns it on to see every request.
        tracing: false,
        tracingSampleRatio: 1,
        rolloutDefaults: {
            canary: { canaryPercent: 10, canaryBakeMinutes: 2, bakeMinutes: 1 },
            linear: { stepPercent: 34, stepBakeMinutes: 1, bakeMinutes: 1 },
            blueGreen: { bakeMinutes: 1 },
        },
    },
    prod: {
        natStrategy: "perAz",
        // Half a vCPU and 1 GiB for the service once the Service Connect proxy took its recommended share
        // (see SERVICE_CONNECT_PROXY in core/fargate.ts).
        cpu: 1024,
        memory: 2048,
        desiredCount: 2,
        maxCount: 6,
        // cw-loggroup-retention-period-check's default minimum.
        logRetentionDays: 365,
        containerInsights: true,
        deletionProtection: true,
        retainOnDelete: true,
        forceDelete: false,
        keepImages: 30,
        natInstanceType: "t4g.nano",
        onDemandBase: 1,
        spotPercent: 0,
        requestsPerTarget: 1000,
        ecsExec: false,
        scaleSchedules: [],
        database: {
            instanceClass: "db.t4g.medium",
            storageGb: 50,
            engineVersion: "17",
            multiAz: true,
            backupRetentionDays: 14,
            performanceInsights: true,
            finalSnapshot: true,
        },
        wafEnabled: true,
        flowLogs: true,
        accessLogs: true,
        logsKmsKey: true,
        tracing: true,
        // X-Ray's own default sampling rule keeps 5 % (after the first request each second):
        // https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html
        tracingSampleRatio: 0.05,
        rolloutDefaults: {
            canary: { canaryPercent: 10, canaryBakeMinutes: 5, bakeMinutes: 5 },
            linear: { stepPercent: 20, stepBakeMinutes: 3, bakeMinutes: 5 },
            blueGreen: { bakeMinutes: 5 },
        },
    },
};

/** The sizes and counts of one service's tasks. */
export interface ServiceSettings {
    cpu: number;
    memory: number;
    desiredCount: number;
    maxCount: number;
}

export interface Settings extends Omit<Preset, "cpu" | "memory" | "desiredCount" | "maxCount" | "database"> {
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
    /**
     * What routes the backends' `routes`: the gateway service, or the ALB's own rules with no gateway deployed
     * (`deployedCatalog` in catalog/index.ts).
     */
    edge: Edge;
    /** With `edge` `alb`: the JWT check of the routes whose backend declares `auth: "jwt"`. */
    edgeJwt?: JwtValidation;
    /** Availability zone IDs (`use1-az1`) to place the subnets in, in order; undefined: the region's first `azCount`. */
    availabilityZoneIds?: string[];
    /** Build images during `pulumi preview` too. */
    buildOnPreview: boolean;
    /** The stack's `aws:*` credential settings: Berth's AWS provider and the deployment check act with them. */
    awsIdentity: AwsIdentity;
    /** Per catalogue service, in catalogue order. */
    services: Record<string, ServiceSettings>;
    /** The GitHub Actions pipeline's OIDC provider and roles; none without `berth:pipeline`. */
    pipeline?: PipelineSettings;
    /** Where alarm notifications go besides the SNS topic; SNS asks the address to confirm first. */
    alarmEmail?: string;
    /** The database's settings and the range of its isolated subnets. */
    database: DatabaseSettings;
    /** Per service that has any: its secrets from `berth:secrets`, values wrapped as Pulumi secrets. */
    secrets: Record<string, ServiceSecret[]>;
    /** Per catalogue service: how its new versions take over (catalogue entry, then `berth:services.<name>.rollout`). */
    rollouts: Record<string, Rollout>;
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

/** A decimal fraction above 0 and at most 1, as a number or its text ("0.05", "1"); not "", ".5e0" or "5%". */
const ratio = z.union([z.number(), z.string().regex(/^(0|1)(\.[0-9]+)?$/).transform(Number)])
    .pipe(z.number().gt(0).max(1));

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
/** JSON text (as the CLI hands over objects and lists) or the value itself. */
const json = <T extends z.ZodType>(schema: T) => z.union([
    z.string().transform((text, ctx) => {
        try {
            return JSON.parse(text) as unknown;
        } catch {
            ctx.addIssue({ code: "custom", message: "not JSON" });
            return z.NEVER;
        }
    }),
    z.array(z.unknown()),
    z.record(z.string(), z.unknown()),
]).pipe(schema);

const KEYS = {
    environment: { schema: z.enum(["test", "prod"]), allowed: "one of test, prod" },
    vpcCidr: { schema: z.string(), allowed: `an IPv4 network such as 10.0.0.0/16, from /16 to /${MIN_SUBNET_PREFIX - subnetBits(MAX_AZ_COUNT)}` },
    azCount: { schema: wholeNumber(2, MAX_AZ_COUNT), allowed: `a whole number from 2 (the ALB needs two AZs) to ${MAX_AZ_COUNT}` },
    natStrategy: { schema: z.enum(["single", "perAz", "instance"]), allowed: "one of single, perAz, instance (test stacks only)" },
    natInstanceType: { schema: z.enum(NAT_INSTANCE_TYPES), allowed: `one of ${NAT_INSTANCE_TYPES.join(", ")} (the NAT instance runs an ARM64 Amazon Linux)` },
    onDemandBase: { schema: wholeNumber(0, MAX_TASKS), allowed: `a whole number from 0 to ${MAX_TASKS}` },
    spotPercent: { schema: wholeNumber(0, 100), allowed: "a whole number from 0 to 100 (percent of the tasks above onDemandBase on FARGATE_SPOT)" },
    requestsPerTarget: { schema: wholeNumber(1, 100_000), allowed: "a whole number from 1 to 100000 (ALB requests per task per minute)" },
    ecsExec: { schema: boolean, allowed: "true or false" },
    alarmEmail: { schema: z.email(), allowed: "an e-mail address such as ops@example.com" },
    scaleSchedules: { schema: z.string(), allowed: "a list of schedules (see README, \"Scheduled scaling\")" },
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
    edge: { schema: z.enum(EDGES), allowed: `one of ${EDGES.join(", ")} (see README, "The edge: gateway or ALB")` },
    edgeJwt: {
        schema: json(z.strictObject({
            issuer: z.string().min(1),
            jwksUrl: z.string().regex(/^https:\/\/[^\s/]+\/\S*$/),
            audience: z.string().min(1).optional(),
        })),
        allowed: '{"issuer": "<the tokens\' iss>", "jwksUrl": "https://<issuer>/.well-known/jwks.json"} with an optional "audience" (the tokens\' aud)',
    },
    wafEnabled: { schema: boolean, allowed: "true or false" },
    flowLogs: { schema: boolean, allowed: "true or false" },
    accessLogs: { schema: boolean, allowed: "true or false" },
    logsKmsKey: { schema: boolean, allowed: "true or false" },
    tracing: { schema: boolean, allowed: "true or false" },
    tracingSampleRatio: { schema: ratio, allowed: "a decimal number above 0 and at most 1, such as 0.05 (5 % of requests traced)" },
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
    pipeline: { schema: z.string(), allowed: 'an object such as {"repository": "acme/berth", "environments": ["dev"]}' },
    database: { schema: z.string(), allowed: "an object of database settings (see README)" },
    secrets: { schema: z.string(), allowed: "an object of per-service secrets" },
} as const;

/** An ACM certificate ARN: `arn:<partition>:acm:<region>:<account>:certificate/<id>`. */
const CERTIFICATE_REGION = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):/;

type Key = keyof typeof KEYS;
type Parsed = { [K in Key]?: z.output<(typeof KEYS)[K]["schema"]> };

const SERVICE_OVERRIDE_KEYS = ["cpu", "memory", "desiredCount", "maxCount", "rollout"] as const;

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
    /** A value as an error shows it: never one set with `--secret`. */
    const show = (key: string, value: unknown) => secretKeys.includes(`${ns}${key}`) ? "a secret (not shown)" : JSON.stringify(value);
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
            problems.push(`${fullKey} is ${show(key, value)}; allowed: ${spec.allowed}`);
        }
    }

    const awsIdentity = parseAwsIdentity(config, problems);
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
            problems.push(`${ns}vpcCidr is ${show("vpcCidr", parsed.vpcCidr)}: ${cidr}`);
        } else if (cidr.prefix < 16 || cidr.prefix + subnetBits(azCount) > MIN_SUBNET_PREFIX) {
            problems.push(
                `${ns}vpcCidr is ${show("vpcCidr", parsed.vpcCidr)}; allowed: a prefix from /16 to ` +
                `/${MIN_SUBNET_PREFIX - subnetBits(azCount)} for ${azCount} AZs (AWS VPCs are /16 to /28, subnets at least /${MIN_SUBNET_PREFIX})`,
            );
        } else {
            for (const [range, what] of RESERVED_RANGES) {
                if (overlaps(cidr, parseCidr(range) as Exclude<ReturnType<typeof parseCidr>, string>)) {
                    problems.push(`${ns}vpcCidr is ${show("vpcCidr", parsed.vpcCidr)}, which overlaps ${range} (${what}); allowed: a range of unicast addresses, best from 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
                }
            }
        }
    }
    const certificateRegion = parsed.certificateArn === undefined ? undefined : CERTIFICATE_REGION.exec(parsed.certificateArn)?.[1];
    if (certificateRegion !== undefined && region && certificateRegion !== region) {
        problems.push(`${ns}certificateArn is ${show("certificateArn", parsed.certificateArn)}, a certificate in ${certificateRegion}; allowed: a certificate in the stack's region ${region} (an ALB uses ACM certificates of its own region)`);
    }
    if (parsed.availabilityZoneIds !== undefined && parsed.azCount !== undefined && parsed.availabilityZoneIds.length !== parsed.azCount) {
        problems.push(`${ns}availabilityZoneIds lists ${parsed.availabilityZoneIds.length} zones (${parsed.availabilityZoneIds.join(", ")}) but ${ns}azCount is ${parsed.azCount}; allowed: exactly azCount zone IDs`);
    }
    const https = parsed.certificateArn !== undefined || parsed.hostedZoneId !== undefined;
    if (parsed.domain !== undefined && !https) {
        problems.push(`${ns}domain is ${show("domain", parsed.domain)} but neither ${ns}hostedZoneId nor ${ns}certificateArn is set; allowed: a domain with the Route 53 hosted zone that holds it (Berth makes the certificate), or with a certificate of your own`);
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
        problems.push(`${ns}domain ${show("domain", parsed.domain)} with the catalogue's subdomains makes ${hostNames.length} names; allowed: at most ${MAX_CERTIFICATE_NAMES}, the names one ACM certificate holds by default`);
    }

    const edge = parsed.edge ?? "gateway";
    let deployed = services;
    if (edge === "alb") {
        const refusals = albEdgeProblems(services, { https, jwt: parsed.edgeJwt !== undefined });
        problems.push(...refusals.map((r) => `${ns}edge is "alb", but ${r}`));
        deployed = refusals.length === 0 ? albEdgeCatalog(services) : services;
    } else if (parsed.edgeJwt !== undefined) {
        problems.push(`${ns}edgeJwt is set while ${ns}edge is "gateway", which reads its own AUTH_* secrets; allowed: ${ns}edgeJwt only with ${ns}edge "alb"`);
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
        natInstanceType: parsed.natInstanceType ?? preset.natInstanceType,
        onDemandBase: parsed.onDemandBase ?? preset.onDemandBase,
        spotPercent: parsed.spotPercent ?? preset.spotPercent,
        requestsPerTarget: parsed.requestsPerTarget ?? preset.requestsPerTarget,
        ecsExec: parsed.ecsExec ?? preset.ecsExec,
        scaleSchedules: parsed.scaleSchedules === undefined
            ? preset.scaleSchedules
            : parseSchedules(`${ns}scaleSchedules`, parsed.scaleSchedules, services, problems),
        database: preset.database,
        wafEnabled: parsed.wafEnabled ?? preset.wafEnabled,
        flowLogs: parsed.flowLogs ?? preset.flowLogs,
        accessLogs: parsed.accessLogs ?? preset.accessLogs,
        logsKmsKey: parsed.logsKmsKey ?? preset.logsKmsKey,
        tracing: parsed.tracing ?? preset.tracing,
        tracingSampleRatio: parsed.tracingSampleRatio ?? preset.tracingSampleRatio,
        rolloutDefaults: preset.rolloutDefaults,
    };
    checkSize(`${ns}cpu/${ns}memory`, merged, problems);
    if (environment === "prod" && merged.natStrategy === "instance") {
        problems.push(
            `${ns}natStrategy is "instance" in a prod stack; allowed in prod: single, perAz (one EC2 instance is a single point ` +
            "of failure with a burstable instance's bandwidth; see README, \"NAT\")",
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

    const pipeline = parsed.pipeline === undefined ? undefined : parsePipeline(`${ns}pipeline`, parsed.pipeline, problems);
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
        for (const [i, schedule] of merged.scaleSchedules.entries()) {
            const applies = schedule.services === undefined || schedule.services.includes(service.name);
            if (applies && schedule.maxCount === undefined && schedule.minCount > s.maxCount) {
                problems.push(
                    `${ns}scaleSchedules[${i}] (${schedule.name}) sets minCount ${schedule.minCount}, above the maxCount ${s.maxCount} of ` +
                    `service ${service.name}; allowed: a minCount up to ${s.maxCount}, or a maxCount of its own`,
                );
            }
        }
        serviceSettings[service.name] = s;
    }
    // Behind the ALB the routed backends roll out as public services do.
    const rollouts = serviceRollouts({
        ns, services: deployed, overrides, defaults: merged.rolloutDefaults, environment,
    }, problems);

    const database = databaseSettings({
        key: `${ns}database`,
        text: parsed.database,
        secret: secretKeys.includes(`${ns}database`),
        preset: preset.database,
        vpcCidr: parsed.vpcCidr,
        azCount: parsed.azCount ?? 2,
        needed: services.some((s) => s.database !== undefined),
    }, problems);
    const secrets = parsed.secrets === undefined
        ? {}
        : parseSecrets(`${ns}secrets`, parsed.secrets, services, secretKeys.includes(`${ns}secrets`), problems);

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    const { cpu: _cpu, memory: _memory, desiredCount: _d, maxCount: _m, database: _db, ...shared } = merged;
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
        edge,
        edgeJwt: parsed.edgeJwt,
        availabilityZoneIds: parsed.availabilityZoneIds,
        buildOnPreview: parsed.buildOnPreview ?? false,
        awsIdentity,
        services: serviceSettings,
        pipeline,
        alarmEmail: parsed.alarmEmail,
        database,
        secrets,
        rollouts,
    };
}

/** An IAM role ARN: `arn:<partition>:iam::<account>:role/<path/name>`. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ACCOUNT_ID = /^\d{12}$/;

/** One role of `aws:assumeRoles`, in the provider's field names; a field Berth does not know is refused. */
const ASSUMED_ROLE = z.strictObject({
    roleArn: z.string().regex(ROLE_ARN),
    externalId: z.string().min(2).max(1224).optional(),
    sessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/).optional(),
    duration: z.string().refine((d) => {
        const seconds = durationSeconds(d);
        return seconds !== undefined && seconds >= 900 && seconds <= 43_200;
    }).optional(),
    sourceIdentity: z.string().regex(/^[\w+=,.@-]{2,64}$/).optional(),
    policy: z.string().optional(),
    policyArns: z.array(z.string()).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    transitiveTagKeys: z.array(z.string()).optional(),
});
const ASSUMED_ROLE_ALLOWED = "{\"roleArn\": \"arn:aws:iam::<account>:role/<name>\"} with optional externalId, sessionName (2-64 of [\\w+=,.@-]), " +
    "duration (15m to 12h, e.g. \"1h\"), sourceIdentity, policy, policyArns, tags, transitiveTagKeys";

const ACCOUNT_IDS = json(z.array(z.string().regex(ACCOUNT_ID)).min(1));
const ONE_FILE = json(z.array(z.string().min(1)).length(1));

/** The `aws:*` keys that carry credentials: refused, and never shown. */
const PLAIN_KEYS = ["accessKey", "secretKey", "token"];

/**
 * The stack's `aws:*` credential settings (see awsIdentity.ts). Berth's provider is explicit, so it reads
 * none of them on its own (pulumi/pulumi-aws#1307): each one it takes is read here, and every other `aws:*`
 * key is refused rather than silently ignored. Plain keys are refused, not carried as secrets: carried, they
 * would be stored, encrypted or not, in the inputs of the provider and of every deployment check, while the
 * environment (`AWS_ACCESS_KEY_ID`, ...) or a profile reaches the provider and the check's SDK alike
 * without being stored anywhere.
 */
function parseAwsIdentity(config: Readonly<Record<string, string>>, problems: string[]): AwsIdentity {
    const identity: AwsIdentity = { assumeRoles: [] };
    const carried = CARRIED_AWS_KEYS.map((k) => `aws:${k}`).join(", ");
    for (const fullKey of Object.keys(config).filter((k) => k.startsWith("aws:"))) {
        const key = fullKey.slice("aws:".length);
        if (PLAIN_KEYS.includes(key)) {
            problems.push(
                `${fullKey} is set (not shown); allowed: unset: give keys through the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ` +
                "AWS_SESSION_TOKEN) or a profile (aws:profile), which Berth's AWS provider and its deployment check both read without storing them",
            );
        } else if (!(CARRIED_AWS_KEYS as readonly string[]).includes(key)) {
            problems.push(
                `${fullKey} is set (not shown); allowed: unset: Berth's own AWS provider reads no aws:* setting by itself (pulumi/pulumi-aws#1307) ` +
                `and takes only ${carried}`,
            );
        }
    }
    const read = <T>(key: string, schema: z.ZodType<T>, allowed: string): T | undefined => {
        const value = config[`aws:${key}`];
        if (value === undefined) {
            return undefined;
        }
        const result = schema.safeParse(value);
        if (!result.success) {
            problems.push(`aws:${key} is ${JSON.stringify(value)}; allowed: ${allowed}`);
            return undefined;
        }
        return result.data;
    };
    identity.profile = read("profile", z.string().min(1), "the name of a profile in the shared AWS config");
    identity.sharedConfigFile = read("sharedConfigFiles", ONE_FILE,
        "a list of one path, e.g. [\"~/.aws/config\"] (the deployment check's AWS SDK reads one file)")?.[0];
    identity.sharedCredentialsFile = read("sharedCredentialsFiles", ONE_FILE,
        "a list of one path, e.g. [\"~/.aws/credentials\"] (the deployment check's AWS SDK reads one file)")?.[0];
    const roles = read("assumeRoles", json(z.array(ASSUMED_ROLE).min(1)), `a list of roles, each ${ASSUMED_ROLE_ALLOWED}`);
    const role = read("assumeRole", json(ASSUMED_ROLE), ASSUMED_ROLE_ALLOWED);
    if (roles !== undefined && role !== undefined) {
        problems.push("aws:assumeRole is set beside aws:assumeRoles; allowed: one of them (aws:assumeRoles for a chain)");
    }
    identity.assumeRoles = (roles ?? (role ? [role] : [])) as AssumedRole[];
    identity.allowedAccountIds = read("allowedAccountIds", ACCOUNT_IDS, "a list of 12-digit account IDs");
    identity.forbiddenAccountIds = read("forbiddenAccountIds", ACCOUNT_IDS, "a list of 12-digit account IDs");
    if (identity.allowedAccountIds !== undefined && identity.forbiddenAccountIds !== undefined) {
        problems.push("aws:forbiddenAccountIds is set beside aws:allowedAccountIds; allowed: one of them (the AWS provider takes one)");
    }
    identity.skipCredentialsValidation = read("skipCredentialsValidation", boolean, "true or false");
    identity.skipRequestingAccountId = read("skipRequestingAccountId", boolean, "true or false");
    return identity;
}

function checkSize(key: string, size: { cpu: number; memory: number }, problems: string[]): void {
    if (!isFargateSize(size.cpu, size.memory)) {
        problems.push(`${key} is cpu ${size.cpu} with memory ${size.memory}, which Fargate does not run; allowed: ${describeFargateMemory(size.cpu)}`);
    }
}

/**
 * Each service's rollout: the catalogue's choice, then `berth:services.<name>.rollout`, the preset filling in
 * what neither sets. Refused, naming the key: a wrong field; a parameter of another strategy; a release
 * expected to take longer than `MAX_RELEASE`.
 */
function serviceRollouts(spec: {
    ns: string;
    services: readonly CatalogService[];
    overrides: Record<string, ServiceOverride>;
    defaults: RolloutDefaults;
    environment: EnvironmentName;
}, problems: string[]): Record<string, Rollout> {
    const out: Record<string, Rollout> = {};
    for (const service of spec.services) {
        const key = `${spec.ns}services.${service.name}.rollout`;
        const given = spec.overrides[service.name]?.rollout;
        // Said where the value comes from when the stack did not set it.
        const source = given === undefined ? ` (from catalog/index.ts${service.rollout ? "" : ": none"})` : "";
        const report = (p: RolloutProblem) => problems.push(`${p.field ? `${key}.${p.field}` : key} is ${JSON.stringify(p.value)}${source}; allowed: ${p.allowed}`);
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
                "so that `pulumi up` in the pipeline's deploy jobs sees the backends' and then the gateway's release through (README, \"Rollout strategies\")",
            );
        }
        out[service.name] = rollout;
    }
    return out;
}

/** The same parsers as the top-level keys, so "3" and 3 mean the same here as there. */
const serviceOverride = z.strictObject({
    cpu: KEYS.cpu.schema.optional(),
    memory: KEYS.memory.schema.optional(),
    desiredCount: KEYS.desiredCount.schema.optional(),
    maxCount: KEYS.maxCount.schema.optional(),
    // Read field by field by parseRolloutChoice, which names each wrong one.
    rollout: z.unknown().optional(),
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

const scheduleShape = z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9-]{1,40}$/),
    schedule: z.string(),
    timezone: z.string().optional(),
    minCount: KEYS.desiredCount.schema,
    maxCount: wholeNumber(0, MAX_TASKS).optional(),
    services: z.array(z.string()).min(1).optional(),
});

const SCHEDULE_FIELDS: Record<string, string> = {
    name: "letters, digits and hyphens, at most 40, unique among the schedules",
    schedule: "cron(minutes hours day-of-month month day-of-week year), at(yyyy-mm-ddThh:mm:ss) or rate(5 minutes)",
    timezone: "an IANA time zone such as Europe/Berlin (default UTC)",
    minCount: KEYS.desiredCount.allowed,
    maxCount: `a whole number from 0 to ${MAX_TASKS}, at least minCount`,
    services: "a non-empty list of catalogue service names",
};

/**
 * `scaleSchedules`: a list such as
 * `[{"name": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "timezone": "Europe/Berlin", "minCount": 0, "maxCount": 0}]`.
 */
function parseSchedules(key: string, text: string, services: readonly CatalogService[], problems: string[]): ScaleSchedule[] {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = undefined;
    }
    if (!Array.isArray(value)) {
        problems.push(`${key} is ${JSON.stringify(text)}; allowed: a list such as [{"name": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "minCount": 0, "maxCount": 0}]`);
        return [];
    }
    const names = services.map((s) => s.name);
    const out: ScaleSchedule[] = [];
    const seen = new Set<string>();
    for (const [i, entry] of value.entries()) {
        const where = `${key}[${i}]`;
        const result = scheduleShape.safeParse(entry);
        if (!result.success) {
            for (const issue of result.error.issues) {
                const field = String(issue.path[0] ?? "");
                problems.push(
                    issue.code === "unrecognized_keys"
                        ? `${where} has unknown keys ${issue.keys.join(", ")}; allowed: ${Object.keys(SCHEDULE_FIELDS).join(", ")}`
                        : field
                            ? `${where}.${field} is ${JSON.stringify((entry as Record<string, unknown>)[field])}; allowed: ${SCHEDULE_FIELDS[field] ?? issue.message}`
                            : `${where} is ${JSON.stringify(entry)}; allowed: an object with ${Object.keys(SCHEDULE_FIELDS).join(", ")}`,
                );
            }
            continue;
        }
        const schedule = result.data;
        const before = problems.length;
        const expressionProblem = scheduleExpressionProblem(schedule.schedule);
        if (expressionProblem) {
            problems.push(`${where}.schedule is ${JSON.stringify(schedule.schedule)}: ${expressionProblem}; allowed: ${SCHEDULE_FIELDS.schedule}`);
        }
        if (schedule.timezone !== undefined && !isTimeZone(schedule.timezone)) {
            problems.push(`${where}.timezone is ${JSON.stringify(schedule.timezone)}; allowed: ${SCHEDULE_FIELDS.timezone}`);
        }
        if (schedule.maxCount !== undefined && schedule.maxCount < schedule.minCount) {
            problems.push(`${where}.maxCount is ${schedule.maxCount}, below its minCount ${schedule.minCount}; allowed: at least minCount`);
        }
        for (const service of schedule.services ?? []) {
            if (!names.includes(service)) {
                problems.push(`${where}.services names ${JSON.stringify(service)}, no service of the catalogue; allowed: ${names.join(", ")}`);
            }
        }
        if (seen.has(schedule.name)) {
            problems.push(`${where}.name is ${JSON.stringify(schedule.name)}, which an earlier schedule has; allowed: ${SCHEDULE_FIELDS.name}`);
        }
        seen.add(schedule.name);
        if (problems.length === before) {
            out.push(schedule);
        }
    }
    return out;
}

/** Each key under `berth:database`: how it is parsed, and what is allowed, in words. */
const DATABASE_KEYS = {
    instanceClass: { schema: z.string().refine(isInstanceClass), allowed: INSTANCE_CLASSES_ALLOWED },
    storageGb: {
        schema: wholeNumber(STORAGE_GIB.min, STORAGE_GIB.max),
        allowed: `a whole number of GiB from ${STORAGE_GIB.min} to ${STORAGE_GIB.max} (gp3)`,
    },
    engineVersion: {
        schema: z.union([z.number(), z.string()]).transform(String)
            .pipe(z.string().refine((v) => /^[1-9][0-9]*(\.[0-9]+)?$/.test(v) && (POSTGRES_MAJOR_VERSIONS as readonly number[]).includes(majorVersion(v)))),
        allowed: `a PostgreSQL major version (${POSTGRES_MAJOR_VERSIONS.join(", ")}) or one of its minor versions such as ${POSTGRES_MAJOR_VERSIONS[POSTGRES_MAJOR_VERSIONS.length - 1]}.6; the parameter group's family follows the major version`,
    },
    multiAz: { schema: boolean, allowed: "true or false" },
    backupRetentionDays: {
        schema: wholeNumber(BACKUP_RETENTION_DAYS.min, BACKUP_RETENTION_DAYS.max),
        allowed: `a whole number of days from ${BACKUP_RETENTION_DAYS.min} to ${BACKUP_RETENTION_DAYS.max} (automated backups stay on)`,
    },
    performanceInsights: { schema: boolean, allowed: "true or false" },
    finalSnapshot: { schema: boolean, allowed: "true or false" },
    cidr: { schema: z.string(), allowed: "an IPv4 network for the isolated subnets (see README)" },
} as const;

/**
 * The database's settings: the preset under `berth:database` overrides, and the range of the isolated
 * subnets, checked against the VPC's layout. Problems go to `problems`.
 */
function databaseSettings(spec: {
    key: string;
    text: string | undefined;
    secret: boolean;
    preset: DatabasePreset;
    vpcCidr: string | undefined;
    azCount: number;
    /** Whether a catalogue service declares the database, so that a range is needed. */
    needed: boolean;
}, problems: string[]): DatabaseSettings {
    const { key } = spec;
    const overrides: Record<string, unknown> = {};
    const value = spec.text === undefined ? {} : parseObject(key, spec.text, spec.secret, problems);
    for (const [field, given] of Object.entries(value ?? {})) {
        if (!(field in DATABASE_KEYS)) {
            problems.push(`${key}.${field} is not a database setting; allowed keys: ${Object.keys(DATABASE_KEYS).join(", ")}`);
            continue;
        }
        const rule = DATABASE_KEYS[field as keyof typeof DATABASE_KEYS];
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

/** A JSON object given as text, or undefined after reporting why not (never echoing a secret). */
function parseObject(key: string, text: string, secret: boolean, problems: string[]): Record<string, unknown> | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${key} is ${secret ? "a secret (not shown)" : JSON.stringify(text)}; allowed: an object, set key by key with \`pulumi config set --path '${key}.<key>' <value>\``);
        return undefined;
    }
    return value as Record<string, unknown>;
}

/** Secret variable names: upper case, as the catalogue's and the gateway's `AUTH_*` are. */
const SECRET_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * `berth:secrets`: per service, variable name to either an existing secret's ARN or a value set with
 * `pulumi config set --secret --path 'berth:secrets.<service>.<VARIABLE>' <value>`, which the stack stores in
 * a Secrets Manager secret. No message ever shows a value: values are secrets, and a mistyped ARN may be a
 * pasted value.
 */
function parseSecrets(
    key: string,
    text: string,
    services: readonly CatalogService[],
    secret: boolean,
    problems: string[],
): Record<string, ServiceSecret[]> {
    const value = parseObject(key, text, true, problems);
    const out: Record<string, ServiceSecret[]> = {};
    const names = services.map((s) => s.name);
    for (const [serviceName, variables] of Object.entries(value ?? {})) {
        const service = services.find((s) => s.name === serviceName);
        if (!service) {
            problems.push(`${key}.${serviceName} names no service of the catalogue; allowed: ${names.join(", ")}`);
            continue;
        }
        if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
            problems.push(`${key}.${serviceName} is not an object; allowed: variable names to values or ARNs, set one by one with \`pulumi config set --secret --path '${key}.${serviceName}.<VARIABLE>' <value>\``);
            continue;
        }
        const taken = reservedVariables(service, services);
        const list: ServiceSecret[] = [];
        for (const [name, given] of Object.entries(variables)) {
            const where = `${key}.${serviceName}.${name}`;
            if (!SECRET_NAME.test(name)) {
                problems.push(`${where}: "${name}" is not a variable name Berth takes; allowed: upper-case letters, digits and _, not starting with a digit`);
            } else if (taken.includes(name)) {
                problems.push(`${where}: ${name} is a variable Berth sets on ${serviceName} itself (${taken.join(", ")}); allowed: another name`);
            } else if (typeof given !== "string" || given === "") {
                problems.push(`${where} is empty or not text (value not shown); allowed: a value set with --secret, or ${SECRET_REFERENCES_ALLOWED}`);
            } else {
                const reference = parseSecretReference(given);
                if (reference === "invalid") {
                    problems.push(`${where} starts with "arn:" but is no reference Berth can read (value not shown); allowed: ${SECRET_REFERENCES_ALLOWED}`);
                } else if (reference) {
                    list.push({ name, ...reference });
                } else if (!secret) {
                    problems.push(
                        `${where} holds a value in plain text in the stack's configuration (value not shown); allowed: the value set ` +
                        `with \`pulumi config set --secret --path '${where}' <value>\`, or ${SECRET_REFERENCES_ALLOWED}`,
                    );
                } else {
                    list.push({ name, kind: "value", value: pulumi.secret(given) });
                }
            }
        }
        out[serviceName] = list;
    }
    return out;
}

/** The variables a service gets from Berth itself, which a secret may not replace. */
function reservedVariables(service: CatalogService, services: readonly CatalogService[]): string[] {
    const environment = Object.keys(serviceEnvironment(service, services, { addressOf: () => "" }));
    const database = service.database ? [...Object.values(service.database.env), DATABASE_TLS_VARIABLE] : [];
    // Whether or not this stack traces: turning tracing on must not collide with a secret set earlier.
    return [...environment, ...database, ...TRACING_VARIABLES];
}

/** The stack's settings, read from Pulumi's configuration of this run. */
export function settingsFromStack(services: readonly CatalogService[]): Settings {
    const config = pulumi.runtime.allConfig();
    return loadSettings(
        config,
        { project: pulumi.getProject(), stack: pulumi.getStack() },
        services,
        Object.keys(config).filter(isConfigSecret),
    );
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

// --- berth:pipeline: the GitHub Actions pipeline's access to AWS (components/pipeline/deployAccess.ts) ---

/** Who may deploy the stack from GitHub Actions, and with which OIDC provider. */
export interface PipelineSettings {
    /** `owner/name`, or `owner@<owner id>/name@<repo id>` for immutable subject claims. */
    repository: string;
    /** Branches whose push jobs (without a GitHub environment) may assume the deploy role. */
    branches: string[];
    /** GitHub environments whose jobs may assume the deploy role. */
    environments: string[];
    /** Whether pull requests get a read-only role for `pulumi preview`. */
    pullRequests: boolean;
    /** The account's existing GitHub OIDC provider; without it the stack creates one. */
    oidcProviderArn?: string;
}

const PIPELINE_FIELDS = {
    repository: {
        schema: z.string().regex(GITHUB_REPOSITORY),
        allowed: "a GitHub repository as owner/name, or owner@<owner id>/name@<repository id> when it emits immutable subject claims",
    },
    branches: { schema: z.array(z.string().regex(GIT_BRANCH)), allowed: "a list of branch names such as [main], without wildcards" },
    environments: {
        schema: z.array(z.string().regex(GITHUB_ENVIRONMENT)),
        allowed: "a list of GitHub environment names of letters, digits, \".\", \"_\" and \"-\", such as [prod]",
    },
    pullRequests: {
        schema: z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]),
        allowed: "true or false",
    },
    oidcProviderArn: {
        schema: z.string().regex(GITHUB_OIDC_PROVIDER_ARN),
        allowed: "the ARN of the account's GitHub OIDC provider, arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    },
} as const;
const PIPELINE_KEYS = Object.keys(PIPELINE_FIELDS) as (keyof typeof PIPELINE_FIELDS)[];

function parsePipeline(key: string, text: string, problems: string[]): PipelineSettings | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = text;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${key} is ${JSON.stringify(value)}; allowed: ${KEYS.pipeline.allowed}`);
        return undefined;
    }
    const fields = value as Record<string, unknown>;
    const before = problems.length;
    const unknown = Object.keys(fields).filter((k) => !(k in PIPELINE_FIELDS));
    if (unknown.length > 0) {
        problems.push(`${key} has unknown keys ${unknown.join(", ")}; allowed: ${PIPELINE_KEYS.join(", ")}`);
    }
    const out: Partial<PipelineSettings> = {};
    for (const field of PIPELINE_KEYS) {
        if (fields[field] === undefined) {
            continue;
        }
        const result = PIPELINE_FIELDS[field].schema.safeParse(fields[field]);
        if (result.success) {
            (out as Record<string, unknown>)[field] = result.data;
        } else {
            problems.push(`${key}.${field} is ${JSON.stringify(fields[field])}; allowed: ${PIPELINE_FIELDS[field].allowed}`);
        }
    }
    if (fields.repository === undefined) {
        problems.push(`${key}.repository is not set; allowed: ${PIPELINE_FIELDS.repository.allowed}`);
    }
    const listed = [fields.branches, fields.environments].reduce<number>((n, list) => n + (Array.isArray(list) ? list.length : 0), 0);
    if (listed === 0) {
        problems.push(`${key} names no branches and no environments; allowed: at least one, or the deploy role trusts no workflow`);
    }
    if (problems.length > before) {
        return undefined;
    }
    return {
        repository: out.repository!,
        branches: out.branches ?? [],
        environments: out.environments ?? [],
        pullRequests: out.pullRequests ?? false,
        oidcProviderArn: out.oidcProviderArn,
    };
}

/**
 * The stack's region and credential settings alone, as `berth` (cli/) reads them from `pulumi config`: the
 * same parsing as the program's provider, so the command line acts as the principal that deployed the stack.
 */
export function stackAwsAccess(config: Readonly<Record<string, string>>): { region: string; identity: AwsIdentity } {
    const problems: string[] = [];
    const region = config["aws:region"];
    if (!region) {
        problems.push("aws:region is not set; set it with `pulumi config set aws:region us-east-1` (or your region)");
    }
    const identity = parseAwsIdentity(config, problems);
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { region: region!, identity };
}
