import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

export interface LogsKeyArgs {
    /** The region whose CloudWatch Logs service may use the key. */
    region: string;
    /**
     * Days KMS waits before deleting the key once it is deleted (7 to 30): log groups it encrypted become
     * unreadable when it goes.
     * @default 30
     */
    deletionWindowDays?: number;
    /**
     * `pulumi destroy` refuses to delete the key (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
    /**
     * Deleting the stack keeps the key, for log groups that are kept too.
     * @default false
     */
    retainOnDelete?: boolean;
}

/**
 * A customer managed KMS key for the stack's CloudWatch Logs log groups (cloudwatch-log-group-encrypted).
 *
 * Creates: the key, with yearly rotation (cmk-backing-key-rotation-enabled) and the key policy CloudWatch
 * Logs needs: the account administers the key, and the regional CloudWatch Logs service principal may use
 * it only for this account's log groups (kms:EncryptionContext:aws:logs:arn), as AWS documents in
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html; and an alias.
 */
export class LogsKey extends pulumi.ComponentResource {
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: LogsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:logs:LogsKey", name, {}, opts);
        const window = args.deletionWindowDays ?? 30;
        if (!Number.isInteger(window) || window < 7 || window > 30) {
            throw new Error(`LogsKey "${name}": "deletionWindowDays" must be 7 to 30, got ${window}`);
        }
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this });
        const key = new aws.kms.Key(
            childName(name, "key"),
            {
                description: `CloudWatch Logs of ${name}`,
                enableKeyRotation: true,
                deletionWindowInDays: window,
                policy: pulumi.jsonStringify(logsKeyPolicy(args.region, identity.accountId, partition.partition)),
            },
            { parent: this, protect: args.protect ?? false, retainOnDelete: args.retainOnDelete ?? false },
        );
        new aws.kms.Alias(
            childName(name, "alias"),
            {
                namePrefix: `alias/${name}-logs-`,
                targetKeyId: key.keyId,
            },
            { parent: this },
        );
        this.arn = key.arn;
        this.registerOutputs({ arn: this.arn });
    }
}

/** The key policy of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html. */
export function logsKeyPolicy(region: string, account: pulumi.Input<string>, partition: pulumi.Input<string>): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersTheKey",
                Effect: "Allow",
                Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "CloudWatchLogsUsesTheKeyForThisAccountsLogGroups",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: {
                    ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${account}:log-group:*` },
                },
            },
        ],
    };
}
