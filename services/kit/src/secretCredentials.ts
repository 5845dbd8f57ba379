import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** Credentials as the secret RDS manages holds them (JSON keys `username` and `password`). */
export interface DatabaseCredentials {
    username: string;
    password: string;
}

/**
 * Where the current credentials come from when the server refuses the ones in hand, e.g. the secret RDS
 * manages, read again with the task role (`secretsManagerCredentials`).
 */
export type CredentialSource = () => Promise<DatabaseCredentials>;

/**
 * The credentials in a Secrets Manager secret of the form RDS manages (`{"username": ..., "password": ...}`,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html), read with the task role
 * (the SDK finds its credentials on ECS's container endpoint) each time the source is called. The client is
 * made at the first call, so a service whose password is never refused never loads it.
 */
export function secretsManagerCredentials(secretArn: string): CredentialSource {
    let client: SecretsManagerClient | undefined;
    return async () => {
        // The region is the secret's own, the fourth field of its ARN.
        client ??= new SecretsManagerClient({ region: secretArn.split(":")[3] });
        const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
        return parseCredentials(SecretString);
    };
}

/** `username` and `password` of a secret's JSON; an error that never repeats the secret otherwise. */
export function parseCredentials(secretString: string | undefined): DatabaseCredentials {
    let value: unknown;
    try {
        value = JSON.parse(secretString ?? "");
    } catch {
        throw new Error("the database secret is not JSON");
    }
    const { username, password } = (value ?? {}) as Partial<Record<string, unknown>>;
    if (typeof username !== "string" || typeof password !== "string") {
        throw new Error("the database secret has no string username and password");
    }
    return { username, password };
}
