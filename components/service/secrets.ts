import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

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
        const secret = new aws.secretsmanager.Secret(
            childName(name, role),
            {
                namePrefix: `${args.namePrefix}${variable}-`,
                description: `${variable} of ${name}, set with pulumi config set --secret`,
                recoveryWindowInDays: args.recoveryWindowDays ?? 30,
            },
            { parent },
        );
        versions.push(
            new aws.secretsmanager.SecretVersion(
                childName(name, `${role}-value`),
                {
                    secretId: secret.id,
                    secretString: pulumi.secret(value),
                },
                { parent },
            ),
        );
        arns[variable] = secret.arn;
    }
    return { arns, versions };
}
