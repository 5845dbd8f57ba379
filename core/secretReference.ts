/** Which stack values name an existing secret rather than hold one: pure, for config/ and the component. */

/**
 * An existing secret a service reads: ECS fills the variable from it at start
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html).
 */
export interface SecretReference {
    kind: "secretsmanager" | "ssm";
    /** What the container definition's `valueFrom` names: the ARN, with a Secrets Manager JSON key if any. */
    valueFrom: string;
    /** What the execution role's policy names: the secret's or the parameter's ARN. */
    resourceArn: string;
}

/**
 * A Secrets Manager secret's full ARN (`…:secret:<name>-<6 characters>`), optionally followed by
 * `:<json key>:<version stage>:<version id>`
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
 */
const SECRETS_MANAGER_ARN = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6})(:[^:]*:[^:]*:[^:]*)?$/;

/** An SSM Parameter Store parameter's ARN: `arn:aws:ssm:<region>:<account>:parameter/<name>`. */
const PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9/_.-]+$/;

/** What a reference may look like, in words, for errors. */
export const SECRET_REFERENCES_ALLOWED =
    "a Secrets Manager secret's full ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, " +
    "optionally followed by :<json key>:<version stage>:<version id>) or an SSM parameter's ARN " +
    "(arn:aws:ssm:<region>:<account>:parameter/<name>)";

/**
 * Reads a value as a reference to an existing secret: a reference if it is one of the two ARN forms, `"invalid"`
 * if it starts with `arn:` but is neither (a mistyped reference must not be stored as a secret value), and
 * undefined if it is a value to store.
 */
export function parseSecretReference(value: string): SecretReference | "invalid" | undefined {
    const secret = SECRETS_MANAGER_ARN.exec(value);
    if (secret) {
        return { kind: "secretsmanager", valueFrom: value, resourceArn: secret[1] };
    }
    if (PARAMETER_ARN.test(value)) {
        return { kind: "ssm", valueFrom: value, resourceArn: value };
    }
    return value.startsWith("arn:") ? "invalid" : undefined;
}
