/**
 * Who the stack acts as in AWS: the credential settings of the stack's `aws:*` configuration that Berth
 * carries to its own AWS provider and to the deployment check, so that both act as the same principal.
 *
 * An explicit `aws.Provider` reads none of the `aws:*` stack configuration: only its own arguments and the
 * environment, "by design" (pulumi/pulumi-aws#1307). Berth creates one explicit provider for every resource
 * and invoke, so each setting below is read in config/, handed to that provider, and to the deployment
 * check's AWS SDK clients; every other `aws:*` key is refused there.
 *
 * Pure: types, mappings, and the credentials they name (the deployment check serializes what it uses; the
 * AWS SDK loads only when credentials are asked for).
 */

/** One role of the chain, as the provider's `assumeRoles` item takes it (`aws:assumeRoles`). */
export interface AssumedRole {
    roleArn: string;
    externalId?: string;
    sessionName?: string;
    /** The provider's form, e.g. `1h` or `15m` (Go duration syntax; 15 minutes to 12 hours). */
    duration?: string;
    sourceIdentity?: string;
    policy?: string;
    policyArns?: string[];
    tags?: Record<string, string>;
    transitiveTagKeys?: string[];
}

/** The credential settings of a stack; everything unset means the AWS SDK's default chain. */
export interface AwsIdentity {
    /** `aws:profile`: the shared-config profile (SSO, `credential_process`, `role_arn` chains included). */
    profile?: string;
    /** `aws:sharedConfigFiles`: one file in place of `~/.aws/config`. */
    sharedConfigFile?: string;
    /** `aws:sharedCredentialsFiles`: one file in place of `~/.aws/credentials`. */
    sharedCredentialsFile?: string;
    /** `aws:assumeRoles` (or the single `aws:assumeRole`): roles assumed in order, each with the one before. */
    assumeRoles: AssumedRole[];
    /** `aws:allowedAccountIds`: the provider refuses any other account. */
    allowedAccountIds?: string[];
    /** `aws:forbiddenAccountIds`: the provider refuses these accounts. */
    forbiddenAccountIds?: string[];
    /** `aws:skipCredentialsValidation`: the provider skips its STS GetCallerIdentity check. */
    skipCredentialsValidation?: boolean;
    /** `aws:skipRequestingAccountId`: the provider does not look up the account ID. */
    skipRequestingAccountId?: boolean;
}

/** The `aws:*` keys Berth carries to its provider: `aws:region` and the credential settings of `AwsIdentity`. */
export const CARRIED_AWS_KEYS = [
    "region",
    "profile",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "assumeRoles",
    "assumeRole",
    "allowedAccountIds",
    "forbiddenAccountIds",
    "skipCredentialsValidation",
    "skipRequestingAccountId",
] as const;

/** Seconds of a provider duration (`1h30m`, `900s`), or undefined when it is not of that form. */
export function durationSeconds(text: string): number | undefined {
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!match || text === "") {
        return undefined;
    }
    return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** The identity's settings as `aws.Provider` takes them. */
export function providerCredentials(identity: AwsIdentity): {
    profile?: string;
    sharedConfigFiles?: string[];
    sharedCredentialsFiles?: string[];
    assumeRoles?: AssumedRole[];
    allowedAccountIds?: string[];
    forbiddenAccountIds?: string[];
    skipCredentialsValidation?: boolean;
    skipRequestingAccountId?: boolean;
} {
    return {
        profile: identity.profile,
        sharedConfigFiles: identity.sharedConfigFile !== undefined ? [identity.sharedConfigFile] : undefined,
        sharedCredentialsFiles: identity.sharedCredentialsFile !== undefined ? [identity.sharedCredentialsFile] : undefined,
        assumeRoles: identity.assumeRoles.length > 0 ? identity.assumeRoles : undefined,
        allowedAccountIds: identity.allowedAccountIds,
        forbiddenAccountIds: identity.forbiddenAccountIds,
        skipCredentialsValidation: identity.skipCredentialsValidation,
        skipRequestingAccountId: identity.skipRequestingAccountId,
    };
}

/** What the deployment check needs to act as the same principal (the account guards stay with the provider). */
export type CheckIdentity = Pick<AwsIdentity, "profile" | "sharedConfigFile" | "sharedCredentialsFile" | "assumeRoles">;

export function checkIdentity(identity: AwsIdentity): CheckIdentity {
    const { profile, sharedConfigFile, sharedCredentialsFile, assumeRoles } = identity;
    return { profile, sharedConfigFile, sharedCredentialsFile, assumeRoles };
}

/**
 * The credentials of the stack's identity, as the AWS provider resolves them from the same settings: the
 * profile and shared files through the SDK's default chain, then each role of the chain assumed with the
 * credentials before it (STS AssumeRole with its external ID, session name and duration). Undefined: the
 * SDK's default chain, as the provider's without settings.
 */
export function credentialsFor(identity: CheckIdentity | undefined, region: string): import("@aws-sdk/types").AwsCredentialIdentityProvider | undefined {
    if (!identity || (!identity.profile && !identity.sharedConfigFile && !identity.sharedCredentialsFile && (identity.assumeRoles ?? []).length === 0)) {
        return undefined;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const providers = require("@aws-sdk/credential-providers") as typeof import("@aws-sdk/credential-providers");
    let credentials = providers.fromNodeProviderChain({
        profile: identity.profile || undefined,
        filepath: identity.sharedCredentialsFile,
        configFilepath: identity.sharedConfigFile,
    });
    for (const role of identity.assumeRoles ?? []) {
        const seconds = role.duration ? durationSeconds(role.duration) : undefined;
        credentials = providers.fromTemporaryCredentials({
            masterCredentials: credentials,
            clientConfig: { region },
            params: {
                RoleArn: role.roleArn,
                ExternalId: role.externalId,
                RoleSessionName: role.sessionName,
                DurationSeconds: seconds,
                SourceIdentity: role.sourceIdentity,
                Policy: role.policy,
                PolicyArns: role.policyArns?.map((arn) => ({ arn })),
                Tags: role.tags ? Object.entries(role.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
                TransitiveTagKeys: role.transitiveTagKeys,
            },
        });
    }
    return credentials;
}
