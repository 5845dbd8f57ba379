import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

/** Where the VPC's flow logs go. */
export interface FlowLogsArgs {
    /** The log group's name, e.g. `/berth/prod/vpc-flow-logs`. */
    logGroupName: string;
    /** Days CloudWatch Logs keeps the flow logs. */
    retentionDays: number;
    /**
     * The KMS key (ARN) that encrypts the log group.
     * @default none: CloudWatch Logs' own encryption
     */
    kmsKeyArn?: pulumi.Input<string>;
    /**
     * Deleting the stack keeps the log group.
     * @default false
     */
    retainOnDelete?: boolean;
}

/** What the network passes on of its own arguments (see `NetworkArgs`). */
interface FlowLogsScope {
    protect: boolean;
    permissionsBoundary?: pulumi.Input<string>;
    rolePath?: string;
}

/**
 * Flow logs of every flow, accepted or rejected, to CloudWatch Logs through a role the flow-logs service
 * assumes for this account only (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
 * Creates the log group, the role with its policy, and the flow log, children of `parent` named after `name`.
 */
export function createFlowLogs(name: string, vpc: aws.ec2.Vpc, args: FlowLogsArgs & FlowLogsScope, parent: pulumi.Resource): aws.ec2.FlowLog {
    const logGroup = new aws.cloudwatch.LogGroup(
        childName(name, "flow-logs"),
        {
            name: args.logGroupName,
            retentionInDays: args.retentionDays,
            kmsKeyId: args.kmsKeyArn,
        },
        { parent, protect: args.protect, retainOnDelete: args.retainOnDelete ?? false },
    );
    const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const role = new aws.iam.Role(
        childName(name, "flow-logs-role"),
        {
            path: args.rolePath,
            permissionsBoundary: args.permissionsBoundary,
            description: "VPC flow logs write to their log group",
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                        Action: "sts:AssumeRole",
                        Condition: { StringEquals: { "aws:SourceAccount": account } },
                    },
                ],
            }),
        },
        { parent },
    );
    new aws.iam.RolePolicy(
        childName(name, "flow-logs-policy"),
        {
            role: role.name,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                        Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
                    },
                ],
            }),
        },
        { parent },
    );
    return new aws.ec2.FlowLog(
        childName(name, "flow-log"),
        {
            vpcId: vpc.id,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: logGroup.arn,
            iamRoleArn: role.arn,
            maxAggregationInterval: 600,
            tags: { Name: childName(name, "flow-log") },
        },
        { parent },
    );
}
