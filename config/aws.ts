/** The stack's `aws:*` settings: the region and the credentials Berth's provider and deployment check act with. */
import { z } from "zod";
import { CARRIED_AWS_KEYS, durationSeconds, type AssumedRole, type AwsIdentity } from "../core/awsIdentity";
import { ConfigError } from "./errors";
import { boolean, json } from "./parsers";

/** An IAM role ARN: `arn:<partition>:iam::<account>:role/<path/name>`. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ACCOUNT_ID = /^\d{12}$/;

/** One role of `aws:assumeRoles`, in the provider's field names; a field Berth does not know is refused. */
const ASSUMED_ROLE = z.strictObject({
    roleArn: z.string().regex(ROLE_ARN),
    externalId: z.string().min(2).max(1224).optional(),
    sessionName: z
        .string()
        .regex(/^[\w+=,.@-]{2,64}$/)
        .optional(),
    duration: z
        .string()
        .refine((d) => {
            const seconds = durationSeconds(d);
            return seconds !== undefined && seconds >= 900 && seconds <= 43_200;
        })
        .optional(),
    sourceIdentity: z
        .string()
        .regex(/^[\w+=,.@-]{2,64}$/)
        .optional(),
    policy: z.string().optional(),
    policyArns: z.array(z.string()).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    transitiveTagKeys: z.array(z.string()).optional(),
});
const ASSUMED_ROLE_ALLOWED =
    '{"roleArn": "arn:aws:iam::<account>:role/<name>"} with optional externalId, sessionName (2-64 of [\\w+=,.@-]), ' +
    'duration (15m to 12h, e.g. "1h"), sourceIdentity, policy, policyArns, tags, transitiveTagKeys';

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
export function parseAwsIdentity(config: Readonly<Record<string, string>>, problems: string[]): AwsIdentity {
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
    identity.sharedConfigFile = read(
        "sharedConfigFiles",
        ONE_FILE,
        'a list of one path, e.g. ["~/.aws/config"] (the deployment check\'s AWS SDK reads one file)',
    )?.[0];
    identity.sharedCredentialsFile = read(
        "sharedCredentialsFiles",
        ONE_FILE,
        'a list of one path, e.g. ["~/.aws/credentials"] (the deployment check\'s AWS SDK reads one file)',
    )?.[0];
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

/** `aws:region`, which every stack must set; undefined after reporting that it is not set. */
export function regionOf(config: Readonly<Record<string, string>>, problems: string[]): string | undefined {
    const region = config["aws:region"];
    if (!region) {
        problems.push("aws:region is not set; set it with `pulumi config set aws:region us-east-1` (or your region)");
    }
    return region || undefined;
}

/**
 * The stack's region and credential settings alone, as `berth` (cli/) reads them from `pulumi config`: the
 * same parsing as the program's provider, so the command line acts as the principal that deployed the stack.
 */
export function stackAwsAccess(config: Readonly<Record<string, string>>): { region: string; identity: AwsIdentity } {
    const problems: string[] = [];
    const region = regionOf(config, problems);
    const identity = parseAwsIdentity(config, problems);
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { region: region!, identity };
}
