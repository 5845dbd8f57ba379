import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../naming";

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
const SECRETS_MANAGER_ARN =
    /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6})(:[^:]*:[^:]*:[^:]*)?$/;

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

export interface StoredSecretsArgs {
    /** Variable name to value: each becomes a Secrets Manager secret. The values stay Pulumi secrets. */
    values: Record<string, pulumi.Input<string>>;
    /**
     * The beginning of each secret's name, e.g. `berth/dev/api/`: the variable's name and a random suffix
     * follow, so that a secret deleted with its recovery window pending never blocks a new one.
     */
    namePrefix: string;
    /**
     * Days Secrets Manager keeps a deleted secret recoverable, 7 to 30; 0 deletes it at once.
     * @default 30
     */
    recoveryWindowDays?: number;
}

/** What `createStoredSecrets` made. */
export interface StoredSecrets {
    /** Each secret's ARN, by variable name. */
    arns: Record<string, pulumi.Output<string>>;
    /** The secrets' values: a task started before them would find a secret without a value and fail. */
    versions: aws.secretsmanager.SecretVersion[];
}

/**
 * Stores each value in a Secrets Manager secret of its own, encrypted with the account's
 * `aws/secretsmanager` key. The value is passed as a Pulumi secret, so the state keeps it encrypted.
 */
export function createStoredSecrets(name: string, args: StoredSecretsArgs, parent: pulumi.Resource): StoredSecrets {
    const arns: Record<string, pulumi.Output<string>> = {};
    const versions: aws.secretsmanager.SecretVersion[] = [];
    for (const [variable, value] of Object.entries(args.values)) {
        // The variable's name is a stable key, as the catalogue and the stack name it.
        const role = `secret-${variable.toLowerCase().replace(/_/g, "-")}`;
        const secret = new aws.secretsmanager.Secret(childName(name, role), {
            namePrefix: `${args.namePrefix}${variable}-`,
            description: `${variable} of ${name}, set with pulumi config set --secret`,
            recoveryWindowInDays: args.recoveryWindowDays ?? 30,
        }, { parent });
        versions.push(new aws.secretsmanager.SecretVersion(childName(name, `${role}-value`), {
            secretId: secret.id,
            secretString: pulumi.secret(value),
        }, { parent }));
        arns[variable] = secret.arn;
    }
    return { arns, versions };
}
