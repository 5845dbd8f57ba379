import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LOG_DELIVERY_ACTIONS } from "../../core/logDelivery";

export interface LoggedStateMachineArgs {
    /** The logical names of the role's log delivery policy, the log group and the state machine. */
    names: { logPolicy: string; logGroup: string; stateMachine: string };
    /** The role the state machine runs as; it gets the log delivery rights here. */
    role: aws.iam.Role;
    /** The state machine's definition (Amazon States Language, as JSON). */
    definition: pulumi.Input<string>;
    /** Where every execution's events go. */
    logs: StateMachineLogsArgs;
}

/** A state machine's log group. */
export interface StateMachineLogsArgs {
    /**
     * The log group's name. Step Functions delivers its logs as vended logs; a name under `/aws/vendedlogs/`
     * keeps each new group out of the account's size-limited CloudWatch Logs resource policy
     * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html).
     * @example "/aws/vendedlogs/states/berth-dev-secret-restart"
     */
    groupName: string;
    /** Days CloudWatch Logs keeps the executions' logs. */
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
    /**
     * `pulumi destroy` refuses to delete the log group (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
}

/**
 * A standard Step Functions state machine that logs every execution, with its input and output, to a log group
 * of its own; so the caller passes only machines whose input and output carry nothing secret. Creates the role's
 * log delivery policy, the log group and the state machine (the secret restart's and each job's).
 */
export function createLoggedStateMachine(args: LoggedStateMachineArgs, parent: pulumi.Resource): aws.sfn.StateMachine {
    const logDelivery = new aws.iam.RolePolicy(
        args.names.logPolicy,
        {
            role: args.role.name,
            // Log delivery takes no resource narrower than "*" (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
            policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [...LOG_DELIVERY_ACTIONS], Resource: "*" }] }),
        },
        { parent },
    );
    const logGroup = new aws.cloudwatch.LogGroup(
        args.names.logGroup,
        {
            name: args.logs.groupName,
            retentionInDays: args.logs.retentionDays,
            kmsKeyId: args.logs.kmsKeyArn,
        },
        { parent, protect: args.logs.protect ?? false, retainOnDelete: args.logs.retainOnDelete ?? false },
    );
    return new aws.sfn.StateMachine(
        args.names.stateMachine,
        {
            roleArn: args.role.arn,
            type: "STANDARD",
            definition: args.definition,
            loggingConfiguration: { level: "ALL", includeExecutionData: true, logDestination: pulumi.interpolate`${logGroup.arn}:*` },
        },
        {
            parent,
            // Step Functions checks the role's log delivery rights when the machine is created or its logging
            // changes ("The state machine IAM Role is not authorized to access the Log Destination" otherwise).
            dependsOn: [logDelivery],
        },
    );
}
