/**
 * The AWS SDK clients behind `AwsApis`, made with the stack's region and credentials.
 *
 * Throttling: every client keeps the SDK's standard retry mode, which retries throttling errors such as
 * ThrottlingException with exponential backoff and jitter, three attempts unless `max_attempts` says otherwise
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). Five attempts here: `status`
 * makes several calls per service and `logs --follow` polls, so a burst of throttling should not end them.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
    DescribeServicesCommand,
    DescribeTaskDefinitionCommand,
    DescribeTasksCommand,
    ECSClient,
    ExecuteCommandCommand,
    ListTasksCommand,
} from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { checkIdentity, credentialsFor } from "../core/awsIdentity";
import { stackAwsAccess } from "../config";
import type { AwsApis } from "./context";

/** What tests may replace: the HTTP handler (a fake AWS), and the credentials. */
export interface ClientOverrides {
    requestHandler?: unknown;
    credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Clients for the stack's region, acting as the identity its `aws:*` settings describe (config/). */
export function sdkApis(region: string, config: Readonly<Record<string, string>>, overrides: ClientOverrides = {}): AwsApis {
    const access = stackAwsAccess({ ...config, "aws:region": region });
    const common = {
        region,
        credentials: overrides.credentials ?? credentialsFor(checkIdentity(access.identity), region),
        maxAttempts: 5,
        ...(overrides.requestHandler ? { requestHandler: overrides.requestHandler as never } : {}),
    };
    const ecs = new ECSClient(common);
    const elb = new ElasticLoadBalancingV2Client(common);
    const cloudwatch = new CloudWatchClient(common);
    const logs = new CloudWatchLogsClient(common);
    const sfn = new SFNClient(common);
    return {
        ecs: {
            describeServices: (input) => ecs.send(new DescribeServicesCommand(input)),
            describeTaskDefinition: (input) => ecs.send(new DescribeTaskDefinitionCommand(input)),
            listTasks: (input) => ecs.send(new ListTasksCommand(input)),
            describeTasks: (input) => ecs.send(new DescribeTasksCommand(input)),
            executeCommand: (input) => ecs.send(new ExecuteCommandCommand(input)),
            // The AWS CLI passes its ECS client's endpoint URL (awscli/customizations/ecs/executecommand.py).
            endpoint: async () => `https://ecs.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`,
        },
        elb: { describeTargetHealth: (input) => elb.send(new DescribeTargetHealthCommand(input)) },
        cloudwatch: { describeAlarms: (input) => cloudwatch.send(new DescribeAlarmsCommand(input)) },
        logs: { filterLogEvents: (input) => logs.send(new FilterLogEventsCommand(input)) },
        sfn: {
            startExecution: (input) => sfn.send(new StartExecutionCommand(input)),
            describeExecution: (input) => sfn.send(new DescribeExecutionCommand(input)),
        },
    };
}
