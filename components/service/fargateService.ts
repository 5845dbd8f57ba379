import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createAlbRoute } from "../edge/albRoute";
import { childName } from "../../core/naming";
import { deploymentCheckTimeout, rolloutTimeline } from "../../core/rolloutTimeline";
import type { Rollout } from "../../core/rolloutStrategy";
import { createAutoscaling } from "./autoscaling";
import { DeploymentCheck } from "./deploymentCheck";
import { createEcsService } from "./ecsService";
import { validateFargateServiceArgs, type Callee, type FargateServiceArgs } from "./fargateServiceArgs";
import { createStoredSecrets } from "./secrets";
import { admitToCallees, connectToDatabase, createSecurityGroup } from "./serviceSecurity";
import { createTaskDefinition } from "./taskDefinition";
import type { ContainerSpec } from "../../core/taskContainers";

export type { BackendExposure, Callee, FargateServiceArgs, PublicExposure } from "./fargateServiceArgs";
export { capacityProviderStrategy, serviceRevision } from "./ecsService";

/** The readiness gate's default command: starts the image's `node` and exits at once. */
export const READINESS_GATE_COMMAND = ["node", "-e", "0"];

/** The arguments with their defaults applied: one place per default, matching its `@default`. */
interface Resolved {
    maxCount: number;
    rollout: Rollout;
    calls: Callee[];
    /** Application Auto Scaling owns the task count: a higher ceiling, or any schedule. */
    autoscaled: boolean;
    verify: boolean;
}

type StoredSecrets = ReturnType<typeof createStoredSecrets>;
type TaskParts = ReturnType<typeof createTaskDefinition>;
type Route = ReturnType<typeof createAlbRoute>;
type Network = ReturnType<typeof createSecurityGroup> & { callRules: pulumi.Resource[]; databaseRules: pulumi.Resource[] };

/**
 * One microservice on Fargate, public or backend.
 *
 * Creates: the task definition with its log group and roles (`taskDefinition.ts`); a security group
 * admitting the container port only from the ALB (public) or only from the services that call it (their
 * own ingress rules), with its egress rule; ingress rules on the groups of the backends it calls; the ECS
 * service in the private subnets without public IP, with the deployment circuit breaker rolling back failed
 * deployments and ECS Service Connect, deployed with the strategy of `rollout`; a deployment check that fails
 * `pulumi up` when a deployment does not complete (`deploymentCheck.ts`); for a public service the ALB route
 * with the second target group, test rule and role ECS shifts traffic with (`albRoute.ts`); when `maxCount`
 * exceeds `desiredCount` or a schedule applies, target-tracking and scheduled scaling (`autoscaling.ts`);
 * for a service that uses the database, the database's ingress rule from it and its egress rule to it; and a
 * Secrets Manager secret per entry of `secretValues` (`secrets.ts`). The service runs on a
 * FARGATE/FARGATE_SPOT capacity provider strategy, rolls back on its deployment alarms, and may allow ECS Exec.
 */
export class FargateService extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly serviceArn: pulumi.Output<string>;
    /** The Secrets Manager secrets its tasks read at start: the ones given and the ones it stores. */
    public readonly secretArns: pulumi.Input<string>[];
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly taskDefinitionArn: pulumi.Output<string>;
    /** The task role's name, for grants made beside the service (a publisher's topics: components/messaging/). */
    public readonly taskRoleName: pulumi.Output<string>;
    /** Public services only. */
    public readonly targetGroupArn?: pulumi.Output<string>;
    /** Public services only: `targetgroup/<name>/<id>`, the dimension of its ALB metrics. */
    public readonly targetGroupArnSuffix?: pulumi.Output<string>;
    /**
     * Public services only: the suffixes of every target group the service's tasks may be in, the alternate
     * one too when ECS shifts traffic between two (whichever serves after a deployment).
     */
    public readonly targetGroupArnSuffixes?: pulumi.Output<string>[];
    /** Resolves once the service's deployment completed: what callers and dependents wait for. */
    public readonly ready: pulumi.Resource;

    private readonly name: string;
    private readonly port: number;

    constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:service:FargateService", name, {}, opts);
        validateFargateServiceArgs(name, args);
        this.name = name;
        this.port = args.port;
        const resolved = resolve(args);

        const stored = this.storeSecrets(args);
        const secretArns = [...(args.secretArns ?? []), ...Object.values(stored.arns)];
        const task = this.createTask(args, stored, secretArns);
        const { securityGroup, egress } = createSecurityGroup(name, args, this);
        const route = this.createRoute(args, securityGroup.id);
        const network = { securityGroup, egress, ...this.admitToOthers(args, resolved.calls, securityGroup) };
        const { service, revision } = this.createService(args, resolved, { task, network, route, stored });
        if (resolved.autoscaled) {
            this.createScaling(args, resolved.maxCount, service, route);
        }
        this.ready = this.checkDeployments(args, resolved, { service, revision, task, route });

        this.serviceName = service.name;
        this.serviceArn = service.arn;
        this.secretArns = secretArns;
        this.securityGroupId = network.securityGroup.id;
        this.logGroupName = task.logGroup.name;
        this.taskDefinitionArn = task.taskDefinition.arn;
        this.taskRoleName = task.taskRole.name;
        this.targetGroupArn = route?.targetGroup.arn;
        this.targetGroupArnSuffix = route?.targetGroup.arnSuffix;
        this.targetGroupArnSuffixes = route ? [route.targetGroup.arnSuffix, route.shift.alternateTargetGroup.arnSuffix] : undefined;
        this.registerOutputs({
            serviceName: this.serviceName,
            securityGroupId: this.securityGroupId,
            logGroupName: this.logGroupName,
            taskDefinitionArn: this.taskDefinitionArn,
            targetGroupArn: this.targetGroupArn,
        });
    }

    /** What a service that calls this one needs to know of it. */
    asCallee(): Callee {
        return { name: this.name, port: this.port, securityGroupId: this.securityGroupId, ready: this.ready };
    }

    /** A Secrets Manager secret per entry of `secretValues` (`secrets.ts`). */
    private storeSecrets(args: FargateServiceArgs): StoredSecrets {
        return createStoredSecrets(
            this.name,
            {
                values: args.secretValues ?? {},
                namePrefix: args.secretNamePrefix ?? `${this.name}/`,
                recoveryWindowDays: args.secretRecoveryWindowDays,
            },
            this,
        );
    }

    /** The task definition with its log group and roles (`taskDefinition.ts`). */
    private createTask(args: FargateServiceArgs, stored: StoredSecrets, secretArns: pulumi.Input<string>[]): TaskParts {
        return createTaskDefinition(
            this.name,
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
                container: {
                    name: this.name,
                    image: args.image,
                    port: args.port,
                    environment: args.environment,
                    secrets: { ...args.secrets, ...stored.arns },
                    healthCheckCommand: args.healthCheckCommand,
                },
                sidecars: [...this.readinessGate(args), ...(args.sidecars ?? [])],
                tracing: args.tracing,
                secretArns,
                taskSecretArns: args.database?.credentialSecretArn !== undefined ? [args.database.credentialSecretArn] : [],
                parameterArns: args.parameterArns,
                execCommand: args.enableExecuteCommand,
                protectLogs: args.protectLogs,
                retainLogs: args.retainLogs,
                permissionsBoundary: args.permissionsBoundary,
                rolePath: args.rolePath,
            },
            this,
        );
    }

    /**
     * Ingress rules on the groups of the backends it calls, and for a service that uses the database, the
     * database's ingress rule from it and its egress rule to it (`serviceSecurity.ts`).
     */
    private admitToOthers(args: FargateServiceArgs, calls: Callee[], securityGroup: aws.ec2.SecurityGroup): Pick<Network, "callRules" | "databaseRules"> {
        return {
            callRules: admitToCallees(this.name, calls, securityGroup, this),
            databaseRules: args.database ? connectToDatabase(this.name, args.database, securityGroup, this) : [],
        };
    }

    /** For a public service, the ALB route with the second target group, test rule and role ECS shifts traffic with (`albRoute.ts`). */
    private createRoute(args: FargateServiceArgs, securityGroupId: pulumi.Input<string>): Route | undefined {
        if (args.expose.kind !== "public") {
            return undefined;
        }
        return createAlbRoute(
            this.name,
            {
                vpcId: args.vpcId,
                listenerArn: args.expose.listenerArn,
                loadBalancerSecurityGroupId: args.expose.loadBalancerSecurityGroupId,
                serviceSecurityGroupId: securityGroupId,
                port: args.port,
                healthPath: args.healthPath,
                pathPatterns: args.expose.pathPatterns,
                hostNames: args.expose.hostNames,
                priority: args.expose.priority,
                jwt: args.expose.jwt,
                permissionsBoundary: args.permissionsBoundary,
                rolePath: args.rolePath,
            },
            this,
        );
    }

    /** The ECS service (`ecsService.ts`), after everything its tasks need to start and serve. */
    private createService(
        args: FargateServiceArgs,
        resolved: Resolved,
        parts: { task: TaskParts; network: Network; route?: Route; stored: StoredSecrets },
    ): ReturnType<typeof createEcsService> {
        const { task, network, route, stored } = parts;
        return createEcsService(
            this.name,
            {
                args,
                rollout: resolved.rollout,
                taskDefinition: task.taskDefinition,
                securityGroup: network.securityGroup,
                route,
                autoscaled: resolved.autoscaled,
                // ECS refuses a target group that no listener rule uses yet; tasks need their egress rule and the
                // NAT route to pull the image; Service Connect clients must start after the endpoints they call
                // exist and serve, and be let in by them.
                dependsOn: [
                    network.egress,
                    ...(args.egressRoutes ?? []),
                    ...(route ? [route.rule] : []),
                    // ECS checks the rules and assumes the role when it takes the advanced configuration.
                    ...(route ? [route.shift.testRule, route.shift.rolePolicy] : []),
                    ...network.callRules,
                    ...resolved.calls.map((callee) => callee.ready),
                    // Services migrate their schema at start: the database must let them in by then, and their
                    // secrets must hold a value.
                    ...network.databaseRules,
                    ...stored.versions,
                ],
            },
            this,
        );
    }

    /** Target-tracking and scheduled scaling (`autoscaling.ts`). */
    private createScaling(args: FargateServiceArgs, maxCount: number, service: aws.ecs.Service, route: Route | undefined): void {
        const expose = args.expose;
        const requestsPerTarget = args.scaling?.requestsPerTarget;
        createAutoscaling(
            this.name,
            {
                clusterName: args.cluster.name,
                serviceName: service.name,
                minCount: args.desiredCount,
                maxCount,
                // Both target groups: after a deployment that shifted traffic the tasks serve from the other one.
                requestCount:
                    route && expose.kind === "public" && expose.loadBalancerArnSuffix !== undefined && requestsPerTarget !== undefined
                        ? {
                              loadBalancerArnSuffix: expose.loadBalancerArnSuffix,
                              targetGroupArnSuffixes: [route.targetGroup.arnSuffix, route.shift.alternateTargetGroup.arnSuffix],
                              requestsPerTarget,
                          }
                        : undefined,
                schedules: args.scaling?.schedules ?? [],
            },
            this,
        );
    }

    /**
     * A deployment check that fails `pulumi up` when a deployment does not complete (`deploymentCheck.ts`);
     * without it, the ECS service itself is what dependents wait for.
     */
    private checkDeployments(
        args: FargateServiceArgs,
        resolved: Resolved,
        parts: { service: aws.ecs.Service; revision: pulumi.Output<string>; task: TaskParts; route?: Route },
    ): pulumi.Resource {
        const { service, revision, task, route } = parts;
        if (!resolved.verify) {
            return service;
        }
        const timeline = rolloutTimeline({ rollout: resolved.rollout, kind: args.expose.kind, deploymentAlarms: (args.deploymentAlarmNames ?? []).length > 0 });
        return new DeploymentCheck(
            childName(this.name, "deployment"),
            {
                region: args.region,
                identity: args.awsIdentity,
                cluster: args.cluster.name,
                service: service.name,
                taskDefinitionArn: task.taskDefinition.arn,
                serviceRevision: revision,
                productionRuleArn: route?.rule.arn,
                strategy: resolved.rollout.strategy,
                // The longest this strategy's release is expected to take, and time for a rollback on top.
                timeoutSeconds: deploymentCheckTimeout(timeline),
            },
            { parent: this, dependsOn: [service] },
        );
    }

    /**
     * Service Connect sends requests to a new task once its proxy runs, before the application answers its
     * health check (aws/containers-roadmap#2334). ECS counts a task RUNNING only once all its containers
     * started, so a container that starts after the service's is HEALTHY holds the task, and with it the
     * endpoint, back until the service is ready: the workaround AWS validated in that issue
     * (https://github.com/aws/containers-roadmap/issues/2334#issuecomment-2285926075). It runs the service's
     * own image, already pulled, and exits at once.
     */
    private readinessGate(args: FargateServiceArgs): ContainerSpec<pulumi.Input<string>>[] {
        const command = args.readinessGate ?? READINESS_GATE_COMMAND;
        if (args.expose.kind !== "backend" || command === false) {
            return [];
        }
        return [
            {
                name: `${this.name}-ready`,
                image: args.image,
                essential: false,
                command: [...command],
                dependsOn: [{ containerName: this.name, condition: "HEALTHY" }],
            },
        ];
    }
}

function resolve(args: FargateServiceArgs): Resolved {
    const maxCount = args.maxCount ?? args.desiredCount;
    return {
        maxCount,
        rollout: args.rollout ?? { strategy: "rolling" },
        calls: args.calls ?? [],
        autoscaled: maxCount > args.desiredCount || (args.scaling?.schedules ?? []).length > 0,
        verify: args.verifyDeployment ?? true,
    };
}
