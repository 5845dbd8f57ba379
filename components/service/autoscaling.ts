import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import type { ScaleSchedule } from "../../core/schedule";

/**
 * Cooldowns of every target-tracking policy: scale out after a minute, scale in only after five, so that a
 * short lull does not drop the capacity a returning burst needs (and a task is not stopped just after it
 * warmed up). Application Auto Scaling applies scale-out at once and holds scale-in during the cooldown
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html).
 */
export const SCALING_COOLDOWNS = { scaleOutCooldown: 60, scaleInCooldown: 300 } as const;

/** CPU target tracking: the average CPU of the service's tasks Application Auto Scaling keeps them at. */
export const CPU_SCALING = { targetPercent: 60, ...SCALING_COOLDOWNS } as const;

export interface AutoscalingArgs {
    /** The cluster's name. */
    clusterName: pulumi.Input<string>;
    /** The ECS service's name. */
    serviceName: pulumi.Input<string>;
    /** The floor: the service's desired count. */
    minCount: number;
    /** The ceiling, at least `minCount`. */
    maxCount: number;
    /**
     * Public services: also track ALB requests per task. A public service serves from either of its two
     * target groups (ECS moves it between them when it shifts traffic: see albRoute.ts), so the predefined
     * `ALBRequestCountPerTarget`, which names one group, would go without data after a switch, and a policy
     * without data blocks scaling in (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html).
     * The metric is instead the groups' requests over the service's running tasks, in metric math
     * (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html),
     * with the running tasks counted as the sample count of the service's `CPUUtilization`
     * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html).
     * @default none: CPU only
     */
    requestCount?: { loadBalancerArnSuffix: pulumi.Input<string>; targetGroupArnSuffixes: pulumi.Input<string>[]; requestsPerTarget: number };
    /**
     * Scheduled changes of the floor and ceiling (see schedule.ts).
     * @default []
     */
    schedules?: readonly ScaleSchedule[];
}

type MetricQuery = aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetric;

/** Requests a minute to the service's target groups, over its running tasks. */
function requestsPerTaskQuery(args: AutoscalingArgs, loadBalancer: pulumi.Input<string>, targetGroups: pulumi.Input<string>[]): MetricQuery[] {
    const stat = (id: string, namespace: string, metricName: string, dimensions: Record<string, pulumi.Input<string>>, statistic: string): MetricQuery => ({
        id,
        returnData: false,
        metricStat: {
            metric: { namespace, metricName, dimensions: Object.entries(dimensions).map(([name, value]) => ({ name, value })) },
            stat: statistic,
        },
    });
    const requests = targetGroups.map((tg, i) =>
        stat(`requests${i}`, "AWS/ApplicationELB", "RequestCount", { LoadBalancer: loadBalancer, TargetGroup: tg }, "Sum"),
    );
    return [
        ...requests,
        stat("tasks", "AWS/ECS", "CPUUtilization", { ClusterName: args.clusterName, ServiceName: args.serviceName }, "SampleCount"),
        {
            id: "perTask",
            label: "ALB requests per task",
            returnData: true,
            expression: `(${requests.map((r) => `FILL(${r.id}, 0)`).join(" + ")}) / tasks`,
        },
    ];
}

/** What `createAutoscaling` made. */
export interface AutoscalingParts {
    target: aws.appautoscaling.Target;
    policies: aws.appautoscaling.Policy[];
    scheduledActions: aws.appautoscaling.ScheduledAction[];
}

/**
 * An Application Auto Scaling target on the service's task count, target-tracking policies on CPU and, for
 * public services, on ALB requests per task (the larger capacity of the two wins), and the scheduled
 * actions.
 */
export function createAutoscaling(name: string, args: AutoscalingArgs, parent: pulumi.Resource): AutoscalingParts {
    const target = new aws.appautoscaling.Target(
        childName(name, "scaling"),
        {
            serviceNamespace: "ecs",
            scalableDimension: "ecs:service:DesiredCount",
            resourceId: pulumi.interpolate`service/${args.clusterName}/${args.serviceName}`,
            minCapacity: args.minCount,
            maxCapacity: args.maxCount,
        },
        { parent },
    );
    const on = {
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
    };
    const policies = [
        new aws.appautoscaling.Policy(
            childName(name, "cpu-scaling"),
            {
                policyType: "TargetTrackingScaling",
                ...on,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                    targetValue: CPU_SCALING.targetPercent,
                    ...SCALING_COOLDOWNS,
                },
            },
            { parent },
        ),
    ];
    if (args.requestCount) {
        const { loadBalancerArnSuffix, targetGroupArnSuffixes, requestsPerTarget } = args.requestCount;
        policies.push(
            new aws.appautoscaling.Policy(
                childName(name, "request-scaling"),
                {
                    policyType: "TargetTrackingScaling",
                    ...on,
                    targetTrackingScalingPolicyConfiguration: {
                        customizedMetricSpecification: { metrics: requestsPerTaskQuery(args, loadBalancerArnSuffix, targetGroupArnSuffixes) },
                        targetValue: requestsPerTarget,
                        ...SCALING_COOLDOWNS,
                    },
                },
                { parent },
            ),
        );
    }
    const scheduledActions = (args.schedules ?? []).map(
        (schedule) =>
            new aws.appautoscaling.ScheduledAction(
                childName(name, `schedule-${schedule.name}`),
                {
                    name: schedule.name,
                    ...on,
                    schedule: schedule.schedule,
                    timezone: schedule.timezone ?? "UTC",
                    // Both bounds, always: an action that left the ceiling at a night-time 0 would make the next
                    // morning's floor exceed it.
                    scalableTargetAction: { minCapacity: schedule.minCount, maxCapacity: schedule.maxCount ?? args.maxCount },
                },
                { parent },
            ),
    );
    return { target, policies, scheduledActions };
}
