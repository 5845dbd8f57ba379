/**
 * The Step Functions state machine that runs one job once: Copilot's Scheduled Job definition
 * (aws/copilot-cli, internal/pkg/template/templates/workloads/partials/cf/state-machine-definition.json.yml),
 * with Berth's network. Pure: the component fills in the ARNs and IDs (components/jobs/scheduledJob.ts).
 */

/** The Step Functions integration that runs an ECS task and waits until it stops ("Run a Job"). */
export const RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync";

/**
 * The EventBridge rule Step Functions manages in the account to learn when the tasks of `.sync` states stop;
 * a state machine's role needs `events:PutTargets`, `PutRule` and `DescribeRule` on it
 * (https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html).
 */
export const ECS_SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule";

/** The first retry's delay and the factor of each next one, as Copilot's jobs have them. */
export const JOB_RETRY = { intervalSeconds: 10, backoffRate: 1.5 } as const;

/** The metrics of the job's alarm: the runs that failed and those that timed out (components/jobs/scheduledJob.ts). */
export const JOB_ALARM_METRICS = ["ExecutionsFailed", "ExecutionsTimedOut"] as const;

/** The name of the definition's one state, which the executions' history names. */
export const RUN_STATE = "RunTask";

export interface JobRun {
    /** The cluster's ARN. */
    cluster: string;
    /** The task definition's ARN with its revision: every run takes the deployed revision. */
    taskDefinition: string;
    /** Private subnets: the task gets no public IP. */
    subnets: readonly string[];
    securityGroups: readonly string[];
    /** The whole run's limit, retries included. */
    timeoutSeconds: number;
    /** Attempts after a failed one. */
    retries: number;
}

/**
 * The definition: one Task state running the job's task with `ecs:runTask.sync`.
 *
 * - `TimeoutSeconds` bounds the whole execution, every attempt included, as Copilot's does; the execution then
 *   ends `TIMED_OUT` (CloudWatch's `ExecutionsTimedOut`). Step Functions stops the task of a `.sync` state it
 *   abandons: that is what the integration's `ecs:StopTask` is for (https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html).
 * - The `.sync` state fails when a container of the task exits non-zero (wellcomecollection/catalogue-pipeline#3377
 *   shows `States.TaskFailed` for one), or when ECS cannot start the task (`AmazonECS.Unknown` for a non-empty
 *   `Failures`: https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html); `Retry` on `States.ALL`
 *   tries it again `retries` times.
 * - `Group` carries the execution's name on the task, as Copilot's does, so the task a run started is found by it.
 */
export function jobDefinition(run: JobRun, comment: string): Record<string, unknown> {
    return {
        Comment: comment,
        TimeoutSeconds: run.timeoutSeconds,
        StartAt: RUN_STATE,
        States: {
            [RUN_STATE]: {
                Type: "Task",
                Resource: RUN_TASK_SYNC,
                Parameters: {
                    LaunchType: "FARGATE",
                    Cluster: run.cluster,
                    TaskDefinition: run.taskDefinition,
                    "Group.$": "$$.Execution.Name",
                    NetworkConfiguration: {
                        AwsvpcConfiguration: {
                            Subnets: [...run.subnets],
                            SecurityGroups: [...run.securityGroups],
                            AssignPublicIp: "DISABLED",
                        },
                    },
                },
                ...(run.retries > 0
                    ? {
                          Retry: [
                              {
                                  ErrorEquals: ["States.ALL"],
                                  IntervalSeconds: JOB_RETRY.intervalSeconds,
                                  MaxAttempts: run.retries,
                                  BackoffRate: JOB_RETRY.backoffRate,
                              },
                          ],
                      }
                    : {}),
                End: true,
            },
        },
    };
}
