/**
 * The permissions boundary every role of the stack carries; its document is `roleBoundaryPolicy`
 * (core/roleBoundaryPolicy.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { roleBoundaryPolicy, type BoundaryContext } from "../../core/roleBoundaryPolicy";
import { childName } from "../../core/naming";

export interface RoleBoundaryArgs extends Omit<BoundaryContext, "partition" | "account" | "referencedSecretArns" | "referencedParameterArns" | "databaseArn"> {
    /** The managed policy's name, e.g. `berth-dev-role-boundary`. */
    policyName: string;
    /** The IAM path, the stack's (`stackRolePath`). */
    path: string;
    /** Secrets outside the stack that its services read (exact ARNs). @default [] */
    referencedSecretArns?: pulumi.Input<string>[];
    /** SSM parameters its services read (exact ARNs). @default [] */
    referencedParameterArns?: pulumi.Input<string>[];
    /**
     * The database instance's identifier, when the stack has one.
     * @default no database
     */
    databaseIdentifier?: string;
}

/**
 * Creates the managed policy every role of the stack carries as its permissions boundary. A human's
 * `pulumi up` creates and changes it, as it does the deploy role: the deploy role may read it, never write it.
 */
export class RoleBoundary extends pulumi.ComponentResource {
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: RoleBoundaryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:iam:RoleBoundary", name, {}, opts);
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const policy = new aws.iam.Policy(
            childName(name, "role-boundary"),
            {
                name: args.policyName,
                path: args.path,
                description: "The most any role of this stack may do; the deploy role creates and changes roles only with it",
                policy: pulumi
                    .all([partition, identity.accountId, pulumi.output(args.referencedSecretArns ?? []), pulumi.output(args.referencedParameterArns ?? [])])
                    .apply(([p, account, secrets, parameters]) =>
                        JSON.stringify(
                            roleBoundaryPolicy({
                                partition: p,
                                account,
                                region: args.region,
                                stackTags: args.stackTags,
                                logGroupPrefixes: args.logGroupPrefixes,
                                secretPrefixes: args.secretPrefixes,
                                referencedSecretArns: secrets,
                                referencedParameterArns: parameters,
                                databaseArn:
                                    args.databaseIdentifier === undefined ? undefined : `arn:${p}:rds:${args.region}:${account}:db:${args.databaseIdentifier}`,
                            }),
                        ),
                    ),
            },
            { parent: this },
        );
        this.arn = policy.arn;
        this.registerOutputs({ arn: this.arn });
    }
}
