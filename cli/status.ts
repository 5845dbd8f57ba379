/**
 * `berth status [service]` (Copilot's `svc status`): per service its tasks, its current deployment and
 * rollout state, the task definition revision and the commit it runs, its targets' health (public services),
 * its alarms in ALARM and the last ECS service events. Exits 1 when any service is unhealthy.
 */
import type { Service } from "@aws-sdk/client-ecs";
import { serviceAlarmNames } from "../core/alarmRules";
import { taskFamily } from "../core/naming";
import { queueAlarmNames } from "../core/messaging";
import { CliError, EXIT, serviceOutput, type AwsApis, type Deps, type StackOutputs, type StackView } from "./context";
import { COMMIT_TAG, COMMIT_VARIABLE } from "../core/imageRetention";

/** ECS returns at most 10 services per DescribeServices call. */
const DESCRIBE_SERVICES_LIMIT = 10;
/** How many of the service's events to show: ECS keeps the last 100, newest first. */
const EVENTS_SHOWN = 5;

export interface ServiceStatus {
    name: string;
    kind: string;
    ecsService: string;
    healthy: boolean;
    /** Why it is not healthy, each in a few words. */
    problems: string[];
    tasks: { running: number; desired: number; pending: number };
    deployment?: { id: string; rolloutState: string; reason?: string; startedAt?: string; others: number };
    taskDefinition?: { revision: string; commit?: string };
    targets?: Array<{ id: string; state: string; reason?: string }>;
    alarms: Array<{ name: string; since?: string; reason?: string }>;
    events: Array<{ at?: string; message: string }>;
}

export async function status(deps: Deps, stack: StackView, aws: AwsApis, only: string | undefined, asJson: boolean): Promise<number> {
    const outputs = (await stack.outputs()) as StackOutputs;
    const cluster = outputs.clusterName;
    if (!cluster) {
        throw new CliError(`stack ${stack.name} has no clusterName output; has it been deployed (pulumi up)?`);
    }
    const names = only ? [only] : Object.keys(outputs.services ?? {});
    const wanted = names.map((name) => {
        const out = serviceOutput(outputs, stack.name, name);
        if (!out.serviceName) {
            throw new CliError(`stack ${stack.name} has no services.${name}.serviceName output; run \`pulumi up\` with this version of Berth`);
        }
        return { name, kind: out.kind ?? "public", ecsService: out.serviceName };
    });
    deps.term.progress(`Asking ECS, ELB and CloudWatch about ${wanted.map((w) => w.name).join(", ")}`);
    const described = new Map<string, Service>();
    for (let i = 0; i < wanted.length; i += DESCRIBE_SERVICES_LIMIT) {
        const batch = wanted.slice(i, i + DESCRIBE_SERVICES_LIMIT);
        const answer = await aws.ecs.describeServices({ cluster, services: batch.map((w) => w.ecsService) });
        for (const s of answer.services ?? []) {
            described.set(s.serviceName!, s);
        }
    }
    const statuses: ServiceStatus[] = [];
    for (const w of wanted) {
        const service = described.get(w.ecsService);
        if (!service || service.status === "INACTIVE") {
            throw new CliError(`service ${w.name}: ECS service ${w.ecsService} not found in cluster ${cluster}; has it been destroyed?`);
        }
        statuses.push(await serviceStatus(aws, stack, w, service));
    }
    if (asJson) {
        deps.term.out(JSON.stringify(statuses, null, 2));
    } else {
        statuses.forEach((s, i) => {
            if (i > 0) {
                deps.term.out("");
            }
            printStatus(deps, s);
        });
    }
    return statuses.every((s) => s.healthy) ? EXIT.ok : EXIT.unhealthy;
}

async function serviceStatus(aws: AwsApis, stack: StackView, w: { name: string; kind: string; ecsService: string }, service: Service): Promise<ServiceStatus> {
    const problems: string[] = [];
    const tasks = { running: service.runningCount ?? 0, desired: service.desiredCount ?? 0, pending: service.pendingCount ?? 0 };
    if (tasks.running < tasks.desired) {
        problems.push(`${tasks.running} of ${tasks.desired} tasks running`);
    }
    const primary = service.deployments?.find((d) => d.status === "PRIMARY");
    const deployment = primary && {
        id: primary.id ?? "?",
        rolloutState: primary.rolloutState ?? "?",
        reason: primary.rolloutStateReason,
        startedAt: primary.createdAt?.toISOString(),
        others: (service.deployments?.length ?? 1) - 1,
    };
    if (primary?.rolloutState === "FAILED") {
        problems.push(`deployment ${primary.id} FAILED`);
    }
    const taskDefinitionArn = primary?.taskDefinition ?? service.taskDefinition;
    let taskDefinition: ServiceStatus["taskDefinition"];
    if (taskDefinitionArn) {
        const td = await aws.ecs.describeTaskDefinition({ taskDefinition: taskDefinitionArn, include: ["TAGS"] });
        const variable = td.taskDefinition?.containerDefinitions?.flatMap((c) => c.environment ?? []).find((e) => e.name === COMMIT_VARIABLE)?.value;
        taskDefinition = {
            revision: taskDefinitionArn.split("/").pop()!,
            commit: td.tags?.find((t) => t.key === COMMIT_TAG)?.value ?? variable,
        };
    }
    let targets: ServiceStatus["targets"];
    const groups = (service.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((a): a is string => !!a);
    if (groups.length > 0) {
        targets = [];
        for (const group of groups) {
            const health = await aws.elb.describeTargetHealth({ TargetGroupArn: group });
            for (const t of health.TargetHealthDescriptions ?? []) {
                targets.push({ id: `${t.Target?.Id}:${t.Target?.Port}`, state: t.TargetHealth?.State ?? "?", reason: t.TargetHealth?.Reason });
            }
        }
        const bad = targets.filter((t) => t.state === "unhealthy" || t.state === "unavailable");
        if (bad.length > 0) {
            problems.push(`${bad.length} unhealthy target${bad.length > 1 ? "s" : ""}`);
        }
        if (tasks.desired > 0 && !targets.some((t) => t.state === "healthy")) {
            problems.push("no healthy target");
        }
    }
    // The prefix finds the service's alarms; the exact names keep out a service whose name extends this one's.
    const family = taskFamily(stack.project, stack.name, w.name);
    // A worker's alarms are its queue's (components/messaging/).
    const names =
        w.kind === "worker"
            ? { rollback: [], notify: Object.values(queueAlarmNames(family)) }
            : serviceAlarmNames(family, w.kind === "backend" ? "backend" : "public");
    const known = new Set([...names.rollback, ...names.notify]);
    const alarms: ServiceStatus["alarms"] = [];
    let nextToken: string | undefined;
    do {
        const page = await aws.cloudwatch.describeAlarms({ AlarmNamePrefix: `${family}-`, StateValue: "ALARM", NextToken: nextToken });
        for (const a of page.MetricAlarms ?? []) {
            if (a.AlarmName && known.has(a.AlarmName)) {
                alarms.push({ name: a.AlarmName, since: a.StateUpdatedTimestamp?.toISOString(), reason: a.StateReason });
            }
        }
        nextToken = page.NextToken;
    } while (nextToken);
    for (const a of alarms) {
        problems.push(`alarm ${a.name}`);
    }
    const events = (service.events ?? []).slice(0, EVENTS_SHOWN).map((e) => ({ at: e.createdAt?.toISOString(), message: e.message ?? "" }));
    return { ...w, healthy: problems.length === 0, problems, tasks, deployment, taskDefinition, targets, alarms, events };
}

function printStatus(deps: Deps, s: ServiceStatus): void {
    const out = deps.term.out;
    const verdict = s.healthy ? (s.deployment?.rolloutState === "IN_PROGRESS" ? "healthy, rolling out" : "healthy") : `UNHEALTHY: ${s.problems.join("; ")}`;
    out(`${s.name} (${s.kind}, ECS service ${s.ecsService}): ${verdict}`);
    out(`  Tasks       ${s.tasks.running} running / ${s.tasks.desired} desired / ${s.tasks.pending} pending`);
    if (s.deployment) {
        const others = s.deployment.others > 0 ? `, ${s.deployment.others} older still running` : "";
        out(`  Deployment  ${s.deployment.id} ${s.deployment.rolloutState}${s.deployment.startedAt ? ` since ${s.deployment.startedAt}` : ""}${others}`);
        if (s.deployment.reason) {
            out(`              ${s.deployment.reason}`);
        }
    }
    if (s.taskDefinition) {
        out(`  Revision    ${s.taskDefinition.revision}, commit ${s.taskDefinition.commit ?? "unknown"}`);
    }
    if (s.targets) {
        const counts = new Map<string, number>();
        s.targets.forEach((t) => counts.set(t.state, (counts.get(t.state) ?? 0) + 1));
        out(`  Targets     ${counts.size > 0 ? [...counts].map(([state, n]) => `${n} ${state}`).join(", ") : "none registered"}`);
        for (const t of s.targets.filter((t) => t.state !== "healthy")) {
            out(`              ${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ""}`);
        }
    }
    out(`  Alarms      ${s.alarms.length === 0 ? "none in ALARM" : ""}`.trimEnd());
    for (const a of s.alarms) {
        out(`              ${a.name} in ALARM${a.since ? ` since ${a.since}` : ""}`);
    }
    if (s.events.length > 0) {
        out("  Events");
        for (const e of s.events) {
            out(`    ${e.at ?? ""}  ${e.message}`);
        }
    }
}
