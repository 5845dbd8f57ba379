import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "./naming";
import type { ScaleSchedule } from "./schedule";

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
     * Public services: also track ALB requests per task (`ALBRequestCountPerTarget`), whose resource label
     * is `app/<alb name>/<alb id>/targetgroup/<target group name>/<target group id>`: the ALB's and the
     * target group's ARN suffixes joined by "/"
     * (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html).
     * @default none: CPU only
     */
    requestCount?: { resourceLabel: pulumi.Input<string>; requestsPerTarget: number };
    /**
     * Scheduled changes of the floor and ceiling (see schedule.ts).
     * @default []
     */
    schedules?: readonly ScaleSchedule[];
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
    const target = new aws.appautoscaling.Target(childName(name, "scaling"), {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${args.clusterName}/${args.serviceName}`,
        minCapacity: args.minCount,
        maxCapacity: args.maxCount,
    }, { parent });
    const on = {
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
    };
    const policies = [new aws.appautoscaling.Policy(childName(name, "cpu-scaling"), {
        policyType: "TargetTrackingScaling",
        ...on,
        targetTrackingScalingPolicyConfiguration: {
            predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
            targetValue: CPU_SCALING.targetPercent,
            ...SCALING_COOLDOWNS,
        },
    }, { parent })];
    if (args.requestCount) {
        policies.push(new aws.appautoscaling.Policy(childName(name, "request-scaling"), {
            policyType: "TargetTrackingScaling",
            ...on,
            targetTrackingScalingPolicyConfiguration: {
                predefinedMetricSpecification: {
                    predefinedMetricType: "ALBRequestCountPerTarget",
                    resourceLabel: args.requestCount.resourceLabel,
                },
                targetValue: args.requestCount.requestsPerTarget,
                ...SCALING_COOLDOWNS,
            },
        }, { parent }));
    }
    const scheduledActions = (args.schedules ?? []).map((schedule) => new aws.appautoscaling.ScheduledAction(childName(name, `schedule-${schedule.name}`), {
        name: schedule.name,
        ...on,
        schedule: schedule.schedule,
        timezone: schedule.timezone ?? "UTC",
        // Both bounds, always: an action that left the ceiling at a night-time 0 would make the next
        // morning's floor exceed it.
        scalableTargetAction: { minCapacity: schedule.minCount, maxCapacity: schedule.maxCount ?? args.maxCount },
    }, { parent }));
    return { target, policies, scheduledActions };
}
