/**
 * Whether a service's deployment of a given task definition held: pure logic over the ECS API, injectable
 * (the dynamic resource in deploymentCheck.ts passes the AWS SDK; tests pass a fake).
 *
 * What ECS reports (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html): each
 * deployment of a service has a `taskDefinition` and a `rolloutState` of IN_PROGRESS, COMPLETED or FAILED,
 * with `rolloutStateReason`. When the circuit breaker declares a deployment FAILED it stops launching tasks
 * and, with rollback on, starts a new deployment of the last one that COMPLETED
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html); once that
 * rollback completes, the failed deployment leaves the service's `deployments` list and the service runs the
 * old task definition again. On a first deploy nothing ever COMPLETED: the deployment stays FAILED, with no
 * task running. Either way the AWS provider's steady-state wait sees a stable service and succeeds
 * (terraform-aws-modules/terraform-aws-ecs#325, hashicorp/terraform-provider-aws#20858); this module does not.
 *
 * Deployment alarms end a deployment the same way: with alarms configured, a deployment whose tasks are all
 * healthy stays IN_PROGRESS for a bake time while ECS watches the alarms; if one goes to ALARM, the
 * deployment turns FAILED and, with rollback on, ECS rolls back to the last COMPLETED one
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html). ECS does not
 * document the wording of `rolloutStateReason` in that case, so the check does not parse it: a FAILED
 * deployment or a rolled-back service fails `pulumi up` whatever the cause, and the message names the
 * service's deployment alarms, where the cause most likely is when no task stopped for a reason of its own.
 *
 * Canary, linear and blue/green deployments report differently: `rolloutState` is returned only for rolling
 * updates (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html), and ECS keeps
 * the state of these deployments in service deployments
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html): a `status`
 * (PENDING, IN_PROGRESS, SUCCESSFUL, STOP_REQUESTED, STOPPED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS,
 * ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED), the `lifecycleStage` it is at (SCALE_UP, TEST_TRAFFIC_SHIFT,
 * PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP, ...), the traffic weights of the target revision, and on
 * failure the `rollback` and the alarms or circuit breaker that triggered it. A rollback is the same service
 * deployment's status, not a deployment of its own. The check finds the service deployment whose target
 * revision runs the task definition (ListServiceDeployments, DescribeServiceRevisions), passes on SUCCESSFUL
 * and fails on any rollback or stop: unlike the AWS provider's own wait, which passes ROLLBACK_SUCCESSFUL
 * (hashicorp/terraform-provider-aws, internal/service/ecs/service_deployment_wait_test.go).
 *
 * No imports: the dynamic provider serializes the functions that use it.
 */

/** The parts of ECS's DescribeServices answer this module reads. */
export interface EcsDeployment {
    id?: string;
    status?: string;
    taskDefinition?: string;
    rolloutState?: string;
    rolloutStateReason?: string;
    desiredCount?: number;
    runningCount?: number;
    failedTasks?: number;
}

export interface EcsService {
    serviceName?: string;
    status?: string;
    taskDefinition?: string;
    deployments?: EcsDeployment[];
    /** The alarms ECS fails deployments on, as DescribeServices reports them. */
    deploymentConfiguration?: { alarms?: { alarmNames?: string[]; enable?: boolean; rollback?: boolean } };
}

export interface EcsStoppedTask {
    taskArn?: string;
    taskDefinitionArn?: string;
    stoppedReason?: string;
    containers?: Array<{ name?: string; reason?: string; exitCode?: number }>;
    /** A Fargate task's network interface: `details` holds its `privateIPv4Address`, its ALB target ID. */
    attachments?: Array<{ type?: string; details?: Array<{ name?: string; value?: string }> }>;
}

/** A service deployment as ListServiceDeployments lists it. */
export interface EcsServiceDeploymentBrief {
    serviceDeploymentArn?: string;
    targetServiceRevisionArn?: string;
    status?: string;
    createdAt?: Date;
}

/** The parts of a service deployment (DescribeServiceDeployments) this module reads. */
export interface EcsServiceDeployment {
    serviceDeploymentArn?: string;
    status?: string;
    statusReason?: string;
    lifecycleStage?: string;
    targetServiceRevision?: {
        arn?: string;
        requestedTaskCount?: number;
        runningTaskCount?: number;
        requestedProductionTrafficWeight?: number;
    };
    rollback?: { reason?: string; serviceRevisionArn?: string };
    alarms?: { status?: string; alarmNames?: string[]; triggeredAlarmNames?: string[] };
    deploymentCircuitBreaker?: { status?: string; failureCount?: number; threshold?: number };
}

/** The ECS calls the check makes, in the AWS SDK's request and response shapes. */
export interface EcsApi {
    describeServices(input: { cluster: string; services: string[] }): Promise<{ services?: EcsService[] }>;
    listTasks(input: { cluster: string; serviceName: string; desiredStatus: "STOPPED" | "RUNNING" }): Promise<{ taskArns?: string[] }>;
    describeTasks(input: { cluster: string; tasks: string[] }): Promise<{ tasks?: EcsStoppedTask[] }>;
    listServiceDeployments(input: { cluster: string; service: string; maxResults: number }): Promise<{ serviceDeployments?: EcsServiceDeploymentBrief[] }>;
    describeServiceDeployments(input: { serviceDeploymentArns: string[] }): Promise<{ serviceDeployments?: EcsServiceDeployment[] }>;
    describeServiceRevisions(input: {
        serviceRevisionArns: string[];
    }): Promise<{ serviceRevisions?: Array<{ serviceRevisionArn?: string; taskDefinition?: string }> }>;
}

/** The parts of an ALB listener rule (DescribeRules) this module reads. */
export interface ElbRule {
    RuleArn?: string;
    Actions?: Array<{
        Type?: string;
        TargetGroupArn?: string;
        ForwardConfig?: { TargetGroups?: Array<{ TargetGroupArn?: string; Weight?: number }> };
    }>;
}

/** The Elastic Load Balancing calls the check makes for a public service, in the AWS SDK's shapes. */
export interface ElbApi {
    describeRules(input: { RuleArns: string[] }): Promise<{ Rules?: ElbRule[] }>;
    describeTargetHealth(input: { TargetGroupArn: string }): Promise<{
        TargetHealthDescriptions?: Array<{ Target?: { Id?: string; Port?: number }; TargetHealth?: { State?: string } }>;
    }>;
}

/** The deployment to confirm. */
export interface RolloutTarget {
    cluster: string;
    service: string;
    /** The task definition ARN `pulumi up` just registered and gave the service. */
    taskDefinitionArn: string;
    /**
     * The service's strategy (rolloutStrategy.ts): `rolling` reads DescribeServices' deployments, the others
     * service deployments.
     * @default "rolling"
     */
    strategy?: string;
    /**
     * A public service's production listener rule: once the deployment completed, every target group it
     * forwards traffic to must hold healthy tasks of the new task definition (`productionRuleProblem`).
     * @default none: a backend
     */
    productionRuleArn?: string;
}

/** What one look at the service says. */
export type Verdict =
    | { state: "COMPLETED"; /** The deployment's ID (rolling) or service deployment ARN. */ deployment?: string }
    | { state: "IN_PROGRESS"; detail: string }
    | { state: "FAILED"; detail: string; /** No deployment of the target is listed: rolled back, or not visible yet. */ unseen?: true };

/** The short form of a task definition ARN: `family:revision`. */
export function shortTaskDefinition(arn: string | undefined): string {
    return arn?.split("/").pop() ?? "(none)";
}

/** Reads one DescribeServices answer. */
export function judge(service: EcsService | undefined, target: RolloutTarget): Verdict {
    if (!service) {
        return { state: "FAILED", detail: "ECS does not know the service" };
    }
    const wanted = shortTaskDefinition(target.taskDefinitionArn);
    // An update that keeps the task definition starts a deployment of the same one: the PRIMARY is the newest.
    const ofTarget = (service.deployments ?? []).filter((d) => d.taskDefinition === target.taskDefinitionArn);
    const deployment = ofTarget.find((d) => d.status === "PRIMARY") ?? ofTarget[0];
    const runs = service.taskDefinition === target.taskDefinitionArn;

    if (deployment?.rolloutState === "FAILED") {
        const back = runs ? "" : service.taskDefinition ? `; ECS rolled the service back to ${shortTaskDefinition(service.taskDefinition)}` : "";
        const first =
            runs && (service.deployments ?? []).length === 1 ? "; no earlier deployment completed, so there was nothing to roll back to and no task runs" : "";
        return {
            state: "FAILED",
            detail: `deployment ${deployment.id ?? "?"} of ${wanted} is FAILED${reason(deployment)}${back}${first}${alarms(service)}`,
        };
    }
    if (deployment && deployment.rolloutState === "COMPLETED" && runs && deployment.status === "PRIMARY") {
        return { state: "COMPLETED", deployment: deployment.id };
    }
    if (!deployment && !runs) {
        // The failed deployment is gone from the list once the rollback completed.
        return {
            state: "FAILED",
            detail: `the service runs ${shortTaskDefinition(service.taskDefinition)}, not ${wanted}: its deployment was rolled back${alarms(service)}`,
            unseen: true,
        };
    }
    // ECS keeps the old deployment listed until the bake time ends, so all new tasks running is the sign.
    const baking =
        deployment !== undefined &&
        deployment.desiredCount !== undefined &&
        deployment.runningCount === deployment.desiredCount &&
        watchedAlarms(service).length > 0;
    const counts = deployment
        ? baking
            ? ` (all ${deployment.runningCount} tasks running; ECS watches the deployment alarms until the bake time ends)`
            : ` (${deployment.runningCount ?? 0} of ${deployment.desiredCount ?? 0} tasks running)`
        : "";
    return {
        state: "IN_PROGRESS",
        detail: `deployment ${deployment?.id ?? "?"} of ${wanted} is ${deployment?.rolloutState ?? "IN_PROGRESS"}${counts}${reason(deployment)}`,
    };
}

function reason(d: EcsDeployment | undefined): string {
    return d?.rolloutStateReason ? `: ${d.rolloutStateReason}` : "";
}

/** The alarms a deployment of `service` fails on. */
function watchedAlarms(service: EcsService): string[] {
    const config = service.deploymentConfiguration?.alarms;
    return config?.enable ? (config.alarmNames ?? []) : [];
}

function alarms(service: EcsService): string {
    const names = watchedAlarms(service);
    return names.length > 0 ? `; its deployments fail when one of these alarms goes to ALARM: ${names.join(", ")}` : "";
}

/** Why the service's stopped tasks of the target task definition stopped, newest first, at most `limit`. */
export async function stoppedTaskReasons(api: EcsApi, target: RolloutTarget, limit = 3): Promise<string[]> {
    const listed = await api.listTasks({ cluster: target.cluster, serviceName: target.service, desiredStatus: "STOPPED" });
    const arns = (listed.taskArns ?? []).slice(0, 100);
    if (arns.length === 0) {
        return [];
    }
    const described = await api.describeTasks({ cluster: target.cluster, tasks: arns });
    return (described.tasks ?? [])
        .filter((t) => t.taskDefinitionArn === target.taskDefinitionArn)
        .slice(0, limit)
        .map((t) => {
            const containers = (t.containers ?? [])
                .filter((c) => c.reason || c.exitCode !== undefined)
                .map((c) => `container ${c.name}: ${[c.reason, c.exitCode !== undefined ? `exit code ${c.exitCode}` : ""].filter(Boolean).join(", ")}`);
            return `task ${t.taskArn?.split("/").pop() ?? "?"}: ${t.stoppedReason ?? "no reason given"}${containers.length ? ` (${containers.join("; ")})` : ""}`;
        });
}

/** The statuses of a service deployment that end it without the new version: it rolled back or stopped. */
const ROLLED_BACK = ["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOP_REQUESTED", "STOPPED"];

/** The last part of an ARN: a service deployment's ID. */
function lastPart(arn: string | undefined): string {
    return arn?.split("/").pop() ?? "?";
}

/**
 * Reads one service deployment of a canary, linear or blue/green rollout. `taskDefinitionOf` gives the task
 * definition of a service revision, where known.
 */
export function judgeServiceDeployment(
    deployment: EcsServiceDeployment | undefined,
    target: RolloutTarget,
    taskDefinitionOf: (revisionArn: string | undefined) => string | undefined,
): Verdict {
    const wanted = shortTaskDefinition(target.taskDefinitionArn);
    if (!deployment) {
        return { state: "IN_PROGRESS", detail: `ECS lists no deployment of ${wanted} yet` };
    }
    const id = lastPart(deployment.serviceDeploymentArn);
    const status = deployment.status ?? "PENDING";
    const stage = deployment.lifecycleStage ? ` at ${deployment.lifecycleStage}` : "";
    const reason = deployment.statusReason ? `: ${deployment.statusReason}` : "";
    if (status === "SUCCESSFUL") {
        return { state: "COMPLETED", deployment: deployment.serviceDeploymentArn };
    }
    if (ROLLED_BACK.includes(status)) {
        const back = deployment.rollback?.serviceRevisionArn
            ? `; ECS ${status === "ROLLBACK_SUCCESSFUL" ? "rolled" : "rolls"} the service back to ${shortTaskDefinition(taskDefinitionOf(deployment.rollback.serviceRevisionArn) ?? deployment.rollback.serviceRevisionArn)}`
            : "";
        const why = deployment.rollback?.reason && deployment.rollback.reason !== deployment.statusReason ? `; rollback: ${deployment.rollback.reason}` : "";
        const triggered = deployment.alarms?.triggeredAlarmNames?.length
            ? `; alarms that went to ALARM: ${deployment.alarms.triggeredAlarmNames.join(", ")}`
            : deployment.alarms?.alarmNames?.length
              ? `; its deployments fail when one of these alarms goes to ALARM: ${deployment.alarms.alarmNames.join(", ")}`
              : "";
        const breaker =
            deployment.deploymentCircuitBreaker?.status === "TRIGGERED"
                ? `; the circuit breaker counted ${deployment.deploymentCircuitBreaker.failureCount ?? "?"} failed tasks (threshold ${deployment.deploymentCircuitBreaker.threshold ?? "?"})`
                : "";
        const failedToo = status === "ROLLBACK_FAILED" ? "; the rollback failed too, so check the service's events: the old version may not serve" : "";
        return { state: "FAILED", detail: `deployment ${id} of ${wanted} is ${status}${stage}${reason}${why}${back}${triggered}${breaker}${failedToo}` };
    }
    const revision = deployment.targetServiceRevision;
    const tasks = revision?.requestedTaskCount !== undefined ? `${revision.runningTaskCount ?? 0} of ${revision.requestedTaskCount} new tasks running` : "";
    const weight = revision?.requestedProductionTrafficWeight;
    const traffic =
        deployment.lifecycleStage === "BAKE_TIME"
            ? "all production traffic on the new version; ECS keeps the old one and watches the deployment alarms until the bake time ends"
            : weight !== undefined
              ? `${weight} % of production traffic on the new version`
              : "";
    const counts = [tasks, traffic].filter(Boolean).join("; ");
    return { state: "IN_PROGRESS", detail: `deployment ${id} of ${wanted} is ${status}${stage}${counts ? ` (${counts})` : ""}${reason}` };
}

/** One look at a canary, linear or blue/green rollout: the newest service deployment of the task definition. */
async function lookAtServiceDeployment(api: EcsApi, target: RolloutTarget): Promise<Verdict> {
    const listed = await api.listServiceDeployments({ cluster: target.cluster, service: target.service, maxResults: 20 });
    const briefs = [...(listed.serviceDeployments ?? [])].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    const revisionArns = [...new Set(briefs.map((b) => b.targetServiceRevisionArn).filter((a): a is string => a !== undefined))].slice(0, 20);
    const taskDefinitions = new Map<string, string>();
    const learn = async (arns: string[]) => {
        if (arns.length === 0) {
            return;
        }
        const described = await api.describeServiceRevisions({ serviceRevisionArns: arns });
        for (const r of described.serviceRevisions ?? []) {
            if (r.serviceRevisionArn && r.taskDefinition) {
                taskDefinitions.set(r.serviceRevisionArn, r.taskDefinition);
            }
        }
    };
    await learn(revisionArns);
    const mine = briefs.find((b) => b.targetServiceRevisionArn !== undefined && taskDefinitions.get(b.targetServiceRevisionArn) === target.taskDefinitionArn);
    if (!mine?.serviceDeploymentArn) {
        return judgeServiceDeployment(undefined, target, () => undefined);
    }
    const described = await api.describeServiceDeployments({ serviceDeploymentArns: [mine.serviceDeploymentArn] });
    const deployment = described.serviceDeployments?.[0];
    const rollbackTo = deployment?.rollback?.serviceRevisionArn;
    if (rollbackTo && !taskDefinitions.has(rollbackTo)) {
        await learn([rollbackTo]);
    }
    return judgeServiceDeployment(deployment, target, (arn) => (arn === undefined ? undefined : taskDefinitions.get(arn)));
}

/**
 * Why the production rule does not serve the new version, or undefined when it does: each target group the
 * rule forwards traffic to (weight above 0) must hold a healthy target that is a running task of the new
 * task definition. ECS reports a deployment SUCCESSFUL from its own view of the service, and the AWS
 * provider resends its view of the load balancers on updates (see `OWNED_BY_ECS` in fargateService.ts,
 * hashicorp/terraform-provider-aws#45678), so the rule may end up on a group ECS did not register the new
 * tasks in; this is the look that tells. A Fargate task is registered by the primary private IPv4 address of
 * its network interface, target type `ip` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html).
 */
export async function productionRuleProblem(ecs: EcsApi, elb: ElbApi, target: RolloutTarget & { productionRuleArn: string }): Promise<string | undefined> {
    const rule = (await elb.describeRules({ RuleArns: [target.productionRuleArn] })).Rules?.[0];
    const forwards = (rule?.Actions ?? []).filter((a) => a.Type === "forward");
    const weighted = forwards.flatMap((a) =>
        a.ForwardConfig?.TargetGroups?.length
            ? a.ForwardConfig.TargetGroups.map((g) => ({ arn: g.TargetGroupArn, weight: g.Weight ?? 1 }))
            : [{ arn: a.TargetGroupArn, weight: 1 }],
    );
    const serving = weighted.filter((g): g is { arn: string; weight: number } => g.arn !== undefined && g.weight > 0);
    if (serving.length === 0) {
        return `the production rule ${lastPart(target.productionRuleArn)} forwards to no target group`;
    }
    const listed = await ecs.listTasks({ cluster: target.cluster, serviceName: target.service, desiredStatus: "RUNNING" });
    const arns = (listed.taskArns ?? []).slice(0, 100);
    const tasks = arns.length > 0 ? ((await ecs.describeTasks({ cluster: target.cluster, tasks: arns })).tasks ?? []) : [];
    const addresses = new Set(
        tasks
            .filter((t) => t.taskDefinitionArn === target.taskDefinitionArn)
            .flatMap((t) => (t.attachments ?? []).flatMap((a) => a.details ?? []))
            .filter((d) => d.name === "privateIPv4Address" && d.value !== undefined)
            .map((d) => d.value!),
    );
    const total = serving.reduce((sum, g) => sum + g.weight, 0);
    for (const group of serving) {
        const health = (await elb.describeTargetHealth({ TargetGroupArn: group.arn })).TargetHealthDescriptions ?? [];
        const fresh = health.filter((h) => h.Target?.Id !== undefined && addresses.has(h.Target.Id) && h.TargetHealth?.State === "healthy");
        if (fresh.length === 0) {
            const share = Math.round((100 * group.weight) / total);
            const holds = health.length === 0 ? "no target" : health.map((h) => `${h.Target?.Id ?? "?"} ${h.TargetHealth?.State ?? "?"}`).join(", ");
            return (
                `the production rule ${lastPart(target.productionRuleArn)} sends ${share} % of traffic to target group ` +
                `${group.arn.split(":").pop()}, which holds no healthy task of ${shortTaskDefinition(target.taskDefinitionArn)} ` +
                `(it holds ${holds}; the new tasks are ${[...addresses].join(", ") || "none"})`
            );
        }
    }
    return undefined;
}

export interface WaitOptions {
    /** Give up after this long. */
    timeoutMs: number;
    /** Ask ECS this often. */
    pollMs: number;
    /** @default setTimeout */
    sleep?: (ms: number) => Promise<void>;
    /** @default Date.now */
    now?: () => number;
    /** Progress lines, e.g. to Pulumi's log. */
    log?: (line: string) => void;
    /**
     * How long "the service runs another task definition and lists no deployment of the new one" counts as
     * ECS not showing the new deployment yet rather than a completed rollback, unless the deployment was seen.
     * @default four polls
     */
    consistencyGraceMs?: number;
    /**
     * The deployment the check confirmed last time (`Verdict.deployment`). An update of the service starts a
     * new one, possibly of the same task definition; finding the old one completed counts as ECS not listing
     * the new one yet, for the same grace, and then as an update that started none.
     * @default none: a first deployment
     */
    after?: string;
}

/** Why `pulumi up` fails: names the service, the deployment's state and the stopped tasks' reasons. */
export class RolloutError extends Error {
    constructor(
        readonly target: RolloutTarget,
        readonly state: string,
        detail: string,
        readonly stoppedTasks: string[],
    ) {
        super(
            `service "${target.service}" did not roll out ${shortTaskDefinition(target.taskDefinitionArn)}: ${state}: ${detail}` +
                (stoppedTasks.length
                    ? `\n  stopped tasks:\n${stoppedTasks.map((t) => `    - ${t}`).join("\n")}`
                    : "\n  no stopped task of this task definition was found"),
        );
        this.name = "RolloutError";
    }
}

/**
 * Polls the service until the deployment of `target.taskDefinitionArn` is COMPLETED and the service runs
 * it, and, for a public service, its production rule serves the new tasks (given `elb`); throws a
 * RolloutError when it FAILED, was rolled back, is still in progress at the timeout, or the rule still
 * serves other targets a grace after the deployment completed.
 */
export async function waitForRollout(api: EcsApi, target: RolloutTarget, options: WaitOptions, elb?: ElbApi): Promise<string | undefined> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = options.now ?? Date.now;
    const start = now();
    const deadline = start + options.timeoutMs;
    const rolling = (target.strategy ?? "rolling") === "rolling";
    const grace = options.consistencyGraceMs ?? 4 * options.pollMs;
    let seen = false;
    let completedAt: number | undefined;
    for (;;) {
        let verdict = rolling
            ? judge((await api.describeServices({ cluster: target.cluster, services: [target.service] })).services?.[0], target)
            : await lookAtServiceDeployment(api, target);
        // ECS's API is eventually consistent (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html,
        // "The Amazon ECS API follows an eventual consistency model"): right after UpdateService, a read may
        // still show the old task definition and no deployment of the new one. That reads as a completed
        // rollback only once the deployment was seen, or after the grace.
        const unseen = verdict.state === "FAILED" && verdict.unseen === true;
        if (unseen && !seen && now() - start < grace) {
            verdict = { state: "IN_PROGRESS", detail: `ECS does not list a deployment of ${shortTaskDefinition(target.taskDefinitionArn)} yet` };
        }
        seen ||= !unseen;
        if (verdict.state === "COMPLETED" && options.after !== undefined && verdict.deployment === options.after && now() - start < grace) {
            verdict = {
                state: "IN_PROGRESS",
                detail: `ECS lists no deployment newer than ${options.after.startsWith("arn:") ? lastPart(options.after) : options.after} yet`,
            };
        }
        if (verdict.state === "COMPLETED" && target.productionRuleArn && elb) {
            const problem = await productionRuleProblem(api, elb, { ...target, productionRuleArn: target.productionRuleArn });
            if (problem !== undefined) {
                // Targets register and pass their health checks shortly after ECS counts the tasks: the same
                // grace as for a deployment not listed yet, from the first look that found it completed.
                completedAt ??= now();
                if (now() - completedAt >= grace) {
                    throw new RolloutError(target, "FAILED", `the deployment completed, but ${problem}`, []);
                }
                verdict = { state: "IN_PROGRESS", detail: `the deployment completed; waiting for the production rule: ${problem}` };
            }
        }
        if (verdict.state === "COMPLETED") {
            options.log?.(`${target.service}: ${shortTaskDefinition(target.taskDefinitionArn)} rolled out`);
            return verdict.deployment;
        }
        if (verdict.state === "FAILED") {
            throw new RolloutError(target, "FAILED", verdict.detail, await stoppedTaskReasons(api, target));
        }
        if (now() >= deadline) {
            throw new RolloutError(
                target,
                "still IN_PROGRESS",
                `${verdict.detail}; gave up after ${Math.round(options.timeoutMs / 1000)} s`,
                await stoppedTaskReasons(api, target),
            );
        }
        options.log?.(`${target.service}: ${verdict.detail}`);
        await sleep(options.pollMs);
    }
}
