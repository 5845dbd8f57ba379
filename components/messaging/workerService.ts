import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describeFargateMemory, isFargateSize } from "../../core/fargate";
import { DEPLOYMENT_MAXIMUM_PERCENT, DEPLOYMENT_MINIMUM_HEALTHY_PERCENT } from "../../core/rollout";
import { ecsDeploymentConfiguration } from "../../core/rolloutStrategy";
import { deploymentCheckTimeout, rolloutTimeline } from "../../core/rolloutTimeline";
import type { ScaleSchedule } from "../../core/schedule";
import { childName } from "../../core/naming";
import { createAutoscaling, SCALING_COOLDOWNS } from "../service/autoscaling";
import { DeploymentCheck } from "../service/deploymentCheck";
import { capacityProviderStrategy, serviceRevision, type FargateServiceArgs } from "../service/fargateService";
import { createTaskDefinition, type TaskDefinitionParts } from "../service/taskDefinition";

/**
 * The backlog per task the worker's scaling keeps: AWS's "acceptable backlog per instance" is the latency a
 * message may wait divided by the time one takes to process
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-using-sqs-queue.html): about a minute's wait at
 * about a second per message.
 */
export const BACKLOG_PER_TASK = 60;

type MetricQuery = aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetric;

/**
 * The queue's visible messages over the service's running tasks, AWS's "Example: Amazon SQS queue backlog
 * per task" for Application Auto Scaling in metric math
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html).
 * The running tasks are the sample count of the service's `CPUUtilization`, as for the request-count scaling
 * (autoscaling.ts), which needs no Container Insights.
 */
export function backlogPerTaskQuery(queueName: pulumi.Input<string>, clusterName: pulumi.Input<string>, serviceName: pulumi.Input<string>): MetricQuery[] {
    return [
        {
            id: "visible",
            returnData: false,
            metricStat: {
                metric: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: [{ name: "QueueName", value: queueName }] },
                stat: "Sum",
            },
        },
        {
            id: "tasks",
            returnData: false,
            metricStat: {
                metric: {
                    namespace: "AWS/ECS",
                    metricName: "CPUUtilization",
                    dimensions: [
                        { name: "ClusterName", value: clusterName },
                        { name: "ServiceName", value: serviceName },
                    ],
                },
                stat: "SampleCount",
            },
        },
        { id: "backlogPerTask", label: "Queue backlog per task", returnData: true, expression: "visible / tasks" },
    ];
}

/** What a worker takes of a Fargate service's arguments (`FargateServiceArgs`, documented there with their defaults), and what only a worker has. */
export interface WorkerServiceArgs extends Pick<
    FargateServiceArgs,
    | "cluster"
    | "vpcId"
    | "subnetIds"
    | "egressRoutes"
    | "image"
    | "family"
    | "platform"
    | "cpu"
    | "memory"
    | "desiredCount"
    | "maxCount"
    | "environment"
    | "logGroupName"
    | "logRetentionDays"
    | "logKmsKeyArn"
    | "user"
    | "tags"
    | "protectLogs"
    | "retainLogs"
    | "region"
    | "awsIdentity"
    | "verifyDeployment"
    | "capacity"
    | "enableExecuteCommand"
    | "tracing"
    | "permissionsBoundary"
    | "rolePath"
> {
    /**
     * Scheduled changes of the floor and ceiling (see schedule.ts).
     * @default []
     */
    schedules?: readonly ScaleSchedule[];
    /**
     * The backlog per task the scaling keeps.
     * @default BACKLOG_PER_TASK
     */
    backlogPerTask?: number;
    /**
     * The container health check, in ECS's form. A worker answers no HTTP, so there is none unless declared.
     * @default none
     */
    healthCheckCommand?: string[];
    /** The queue it consumes: its name (the scaling metric's dimension) and the task role's policy on it. */
    queue: { name: pulumi.Input<string>; consumePolicy: pulumi.Input<string> };
    /**
     * The task role's policy to publish to the worker's own topics, when it publishes.
     * @default none
     */
    publishPolicy?: pulumi.Input<string>;
}

/**
 * A worker on Fargate (AWS Copilot's Worker Service): the same task definition, roles, log group, private
 * subnets without public IP, circuit breaker and deployment check as every service, without a port, a load
 * balancer or a Service Connect endpoint.
 *
 * Creates: the task definition with its log group and roles (`createTaskDefinition`), the task role allowed
 * exactly its queue (and its own topics when it publishes); a security group with egress only (nothing
 * connects to a worker); the ECS service, rolling, with the circuit breaker rolling back; a deployment check;
 * and, when `maxCount` exceeds `desiredCount` or a schedule applies, Application Auto Scaling tracking the
 * queue's backlog per task beside CPU.
 */
export class WorkerService extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly serviceArn: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly taskRoleName: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    /** Resolves once the service's deployment completed. */
    public readonly ready: pulumi.Resource;

    constructor(name: string, args: WorkerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:messaging:WorkerService", name, {}, opts);
        validate(name, args);
        const maxCount = args.maxCount ?? args.desiredCount;
        const schedules = args.schedules ?? [];
        const autoscaled = maxCount > args.desiredCount || schedules.length > 0;
        const task = this.createTask(name, args);
        const grants = this.createGrants(name, args, task);
        const securityGroup = this.createSecurityGroup(name, args);
        const egress = this.createEgress(name, securityGroup);
        const rollout = { strategy: "rolling" } as const;
        const ignoreChanges = autoscaled ? ["desiredCount"] : [];
        const verify = args.verifyDeployment ?? true;
        const inputs = serviceInputs(args, task, securityGroup, verify, rollout);
        const service = new aws.ecs.Service(childName(name, "service"), inputs, {
            parent: this,
            // Tasks need their egress rule and the NAT route to pull the image, and their grants to consume at start.
            dependsOn: [egress, ...(args.egressRoutes ?? []), ...grants],
            ignoreChanges,
        });
        if (autoscaled) {
            this.createBacklogScaling(name, args, service, maxCount, schedules);
        }
        this.ready = verify ? this.createDeploymentCheck(name, args, { task, service, inputs, ignoreChanges, rollout }) : service;
        this.serviceName = service.name;
        this.serviceArn = service.arn;
        this.logGroupName = task.logGroup.name;
        this.taskRoleName = task.taskRole.name;
        this.securityGroupId = securityGroup.id;
        this.registerOutputs({ serviceName: this.serviceName, logGroupName: this.logGroupName });
    }

    private createTask(name: string, args: WorkerServiceArgs): TaskDefinitionParts {
        return createTaskDefinition(
            name,
            {
                family: args.family,
                cpu: args.cpu,
                memory: args.memory,
                platform: args.platform,
                region: args.region,
                logGroupName: args.logGroupName,
                logRetentionDays: args.logRetentionDays,
                logKmsKeyArn: args.logKmsKeyArn,
                user: args.user,
                tags: args.tags,
                container: { name, image: args.image, environment: args.environment, healthCheckCommand: args.healthCheckCommand },
                tracing: args.tracing,
                execCommand: args.enableExecuteCommand,
                protectLogs: args.protectLogs,
                retainLogs: args.retainLogs,
                permissionsBoundary: args.permissionsBoundary,
                rolePath: args.rolePath,
            },
            this,
        );
    }

    /** The task role's grants: its queue, and its own topics when it publishes. */
    private createGrants(name: string, args: WorkerServiceArgs, task: TaskDefinitionParts): aws.iam.RolePolicy[] {
        const grants = [
            new aws.iam.RolePolicy(childName(name, "consume-policy"), { role: task.taskRole.name, policy: args.queue.consumePolicy }, { parent: this }),
        ];
        if (args.publishPolicy !== undefined) {
            grants.push(new aws.iam.RolePolicy(childName(name, "publish-policy"), { role: task.taskRole.name, policy: args.publishPolicy }, { parent: this }));
        }
        return grants;
    }

    private createSecurityGroup(name: string, args: WorkerServiceArgs): aws.ec2.SecurityGroup {
        return new aws.ec2.SecurityGroup(
            childName(name, "sg"),
            {
                vpcId: args.vpcId,
                description: `${name}: a worker, reached by nothing`,
            },
            { parent: this },
        );
    }

    private createEgress(name: string, securityGroup: aws.ec2.SecurityGroup): aws.vpc.SecurityGroupEgressRule {
        // Tasks pull their image and call SQS, SNS and KMS through the NAT.
        return new aws.vpc.SecurityGroupEgressRule(
            childName(name, "out"),
            {
                securityGroupId: securityGroup.id,
                description: "Outbound to anywhere",
                ipProtocol: "-1",
                cidrIpv4: "0.0.0.0/0",
            },
            { parent: this },
        );
    }

    /** Application Auto Scaling's target (`createAutoscaling`) and a policy tracking the queue's backlog per task. */
    private createBacklogScaling(name: string, args: WorkerServiceArgs, service: aws.ecs.Service, maxCount: number, schedules: readonly ScaleSchedule[]): void {
        const scaling = createAutoscaling(
            name,
            {
                clusterName: args.cluster.name,
                serviceName: service.name,
                minCount: args.desiredCount,
                maxCount,
                schedules,
            },
            this,
        );
        new aws.appautoscaling.Policy(
            childName(name, "backlog-scaling"),
            {
                policyType: "TargetTrackingScaling",
                serviceNamespace: scaling.target.serviceNamespace,
                scalableDimension: scaling.target.scalableDimension,
                resourceId: scaling.target.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    customizedMetricSpecification: { metrics: backlogPerTaskQuery(args.queue.name, args.cluster.name, service.name) },
                    targetValue: args.backlogPerTask ?? BACKLOG_PER_TASK,
                    ...SCALING_COOLDOWNS,
                },
            },
            { parent: this },
        );
    }

    private createDeploymentCheck(
        name: string,
        args: WorkerServiceArgs,
        parts: {
            task: TaskDefinitionParts;
            service: aws.ecs.Service;
            inputs: aws.ecs.ServiceArgs;
            ignoreChanges: string[];
            rollout: WorkerRollout;
        },
    ): DeploymentCheck {
        const timeline = rolloutTimeline({ rollout: parts.rollout, kind: "worker", deploymentAlarms: false });
        return new DeploymentCheck(
            childName(name, "deployment"),
            {
                region: args.region,
                identity: args.awsIdentity,
                cluster: args.cluster.name,
                service: parts.service.name,
                taskDefinitionArn: parts.task.taskDefinition.arn,
                serviceRevision: serviceRevision(parts.inputs, parts.ignoreChanges),
                strategy: parts.rollout.strategy,
                timeoutSeconds: deploymentCheckTimeout(timeline),
            },
            { parent: this, dependsOn: [parts.service] },
        );
    }
}

type WorkerRollout = { readonly strategy: "rolling" };

/** The ECS service's inputs: rolling, circuit breaker rolling back, private subnets without public IP. */
function serviceInputs(
    args: WorkerServiceArgs,
    task: TaskDefinitionParts,
    securityGroup: aws.ec2.SecurityGroup,
    verify: boolean,
    rollout: WorkerRollout,
): aws.ecs.ServiceArgs {
    return {
        cluster: args.cluster.arn,
        taskDefinition: task.taskDefinition.arn,
        desiredCount: args.desiredCount,
        capacityProviderStrategies: capacityProviderStrategy(args.capacity ?? { onDemandBase: 0, spotPercent: 0 }),
        forceNewDeployment: true,
        platformVersion: "LATEST",
        networkConfiguration: { subnets: args.subnetIds, securityGroups: [securityGroup.id], assignPublicIp: false },
        deploymentConfiguration: ecsDeploymentConfiguration(rollout),
        deploymentCircuitBreaker: { enable: true, rollback: true },
        enableExecuteCommand: args.enableExecuteCommand ?? false,
        deploymentMinimumHealthyPercent: DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
        deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
        tags: args.tags,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
        waitForSteadyState: !verify,
    };
}

function validate(name: string, args: WorkerServiceArgs): void {
    const where = `WorkerService "${name}"`;
    if (!isFargateSize(args.cpu, args.memory)) {
        throw new Error(`${where}: cpu ${args.cpu} with memory ${args.memory} is not a Fargate size; ${describeFargateMemory(args.cpu)}`);
    }
    if (!Number.isInteger(args.desiredCount) || args.desiredCount < 1) {
        throw new Error(
            `${where}: "desiredCount" is ${args.desiredCount}; allowed: a whole number of at least 1, since the backlog per task divides by the running tasks`,
        );
    }
    if ((args.maxCount ?? args.desiredCount) < args.desiredCount) {
        throw new Error(`${where}: "maxCount" ${args.maxCount} is below "desiredCount" ${args.desiredCount}`);
    }
    if (args.backlogPerTask !== undefined && !(args.backlogPerTask > 0)) {
        throw new Error(`${where}: "backlogPerTask" is ${args.backlogPerTask}; allowed: a number above 0`);
    }
    if (args.subnetIds.length === 0) {
        throw new Error(`${where}: "subnetIds" is empty`);
    }
}
