import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "./naming";

/** CPU target tracking: scale out fast, scale in slowly so that a short lull does not drop capacity. */
export const CPU_SCALING = { targetPercent: 60, scaleOutCooldown: 60, scaleInCooldown: 300 } as const;

export interface AutoscalingArgs {
    /** The cluster's name. */
    clusterName: pulumi.Input<string>;
    /** The ECS service's name. */
    serviceName: pulumi.Input<string>;
    /** The floor: the service's desired count. */
    minCount: number;
    /** The ceiling, above `minCount`. */
    maxCount: number;
}

/** An Application Auto Scaling target on the service's task count and a CPU target-tracking policy. */
export function createAutoscaling(name: string, args: AutoscalingArgs, parent: pulumi.Resource): aws.appautoscaling.Target {
    const target = new aws.appautoscaling.Target(childName(name, "scaling"), {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${args.clusterName}/${args.serviceName}`,
        minCapacity: args.minCount,
        maxCapacity: args.maxCount,
    }, { parent });
    new aws.appautoscaling.Policy(childName(name, "cpu-scaling"), {
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
            predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
            targetValue: CPU_SCALING.targetPercent,
            scaleOutCooldown: CPU_SCALING.scaleOutCooldown,
            scaleInCooldown: CPU_SCALING.scaleInCooldown,
        },
    }, { parent });
    return target;
}
