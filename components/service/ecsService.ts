import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { createAlbRoute } from "../edge/albRoute";
import { childName } from "../../core/naming";
import {
    DEPLOYMENT_MAXIMUM_PERCENT,
    DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
    HEALTH_CHECK_GRACE_PERIOD,
    SERVICE_CONNECT_IDLE_TIMEOUT,
    SERVICE_CONNECT_PER_REQUEST_TIMEOUT,
} from "../../core/rollout";
import { ecsDeploymentConfiguration, type Rollout } from "../../core/rolloutStrategy";
import type { FargateServiceArgs } from "./fargateServiceArgs";
import { PORT_NAME } from "../../core/taskContainers";

type AlbRoute = ReturnType<typeof createAlbRoute>;

/**
 * The ECS service in the private subnets without public IP, with the circuit breaker and the deployment alarms
 * rolling failed deployments back, ECS Service Connect, and the strategy of `rollout`; and the digest of its
 * inputs the deployment check takes (`serviceRevision`).
 */
export function createEcsService(
    name: string,
    spec: {
        args: FargateServiceArgs;
        rollout: Rollout;
        taskDefinition: aws.ecs.TaskDefinition;
        securityGroup: aws.ec2.SecurityGroup;
        route?: AlbRoute;
        autoscaled: boolean;
        dependsOn: pulumi.Resource[];
    },
    parent: pulumi.Resource,
): { service: aws.ecs.Service; revision: pulumi.Output<string> } {
    const { args, route, rollout } = spec;
    const expose = args.expose;
    const verify = args.verifyDeployment ?? true;
    const alarmNames = [...new Set(args.deploymentAlarmNames ?? [])];
    const ignoreChanges = [
        // Autoscaling owns the task count between deployments.
        ...(spec.autoscaled ? ["desiredCount"] : []),
        ...(route ? OWNED_BY_ECS : []),
    ];
    const inputs: aws.ecs.ServiceArgs = {
        cluster: args.cluster.arn,
        taskDefinition: spec.taskDefinition.arn,
        desiredCount: args.desiredCount,
        // A strategy instead of `launchType`. ECS takes the switch on an existing service only as a new
        // deployment ("When switching from launch type to capacity provider strategy on an existing
        // service ... you must force a new deployment"), and the AWS provider refuses any change of the
        // strategy without `forceNewDeployment` rather than replacing the service
        // (hashicorp/terraform-provider-aws#43533). So the first update after this change rolls every
        // service once, in place, and so does any later change of the service resource.
        capacityProviderStrategies: capacityProviderStrategy(args.capacity ?? { onDemandBase: 0, spotPercent: 0 }),
        forceNewDeployment: true,
        platformVersion: "LATEST",
        networkConfiguration: {
            subnets: args.subnetIds,
            securityGroups: [spec.securityGroup.id],
            assignPublicIp: false,
        },
        // The strategy, always stated (see ecsDeploymentConfiguration). The circuit breaker and the alarms
        // below apply to rolling and blue/green deployments alike
        // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html);
        // canary and linear deployments run the same lifecycle with other traffic steps.
        deploymentConfiguration: ecsDeploymentConfiguration(rollout),
        deploymentCircuitBreaker: { enable: true, rollback: true },
        // The one place deployment alarms are wired in: ECS fails and rolls back a deployment when any
        // of them goes to ALARM, alongside the circuit breaker, whichever trips first.
        alarms: alarmNames.length > 0 ? { alarmNames, enable: true, rollback: true } : undefined,
        enableExecuteCommand: args.enableExecuteCommand ?? false,
        deploymentMinimumHealthyPercent: DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
        deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
        loadBalancers: loadBalancers(name, args.port, route),
        healthCheckGracePeriodSeconds: expose.kind === "public" ? (expose.healthCheckGracePeriod ?? HEALTH_CHECK_GRACE_PERIOD) : undefined,
        serviceConnectConfiguration: serviceConnect(args),
        tags: args.tags,
        // Tasks carry the service's tags (the commit among them), so `aws ecs describe-tasks --include TAGS`
        // shows which commit each task runs.
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
        // The deployment check waits, and fails on a rolled-back deployment where this wait passes.
        waitForSteadyState: !verify,
    };
    const service = new aws.ecs.Service(childName(name, "service"), inputs, {
        parent,
        dependsOn: spec.dependsOn,
        ignoreChanges,
        // New target groups (a new port or VPC) come with a new service: their ARNs are not updated in
        // place (OWNED_BY_ECS), and the old groups cannot be deleted while a service uses them.
        replaceWith: route ? [route.targetGroup, route.shift.alternateTargetGroup] : undefined,
    });
    return { service, revision: serviceRevision(inputs, ignoreChanges) };
}

/** A public service's target groups, stated once at creation (`OWNED_BY_ECS`). */
function loadBalancers(name: string, port: number, route: AlbRoute | undefined): aws.ecs.ServiceArgs["loadBalancers"] {
    if (!route) {
        return undefined;
    }
    return [
        {
            targetGroupArn: route.targetGroup.arn,
            containerName: name,
            containerPort: port,
            // On every public service, whatever its strategy (see createAlbRoute).
            advancedConfiguration: {
                alternateTargetGroupArn: route.shift.alternateTargetGroup.arn,
                productionListenerRule: route.rule.arn,
                testListenerRule: route.shift.testRule.arn,
                roleArn: route.shift.role.arn,
            },
        },
    ];
}

/** ECS Service Connect: every service is a client; a backend is also an endpoint under its discovery name. */
function serviceConnect(args: FargateServiceArgs): aws.ecs.ServiceArgs["serviceConnectConfiguration"] {
    const expose = args.expose;
    return {
        enabled: true,
        namespace: args.namespaceArn,
        services:
            expose.kind === "backend"
                ? [
                      {
                          portName: PORT_NAME,
                          discoveryName: expose.discoveryName,
                          // No test traffic rules: without them, Service Connect sends callers' requests that carry
                          // its default test header (TEST_TRAFFIC_HEADER's name) to a new version ECS is testing
                          // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-blue-green.html),
                          // and a change of strategy stays a change of strategy alone.
                          clientAlias: [{ port: args.port, dnsName: expose.discoveryName }],
                          timeout: {
                              // Below the services' 65 s keep-alive, so the proxy never reuses a connection the
                              // service is closing.
                              idleTimeoutSeconds: SERVICE_CONNECT_IDLE_TIMEOUT,
                              // Above the gateway's TIMEOUT_MS, so that the gateway answers 504 first.
                              perRequestTimeoutSeconds: SERVICE_CONNECT_PER_REQUEST_TIMEOUT,
                          },
                      },
                  ]
                : undefined,
    };
}

/**
 * A digest of everything the program gives the ECS service, but what an update leaves as it is
 * (`ignoreChanges`): it changes exactly when the service is updated. Every update sends
 * `forceNewDeployment`, so an update of any input but the tags starts a deployment (desired count, capacity
 * share, grace period, network; the AWS provider calls UpdateService unless only the tags changed:
 * hashicorp/terraform-provider-aws, internal/service/ecs/service.go, `resourceServiceUpdate`,
 * `d.HasChangesExcept(..., tags, tags_all)`); the deployment check takes this digest as an input, because
 * Pulumi updates a dynamic resource only when its inputs differ and its `diff` reports `changes`
 * (https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/interfaces/provider.DiffResult.html);
 * `dependsOn` on the service orders the check, it does not re-run it.
 */
export function serviceRevision(inputs: aws.ecs.ServiceArgs, ignoreChanges: readonly string[]): pulumi.Output<string> {
    return pulumi.output(inputs).apply((resolved) => {
        const kept = JSON.parse(JSON.stringify(resolved)) as Record<string, unknown>;
        for (const path of ignoreChanges) {
            const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
            const last = keys.pop()!;
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            const holder = keys.reduce<any>((at, key) => (at === undefined ? undefined : at[key]), kept);
            if (holder !== undefined) {
                delete holder[last];
            }
        }
        return createHash("sha256").update(stableJson(kept)).digest("hex").slice(0, 32);
    });
}

/** JSON with every object's keys sorted, so that the digest does not depend on the order they were written in. */
function stableJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(stableJson).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * What ECS decides about a public service's load balancer after creation: which of the two target groups is
 * the production one. The AWS provider resends the whole `loadBalancers` list in an UpdateService whenever
 * its state differs from the program's (hashicorp/terraform-provider-aws, internal/service/ecs/service.go,
 * `resourceServiceUpdate`: `if d.HasChange("load_balancer") { input.LoadBalancers = expandLoadBalancers(...) }`,
 * with the state read back from DescribeServices), and deployments driven through the provider are reported
 * not to alternate the groups as console deployments do (hashicorp/terraform-provider-aws#45678, open). So
 * Berth states the groups once, at creation, and leaves them to ECS; the deployment check verifies where the
 * production rule sends traffic after each release (rolloutCheck.ts).
 */
const OWNED_BY_ECS = ["loadBalancers[0].targetGroupArn", "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn"];

/**
 * The capacity provider strategy for an on-demand base and a Spot share. Both providers are always listed,
 * so that changing the share changes weights, not the strategy's shape.
 */
export function capacityProviderStrategy(capacity: {
    onDemandBase: number;
    spotPercent: number;
}): Array<{ capacityProvider: string; base?: number; weight: number }> {
    return [
        { capacityProvider: "FARGATE", base: capacity.onDemandBase, weight: 100 - capacity.spotPercent },
        { capacityProvider: "FARGATE_SPOT", weight: capacity.spotPercent },
    ];
}
