/**
 * The permissions boundary of every role the stack creates: the most any of them may ever do, whatever
 * policy is put on it. A permissions boundary caps a role's identity-based policies; the effective
 * permissions are the intersection (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
 *
 * It is what makes the deploy role's IAM rights safe to hand to a pipeline: the deploy role may create and
 * change a role only when the role carries this boundary (`iam:PermissionsBoundary`, deployPermissions.ts),
 * so a commit that puts `"Action": "*"` on a task role gets a task role that can do no more than this.
 */
import { RDS_SECRET_PREFIX } from "./databaseRules";
import type { PolicyDocument, PolicyStatement } from "./deployPermissions";
import { LOG_DELIVERY_ACTIONS } from "./logDelivery";
import { EXEC_ACTIONS } from "./taskContainers";
import { XRAY_ACTIONS } from "./tracing";
import { ECS_SYNC_RULE } from "./jobStateMachine";
import { CONSUME_ACTIONS, PUBLISH_KEY_ACTIONS } from "./messagingPolicies";
import { messagingNamePrefix, stackRolePath, taskFamily } from "./naming";

/** What the boundary is cut to: the stack's own resources, by name, ARN and tags. */
export interface BoundaryContext {
    partition: string;
    account: string;
    region: string;
    /** The tags every resource of the stack carries (the provider's default tags). */
    stackTags: Readonly<Record<string, string>>;
    /** The prefixes of the stack's log group names, e.g. `/berth/dev/`. */
    logGroupPrefixes: readonly string[];
    /** The starts of the names of the secrets the stack stores, e.g. `berth/dev/`. */
    secretPrefixes: readonly string[];
    /** Secrets Manager secrets outside the stack that its services read, by exact ARN (`berth:secrets` references). */
    referencedSecretArns: readonly string[];
    /** SSM parameters its services read, by exact ARN. */
    referencedParameterArns: readonly string[];
    /** The database instance's ARN when the stack has one: its services read the master secret RDS manages for it. */
    databaseArn?: string;
}

/** The tag RDS puts on the master secret it manages, naming the instance (AWS's own RDS rotation functions read it:
 * aws-samples/aws-secrets-manager-rotation-lambdas, SecretsManagerRDSPostgreSQLRotationSingleUser/lambda_function.py). */
export const RDS_SECRET_INSTANCE_TAG = "aws:rds:primaryDBInstanceArn";

function tagCondition(tags: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
}

/**
 * The boundary's document. Each statement serves one of Berth's roles; a test derives every action of every
 * role the program creates and checks that this allows it on the resources that role acts on.
 */
export function roleBoundaryPolicy(ctx: BoundaryContext): PolicyDocument {
    const arn = (service: string, resource: string) => `arn:${ctx.partition}:${service}:${ctx.region}:${ctx.account}:${resource}`;
    const stackTagged = { StringEquals: tagCondition(ctx.stackTags) };
    const messaging = messagingNamePrefix(ctx.stackTags.project, ctx.stackTags.stack);
    const statements: PolicyStatement[] = [
        // Execution roles: pull the image (GetAuthorizationToken takes no resource) and write the task's logs.
        {
            Sid: "PullImages",
            Effect: "Allow",
            Action: ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            Resource: "*",
        },
        {
            Sid: "WriteStackLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"],
            Resource: ctx.logGroupPrefixes.map((prefix) => arn("logs", `log-group:${prefix}*`)),
        },
        {
            Sid: "ReadStackSecrets",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: [...ctx.secretPrefixes.map((prefix) => arn("secretsmanager", `secret:${prefix}*`)), ...ctx.referencedSecretArns],
        },
        // Task roles: ECS Exec's channels and X-Ray (ssmmessages and xray:PutTraceSegments take no resource).
        { Sid: "ExecAndTraces", Effect: "Allow", Action: [...EXEC_ACTIONS, ...XRAY_ACTIONS], Resource: "*" },
        // The restart's state machine: log delivery (no resource-level permissions:
        // https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html), and new deployments of the stack's services.
        { Sid: "DeliverStateMachineLogs", Effect: "Allow", Action: [...LOG_DELIVERY_ACTIONS], Resource: "*" },
        { Sid: "RestartStackServices", Effect: "Allow", Action: ["ecs:UpdateService"], Resource: arn("ecs", "service/*"), Condition: stackTagged },
        // EventBridge starts the restart.
        {
            Sid: "StartStackStateMachines",
            Effect: "Allow",
            Action: ["states:StartExecution"],
            Resource: arn("states", "stateMachine:*"),
            Condition: stackTagged,
        },
        // Jobs' state machines, as the `.sync` ECS integration asks (https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html):
        // run the stack's task definitions (by family), stop and read the tasks they start, hand the stack's roles
        // to ECS, and keep Step Functions' events rule (components/jobs/scheduledJob.ts narrows each to one job).
        ...jobStatements(ctx, arn),
        // Publishers and workers (components/messaging/): the stack's topics and queues by name, its keys by tags.
        { Sid: "PublishStackTopics", Effect: "Allow", Action: ["sns:Publish"], Resource: arn("sns", `${messaging}*`) },
        { Sid: "ConsumeStackQueues", Effect: "Allow", Action: [...CONSUME_ACTIONS], Resource: arn("sqs", `${messaging}*`) },
        { Sid: "UseStackMessagingKeys", Effect: "Allow", Action: [...PUBLISH_KEY_ACTIONS], Resource: arn("kms", "key/*"), Condition: stackTagged },
        // ECS's traffic role (AmazonECSInfrastructureRolePolicyForLoadBalancers), on the stack's listeners, rules and groups.
        {
            Sid: "ReadLoadBalancers",
            Effect: "Allow",
            Action: [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            Resource: "*",
        },
        {
            Sid: "ShiftStackTraffic",
            Effect: "Allow",
            Action: [
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule",
            ],
            Resource: arn("elasticloadbalancing", "*"),
            Condition: stackTagged,
        },
        // RDS Enhanced Monitoring (AmazonRDSEnhancedMonitoringRole): the account's RDSOSMetrics group, as AWS's policy names it.
        {
            Sid: "EnhancedMonitoring",
            Effect: "Allow",
            Action: [
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
                "logs:GetLogEvents",
            ],
            Resource: arn("logs", "log-group:RDS*"),
        },
    ];
    if (ctx.referencedParameterArns.length > 0) {
        statements.push({ Sid: "ReadReferencedParameters", Effect: "Allow", Action: ["ssm:GetParameters"], Resource: [...ctx.referencedParameterArns] });
    }
    if (ctx.databaseArn !== undefined) {
        // RDS names its secrets `rds!db-<uuid>`: only the tag tells this stack's instance apart from any other's.
        statements.push({
            Sid: "ReadDatabaseSecret",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: arn("secretsmanager", `secret:${RDS_SECRET_PREFIX}*`),
            Condition: { StringEquals: { [`aws:ResourceTag/${RDS_SECRET_INSTANCE_TAG}`]: ctx.databaseArn } },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** What a job's state machine may do at most: the stack's task families, tasks, roles and Step Functions' rule. */
function jobStatements(ctx: BoundaryContext, arn: (service: string, resource: string) => string): PolicyStatement[] {
    const { project, stack } = ctx.stackTags;
    return [
        { Sid: "RunStackJobs", Effect: "Allow", Action: ["ecs:RunTask"], Resource: arn("ecs", `task-definition/${taskFamily(project, stack, "")}*`) },
        // A task's ARN names its cluster and an ID known only once it runs.
        { Sid: "WatchJobTasks", Effect: "Allow", Action: ["ecs:StopTask", "ecs:DescribeTasks"], Resource: arn("ecs", "task/*") },
        {
            Sid: "PassStackRoles",
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: `arn:${ctx.partition}:iam::${ctx.account}:role${stackRolePath(project, stack)}*`,
        },
        {
            Sid: "JobTaskEvents",
            Effect: "Allow",
            Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            Resource: arn("events", `rule/${ECS_SYNC_RULE}`),
        },
    ];
}
