import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECS_SYNC_RULE, JOB_ALARM_METRICS, jobDefinition } from "../../core/jobStateMachine";
import type { Platform } from "../../core/platform";
import { childName } from "../../core/naming";
import { createLoggedStateMachine } from "../service/loggedStateMachine";
import { createTaskDefinition, type TaskDefinitionParts } from "../service/taskDefinition";

/** Where the state machine logs its executions. */
export interface JobLogsArgs {
    /**
     * The log group's name, under `/aws/vendedlogs/` as Step Functions asks
     * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html).
     * @example "/aws/vendedlogs/states/berth-dev-job-cleanup"
     */
    groupName: string;
    /** Days CloudWatch Logs keeps the executions' logs. */
    retentionDays: number;
    /**
     * The KMS key (ARN) that encrypts the log group.
     * @default none: CloudWatch Logs' own encryption
     */
    kmsKeyArn?: pulumi.Input<string>;
}

export interface ScheduledJobArgs {
    /** The cluster the job's tasks run in. */
    cluster: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
    /** The VPC of the subnets. */
    vpcId: pulumi.Input<string>;
    /** Private subnets: the task never gets a public IP. */
    subnetIds: pulumi.Input<string>[];
    /** The region, for the awslogs driver and the roles' ARNs. */
    region: string;
    /** The image, pinned to its digest. */
    image: pulumi.Input<string>;
    /** The task definition family, unique in the account and region, e.g. `berth-dev-cleanup`. */
    family: string;
    /** Task CPU units; with `memory`, a pair Fargate accepts. */
    cpu: number;
    /** Task memory in MiB, all of it the job's container's (a job has no sidecar and no Service Connect proxy). */
    memory: number;
    /**
     * The image's CPU architecture.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /** The non-root `uid:gid` the container runs as. */
    user: string;
    /**
     * The command, replacing the image's.
     * @default the image's own
     */
    command?: readonly string[];
    /**
     * The container's environment variables.
     * @default {}
     */
    environment?: Record<string, pulumi.Input<string>>;
    /**
     * Variables ECS fills in from Secrets Manager at start: name to secret ARN (`ContainerSpec.secrets`).
     * @default {}
     */
    secrets?: Record<string, pulumi.Input<string>>;
    /**
     * The secrets behind `secrets`, which the execution role may read.
     * @default []
     */
    secretArns?: pulumi.Input<string>[];
    /**
     * The database the job connects to: its security group admits the job on `port`, and the task role may read
     * the credentials' secret (a rotated password without a restart).
     * @default none
     */
    database?: { securityGroupId: pulumi.Input<string>; port: number; credentialSecretArn?: pulumi.Input<string> };
    /** When it runs: `cron(...)` or `rate(...)`, in UTC (catalog/jobs.ts checked it). */
    schedule: string;
    /** The limit of one run, every attempt included. */
    timeoutSeconds: number;
    /** Attempts after a failed one. */
    retries: number;
    /** The CloudWatch Logs group of the job's container. */
    logGroupName: string;
    /** Days the container's and the state machine's logs are kept. */
    logRetentionDays: number;
    /**
     * The KMS key (ARN) that encrypts both log groups.
     * @default none
     */
    logKmsKeyArn?: pulumi.Input<string>;
    /** The state machine's log group. */
    stateMachineLogGroupName: string;
    /** The SNS topic the failure alarm notifies. */
    alarmTopicArn: pulumi.Input<string>;
    /**
     * Tags of the task definition, e.g. the commit its image was built from.
     * @default {}
     */
    tags?: Record<string, pulumi.Input<string>>;
    /**
     * `pulumi destroy` refuses to delete the log groups.
     * @default false
     */
    protectLogs?: boolean;
    /**
     * Deleting the stack keeps the log groups.
     * @default false
     */
    retainLogs?: boolean;
    /**
     * The managed policy (ARN) every role this creates carries as its permissions boundary.
     * @default none
     */
    permissionsBoundary?: pulumi.Input<string>;
    /**
     * The IAM path of every role this creates (the stack's, `/<project>/<stack>/`, which the pipeline's deploy
     * role may write under).
     * @default none: the provider's default path
     */
    rolePath?: string;
}

/**
 * A task run on a schedule: AWS Copilot's Scheduled Job, built as Copilot builds it
 * (aws/copilot-cli, internal/pkg/template/templates/workloads/partials/cf/state-machine.yml).
 *
 * Creates: the job's task definition with its roles and log group (`createTaskDefinition`, no port), its
 * security group (out to anywhere, to the database when it uses it), a Step Functions state machine that runs
 * one task with `ecs:runTask.sync` within the timeout and with the retries (`jobDefinition`), its role and its
 * log group (every execution logged, FSBP StepFunctions.1), an EventBridge Scheduler schedule that starts the
 * state machine with a role that may start exactly it, and an alarm on failed and timed-out executions.
 *
 * The state machine's role may do what AWS's policy for the `.sync` ECS integration names
 * (https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html), narrowed as Copilot narrows it: run the
 * job's task definition family in this cluster only, stop and describe this cluster's tasks only, pass exactly
 * the job's two roles to ECS, manage Step Functions' events rule, and deliver its logs.
 */
export class ScheduledJob extends pulumi.ComponentResource {
    public readonly stateMachineArn: pulumi.Output<string>;
    public readonly scheduleName: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly taskDefinitionArn: pulumi.Output<string>;
    /** The alarm's name: `<family>-failed`. */
    public readonly alarmName: string;

    private readonly name: string;
    private readonly args: ScheduledJobArgs;

    constructor(name: string, args: ScheduledJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:jobs:ScheduledJob", name, {}, opts);
        if (args.subnetIds.length === 0) {
            throw new Error(`ScheduledJob "${name}": "subnetIds" is empty; allowed: the private subnets, one per availability zone`);
        }
        this.name = name;
        this.args = args;

        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const task = this.createTask();
        const securityGroup = this.createSecurityGroup();

        const stateMachine = this.createStateMachine(securityGroup, task.taskDefinition, this.runStatements(task, identity.accountId, partition));
        const schedule = this.createSchedule(stateMachine, identity.accountId);
        this.alarmName = `${args.family}-failed`;
        this.createAlarm(stateMachine);

        this.stateMachineArn = stateMachine.arn;
        this.scheduleName = schedule.name;
        this.logGroupName = task.logGroup.name;
        this.taskDefinitionArn = task.taskDefinition.arn;
        this.registerOutputs({
            stateMachineArn: this.stateMachineArn,
            scheduleName: this.scheduleName,
            logGroupName: this.logGroupName,
            taskDefinitionArn: this.taskDefinitionArn,
        });
    }

    private createTask(): TaskDefinitionParts {
        return createTaskDefinition(
            this.name,
            {
                family: this.args.family,
                cpu: this.args.cpu,
                memory: this.args.memory,
                platform: this.args.platform,
                region: this.args.region,
                logGroupName: this.args.logGroupName,
                logRetentionDays: this.args.logRetentionDays,
                logKmsKeyArn: this.args.logKmsKeyArn,
                user: this.args.user,
                tags: this.args.tags,
                container: {
                    name: this.name,
                    image: this.args.image,
                    environment: this.args.environment ?? {},
                    secrets: this.args.secrets ?? {},
                    command: this.args.command ? [...this.args.command] : undefined,
                    memory: this.args.memory,
                },
                secretArns: this.args.secretArns,
                taskSecretArns: this.args.database?.credentialSecretArn !== undefined ? [this.args.database.credentialSecretArn] : [],
                protectLogs: this.args.protectLogs,
                retainLogs: this.args.retainLogs,
                permissionsBoundary: this.args.permissionsBoundary,
                rolePath: this.args.rolePath,
            },
            this,
        );
    }

    /** What the state machine's role may do: run the job's task in its cluster, stop and follow it, pass its roles. */
    private runStatements(task: TaskDefinitionParts, account: pulumi.Output<string>, partition: pulumi.Output<string>): Record<string, unknown>[] {
        const arn = (service: string, resource: pulumi.Input<string>) =>
            pulumi.interpolate`arn:${partition}:${service}:${this.args.region}:${account}:${resource}`;
        return [
            {
                Effect: "Allow",
                Action: ["ecs:RunTask"],
                Resource: [arn("ecs", `task-definition/${this.args.family}:*`)],
                Condition: { ArnEquals: { "ecs:cluster": this.args.cluster.arn } },
            },
            // The tasks' IDs are unknown until they start: this cluster's tasks, as ECS's task ARNs name their cluster.
            { Effect: "Allow", Action: ["ecs:StopTask", "ecs:DescribeTasks"], Resource: [arn("ecs", pulumi.interpolate`task/${this.args.cluster.name}/*`)] },
            {
                Effect: "Allow",
                Action: ["iam:PassRole"],
                Resource: [task.executionRole.arn, task.taskRole.arn],
                Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            },
            {
                Effect: "Allow",
                Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                Resource: [arn("events", `rule/${ECS_SYNC_RULE}`)],
            },
        ];
    }

    /** Out to anywhere (the image through the NAT, AWS's APIs), and to the database when the job uses it; in from nothing. */
    private createSecurityGroup(): aws.ec2.SecurityGroup {
        const securityGroup = new aws.ec2.SecurityGroup(
            childName(this.name, "sg"),
            {
                vpcId: this.args.vpcId,
                description: `${this.name}: a scheduled job, admitting nothing`,
            },
            { parent: this },
        );
        new aws.vpc.SecurityGroupEgressRule(
            childName(this.name, "out"),
            {
                securityGroupId: securityGroup.id,
                description: "Outbound to anywhere",
                ipProtocol: "-1",
                cidrIpv4: "0.0.0.0/0",
            },
            { parent: this },
        );
        const database = this.args.database;
        if (database) {
            new aws.vpc.SecurityGroupIngressRule(
                childName(this.name, "to-database"),
                {
                    securityGroupId: database.securityGroupId,
                    description: `From ${this.name}, a job that declares the database`,
                    ipProtocol: "tcp",
                    fromPort: database.port,
                    toPort: database.port,
                    referencedSecurityGroupId: securityGroup.id,
                },
                { parent: this },
            );
        }
        return securityGroup;
    }

    private createStateMachine(
        securityGroup: aws.ec2.SecurityGroup,
        taskDefinition: aws.ecs.TaskDefinition,
        statements: Record<string, unknown>[],
    ): aws.sfn.StateMachine {
        const role = this.createRole("sfn-role", "states.amazonaws.com", `Step Functions runs the job ${this.name} in its cluster`, statements);
        // The input is the schedule's empty object and the output the stopped task's description: nothing secret.
        return createLoggedStateMachine(
            {
                names: {
                    logPolicy: childName(this.name, "sfn-role-logs-policy"),
                    logGroup: childName(this.name, "sfn-logs"),
                    stateMachine: childName(this.name, "run"),
                },
                role,
                definition: this.stateMachineDefinition(taskDefinition, securityGroup),
                logs: {
                    groupName: this.args.stateMachineLogGroupName,
                    retentionDays: this.args.logRetentionDays,
                    kmsKeyArn: this.args.logKmsKeyArn,
                    protect: this.args.protectLogs,
                    retainOnDelete: this.args.retainLogs,
                },
            },
            this,
        );
    }

    /** The state machine's definition (`jobDefinition`): run the task once on Fargate, with its timeout and retries. */
    private stateMachineDefinition(taskDefinition: aws.ecs.TaskDefinition, securityGroup: aws.ec2.SecurityGroup): pulumi.Output<string> {
        return pulumi
            .all([this.args.cluster.arn, taskDefinition.arn, pulumi.all(this.args.subnetIds), securityGroup.id])
            .apply(([cluster, task, subnets, group]) =>
                JSON.stringify(
                    jobDefinition(
                        {
                            cluster,
                            taskDefinition: task,
                            subnets,
                            securityGroups: [group],
                            timeoutSeconds: this.args.timeoutSeconds,
                            retries: this.args.retries,
                        },
                        `Run the job ${this.name} once on Fargate`,
                    ),
                ),
            );
    }

    /**
     * EventBridge Scheduler starts the state machine with an empty input, in UTC and on time (no flexible window).
     * Its role trusts Scheduler for schedules of this account only (`aws:SourceAccount`, as AWS's execution role
     * example has it: https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
     */
    private createSchedule(stateMachine: aws.sfn.StateMachine, account: pulumi.Output<string>): aws.scheduler.Schedule {
        const role = this.createRole(
            "scheduler-role",
            "scheduler.amazonaws.com",
            `EventBridge Scheduler starts the job ${this.name}`,
            [{ Effect: "Allow", Action: ["states:StartExecution"], Resource: [stateMachine.arn] }],
            account,
        );
        return new aws.scheduler.Schedule(
            childName(this.name, "schedule"),
            {
                description: `Runs the job ${this.name}: ${this.args.schedule} (UTC)`,
                scheduleExpression: this.args.schedule,
                scheduleExpressionTimezone: "UTC",
                flexibleTimeWindow: { mode: "OFF" },
                state: "ENABLED",
                target: { arn: stateMachine.arn, roleArn: role.arn, input: "{}" },
            },
            { parent: this },
        );
    }

    /**
     * One alarm on the runs that failed or timed out, from Step Functions' per-state-machine metrics in AWS/States
     * (dimension StateMachineArn, statistic Sum, as aws-cdk-lib's aws-stepfunctions/lib/stepfunctions-canned-metrics.generated.js
     * names them).
     * No run means no data, which is no failure.
     */
    private createAlarm(stateMachine: aws.sfn.StateMachine): void {
        const metric = (id: string, metricName: string) => ({
            id,
            metric: { namespace: "AWS/States", metricName, dimensions: { StateMachineArn: stateMachine.arn }, period: 300, stat: "Sum" },
        });
        new aws.cloudwatch.MetricAlarm(
            childName(this.name, "failed"),
            {
                name: this.alarmName,
                alarmDescription: `the job ${this.name} failed or timed out (after its retries).`,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
                evaluationPeriods: 1,
                treatMissingData: "notBreaching",
                metricQueries: [
                    ...JOB_ALARM_METRICS.map((name, i) => metric(`m${i}`, name)),
                    {
                        id: "failures",
                        expression: JOB_ALARM_METRICS.map((_, i) => `FILL(m${i}, 0)`).join(" + "),
                        label: "Failed and timed-out runs",
                        returnData: true,
                    },
                ],
                alarmActions: [this.args.alarmTopicArn],
                okActions: [this.args.alarmTopicArn],
            },
            { parent: this },
        );
    }

    private createRole(
        role: string,
        service: string,
        description: string,
        statements: Record<string, unknown>[],
        sourceAccount?: pulumi.Input<string>,
    ): aws.iam.Role {
        const created = new aws.iam.Role(
            childName(this.name, role),
            {
                path: this.args.rolePath,
                permissionsBoundary: this.args.permissionsBoundary,
                description,
                assumeRolePolicy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: service },
                            Action: "sts:AssumeRole",
                            ...(sourceAccount !== undefined ? { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } } : {}),
                        },
                    ],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            childName(this.name, `${role}-policy`),
            {
                role: created.name,
                policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
            },
            { parent: this },
        );
        return created;
    }
}
