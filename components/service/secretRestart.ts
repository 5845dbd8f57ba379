import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import { createLoggedStateMachine, type StateMachineLogsArgs } from "./loggedStateMachine";

/** A service whose tasks read secrets at start, and must start anew when one changes. */
export interface SecretReader {
    /** The service's name in the catalogue, for logical names. */
    name: string;
    /** The ECS service's ARN. */
    serviceArn: pulumi.Input<string>;
    /** The Secrets Manager secrets its tasks read (full ARNs, without JSON keys). */
    secretArns: pulumi.Input<string>[];
}

export interface SecretRestartArgs {
    /** The cluster the services run in. */
    clusterArn: pulumi.Input<string>;
    /** The services to restart, each when one of its secrets gets a new current value. */
    readers: SecretReader[];
    /** Where the state machine logs its executions (FSBP StepFunctions.1). */
    logs: RestartLogsArgs;
    /**
     * The managed policy (ARN) every IAM role this creates carries as its permissions boundary (`RoleBoundary`).
     * @default none
     */
    permissionsBoundary?: pulumi.Input<string>;
    /**
     * The IAM path of every role this creates: the stack's (`stackRolePath`), which the pipeline's deploy role
     * is limited to.
     * @default none: the provider's default path
     */
    rolePath?: string;
}

/** The state machine's log group. */
export type RestartLogsArgs = StateMachineLogsArgs;

/** The Step Functions task that forces a new deployment of the service named in its input. */
export const FORCE_NEW_DEPLOYMENT = "arn:aws:states:::aws-sdk:ecs:updateService";

/**
 * Starts fresh tasks of a service when one of its secrets gets a new value: RDS rotating the database's
 * master password (every 7 days by default), or `pulumi up` storing a new value of `berth:secrets`.
 *
 * ECS reads `secrets` only when a task starts, so tasks keep the old value until they are replaced
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html); after
 * a rotation, their new database connections would be refused. Secrets Manager sends `Secret Label Updated`
 * to EventBridge, without CloudTrail, when the `AWSCURRENT` label moves to a new version, the last step of a
 * rotation (https://docs.aws.amazon.com/secretsmanager/latest/userguide/event-detail-secret-label-updated-secretsmanager.html).
 * A rule per service matches that event for its secrets and starts a state machine that calls ECS
 * `UpdateService` with `forceNewDeployment` through Step Functions' AWS SDK integration
 * (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html): a rolling deployment
 * of the same task definition, so the service keeps serving while its tasks are replaced.
 *
 * Creates: the state machine and its role (allowed `ecs:UpdateService` on exactly these services, and the log
 * delivery actions), its log group (every execution logged, FSBP StepFunctions.1), a role that lets EventBridge
 * start it, and per service an EventBridge rule and its target.
 */
export class SecretRestart extends pulumi.ComponentResource {
    public readonly stateMachineArn: pulumi.Output<string>;

    private readonly name: string;
    private readonly permissionsBoundary?: pulumi.Input<string>;
    private readonly rolePath?: string;

    constructor(name: string, args: SecretRestartArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:secrets:SecretRestart", name, {}, opts);
        if (args.readers.length === 0) {
            throw new Error(`SecretRestart "${name}": "readers" is empty; create it only for services that read secrets`);
        }
        this.name = name;
        this.permissionsBoundary = args.permissionsBoundary;
        this.rolePath = args.rolePath;

        const stateMachine = this.createStateMachine(args.readers, args.logs);
        const invokeRole = this.createRole("events-role", "events.amazonaws.com", "EventBridge starts the restart of a service whose secret changed", {
            Effect: "Allow",
            Action: ["states:StartExecution"],
            Resource: [stateMachine.arn],
        });
        for (const reader of args.readers) {
            this.restartOnChange(reader, args.clusterArn, stateMachine, invokeRole);
        }

        this.stateMachineArn = stateMachine.arn;
        this.registerOutputs({ stateMachineArn: this.stateMachineArn });
    }

    private createStateMachine(readers: SecretReader[], logs: RestartLogsArgs): aws.sfn.StateMachine {
        const role = this.createRole("sfn-role", "states.amazonaws.com", "Step Functions forces new deployments of services whose secrets changed", {
            Effect: "Allow",
            Action: ["ecs:UpdateService"],
            Resource: readers.map((r) => r.serviceArn),
        });
        // The input names a cluster and a service, nothing secret; a few executions a month.
        return createLoggedStateMachine(
            {
                names: {
                    logPolicy: childName(this.name, "sfn-role-logs-policy"),
                    logGroup: childName(this.name, "logs"),
                    stateMachine: childName(this.name, "restart"),
                },
                role,
                definition: JSON.stringify(restartDefinition()),
                logs,
            },
            this,
        );
    }

    private restartOnChange(reader: SecretReader, clusterArn: pulumi.Input<string>, stateMachine: aws.sfn.StateMachine, role: aws.iam.Role): void {
        const rule = new aws.cloudwatch.EventRule(
            childName(this.name, `${reader.name}-secret-changed`),
            {
                description: `A secret of ${reader.name} has a new current value: start fresh tasks`,
                eventPattern: pulumi.jsonStringify(secretChangedPattern(reader.secretArns)),
            },
            { parent: this },
        );
        new aws.cloudwatch.EventTarget(
            childName(this.name, `${reader.name}-restart`),
            {
                rule: rule.name,
                arn: stateMachine.arn,
                roleArn: role.arn,
                input: pulumi.jsonStringify({ cluster: clusterArn, service: reader.serviceArn }),
            },
            { parent: this },
        );
    }

    private createRole(role: string, service: string, description: string, statement: Record<string, unknown>): aws.iam.Role {
        const created = new aws.iam.Role(
            childName(this.name, role),
            {
                path: this.rolePath,
                permissionsBoundary: this.permissionsBoundary,
                description,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            childName(this.name, `${role}-policy`),
            {
                role: created.name,
                policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [statement] }),
            },
            { parent: this },
        );
        return created;
    }
}

/** The EventBridge pattern of a new current value of one of `secretArns`. */
export function secretChangedPattern(secretArns: pulumi.Input<string>[]): Record<string, unknown> {
    return {
        source: ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        resources: secretArns,
        detail: { labelUpdated: ["AWSCURRENT"] },
    };
}

/**
 * One task: `UpdateService` with `ForceNewDeployment` on the cluster and service the rule's target passes in,
 * retried with backoff (ECS refuses while the service is being created or deleted).
 */
export function restartDefinition(): Record<string, unknown> {
    return {
        Comment: "Force a new deployment of the service named in the input, so that its tasks read their secrets anew",
        StartAt: "ForceNewDeployment",
        States: {
            ForceNewDeployment: {
                Type: "Task",
                Resource: FORCE_NEW_DEPLOYMENT,
                Parameters: { "Cluster.$": "$.cluster", "Service.$": "$.service", ForceNewDeployment: true },
                Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 30, MaxAttempts: 5, BackoffRate: 2 }],
                End: true,
            },
        },
    };
}
