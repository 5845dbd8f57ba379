/** The zod parsers the settings share, and the limits they check. */
import { z } from "zod";

/** Log retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const MAX_AZ_COUNT = 6;
/** Names one ACM certificate holds by default: the domain and 9 more (ACM quota "Domain names per certificate", 10). */
export const MAX_CERTIFICATE_NAMES = 10;
export const MAX_TASKS = 100;

/**
 * A whole number written in decimal digits, given as a number or as its text (the Pulumi CLI hands every
 * top-level value over as text; values set with `--path` may arrive as JSON numbers). "", "0x3", "1e2",
 * " 3" and "3.0" are refused, which `Number()` would accept.
 */
export const wholeNumber = (min: number, max: number) =>
    z
        .union([
            z.number(),
            z
                .string()
                .regex(/^(0|[1-9][0-9]*)$/)
                .transform(Number),
        ])
        .pipe(z.number().int().min(min).max(max));

/** Tasks per service, as `desiredCount` and a schedule's `minCount` take them. */
export const TASK_COUNT = wholeNumber(0, MAX_TASKS);
export const TASK_COUNT_ALLOWED = `a whole number from 0 to ${MAX_TASKS}`;

export const boolean = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

/** A decimal fraction above 0 and at most 1, as a number or its text ("0.05", "1"); not "", ".5e0" or "5%". */
export const ratio = z
    .union([
        z.number(),
        z
            .string()
            .regex(/^(0|1)(\.[0-9]+)?$/)
            .transform(Number),
    ])
    .pipe(z.number().gt(0).max(1));

/** Availability zone IDs as AWS names them: `use1-az1`, `euw1-az3`, `usw2-lax1-az1`. */
export const ZONE_ID = /^[a-z]{2,4}[0-9](-[a-z]+[0-9]*)?-az[0-9]+$/;

/** JSON text (as the CLI hands over objects and lists) or the value itself. */
export const json = <T extends z.ZodType>(schema: T) =>
    z
        .union([
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
        ])
        .pipe(schema);

/** JSON text only: a list set with `--path` reaches the program as text. */
export const jsonText = <T extends z.ZodType>(schema: T) =>
    z
        .string()
        .transform((text, ctx) => {
            try {
                return JSON.parse(text) as unknown;
            } catch {
                ctx.addIssue({ code: "custom", message: "not JSON" });
                return z.NEVER;
            }
        })
        .pipe(schema);

/**
 * Blocks that hold no unicast host addresses (RFC 6890): a VPC there cannot work. AWS accepts a VPC range
 * from /16 to /28 and recommends the RFC 1918 ranges, publicly routable ones being possible
 * (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html); 169.254.0.0/16 is where every
 * VPC's instance metadata and Amazon DNS (169.254.169.253) answer.
 */
export const RESERVED_RANGES: ReadonlyArray<readonly [string, string]> = [
    ["0.0.0.0/8", '"this network"'],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local, used by the instance metadata service and the Amazon DNS server"],
    ["224.0.0.0/4", "multicast"],
    ["240.0.0.0/4", "reserved, and the broadcast address"],
];

/** An ACM certificate ARN: `arn:<partition>:acm:<region>:<account>:certificate/<id>`; group 1 is the region. */
export const CERTIFICATE_REGION = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):/;

/** A JSON object given as text, or undefined after reporting why not (never echoing a secret). */
export function parseObject(key: string, text: string, secret: boolean, problems: string[]): Record<string, unknown> | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(
            `${key} is ${secret ? "a secret (not shown)" : JSON.stringify(text)}; allowed: an object, set key by key with \`pulumi config set --path '${key}.<key>' <value>\``,
        );
        return undefined;
    }
    return value as Record<string, unknown>;
}
