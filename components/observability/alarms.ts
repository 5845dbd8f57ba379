/**
 * CloudWatch alarms: the stack's alarm topic, and per service the alarms that roll a bad deployment back
 * and those that only notify.
 *
 * Which alarms roll back: the ones a bad version causes (its 5xx rate, and for public services targets the
 * ALB finds unhealthy). ECS fails a deployment when any alarm named in its deployment configuration goes to
 * ALARM while it runs or during the bake time after the new tasks are healthy, and rolls it back
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html). CPU, memory,
 * latency and a task count below the floor only notify: load or capacity causes them as often as a bad
 * version, and a rollback would not help.
 *
 * Names are physical and derived from the task family, so that the ECS service can list them before the
 * alarms on its own metrics exist (those need the service's name): the pattern AWS documents for this
 * circular dependency (aws-cdk-lib/aws-ecs README, "Deployment alarms", option 1) and that AWS Copilot uses
 * (aws/copilot-cli#4294, alarms created after the service under names Copilot chose).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../naming";

/**
 * Every alarm's threshold and window. Periods are 60 s, the resolution ALB and ECS publish at; ECS derives
 * a deployment's bake time from its alarms' periods and evaluation periods, so the rollback alarms' windows
 * also bound how long each deployment stays IN_PROGRESS (tests keep it within DEPLOYMENT_TIMEOUT).
 */
export const ALARM_THRESHOLDS = {
    /** 5xx responses as a share of all, in percent, once a minute sees at least `minRequests`. */
    errorRate: { percent: 5, minRequests: 10, period: 60, evaluationPeriods: 3, datapointsToAlarm: 2 },
    /** At least one target the ALB finds unhealthy, in 2 of 3 minutes (a crashing task is replaced within one). */
    unhealthyTargets: { count: 1, period: 60, evaluationPeriods: 3, datapointsToAlarm: 2 },
    /** The 99th percentile of response time, in seconds, for 5 minutes in a row. */
    latencyP99: { seconds: 2, period: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
    /** Average CPU of the service's tasks: above autoscaling's 60 % target means scaling is at its ceiling. */
    cpu: { percent: 85, period: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
    /** Average memory of the service's tasks. */
    memory: { percent: 85, period: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
    /** Fewer running tasks than wanted, 5 minutes in a row (a replaced task is back within about one). */
    tasksBelowDesired: { period: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
} as const;

export type AlarmRole = "5xx-rate" | "unhealthy-targets" | "p99-latency" | "cpu" | "memory" | "tasks-below-desired";

/** The physical name of one of a service's alarms: `<task family>-<role>`, unique in the account and region. */
export function alarmName(family: string, role: AlarmRole): string {
    return `${family}-${role}`;
}

/** The roles a bad version causes: ECS rolls a deployment back on these (see the module comment). */
const ROLLBACK_ROLES: ReadonlySet<AlarmRole> = new Set<AlarmRole>(["5xx-rate", "unhealthy-targets"]);

/** The alarms each kind of service has: only public services have ALB targets. */
const ROLES: Readonly<Record<"public" | "backend", readonly AlarmRole[]>> = {
    public: ["5xx-rate", "unhealthy-targets", "p99-latency", "cpu", "memory", "tasks-below-desired"],
    backend: ["5xx-rate", "p99-latency", "cpu", "memory", "tasks-below-desired"],
};

/** The thresholds behind each role that rolls a deployment back. */
const ROLLBACK_THRESHOLDS: Readonly<Partial<Record<AlarmRole, { period: number; evaluationPeriods: number }>>> = {
    "5xx-rate": ALARM_THRESHOLDS.errorRate,
    "unhealthy-targets": ALARM_THRESHOLDS.unhealthyTargets,
};

/**
 * Seconds of data the widest rollback alarm of a service of `kind` evaluates: how long a bad version must
 * serve before an alarm can catch it, and what ECS derives a rolling deployment's bake time from
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html).
 */
export function rollbackAlarmWindow(kind: "public" | "backend"): number {
    return Math.max(...ROLES[kind].filter((r) => ROLLBACK_ROLES.has(r)).map((r) => {
        const t = ROLLBACK_THRESHOLDS[r]!;
        return t.period * t.evaluationPeriods;
    }));
}

/** The names of a service's alarms: those its deployments roll back on, and those that only notify. */
export function serviceAlarmNames(family: string, kind: "public" | "backend"): { rollback: string[]; notify: string[] } {
    const roles = ROLES[kind];
    return {
        rollback: roles.filter((r) => ROLLBACK_ROLES.has(r)).map((r) => alarmName(family, r)),
        notify: roles.filter((r) => !ROLLBACK_ROLES.has(r)).map((r) => alarmName(family, r)),
    };
}

/** How a service is measured: through the ALB (public) or through Service Connect (backend). */
export type AlarmExposure =
    | {
        kind: "public";
        loadBalancerArnSuffix: pulumi.Input<string>;
        targetGroupArnSuffix: pulumi.Input<string>;
        /**
         * The public service's second target group (albRoute.ts): ECS moves the tasks between the two when it
         * shifts traffic (canary, linear, blue/green), so the alarms count both.
         * @default none: the one group
         */
        alternateTargetGroupArnSuffix?: pulumi.Input<string>;
    }
    | { kind: "backend"; discoveryName: string };

/** What the alarm definitions of one service read. */
export interface AlarmSubject {
    /** The task family: the base of the alarms' names. */
    family: string;
    clusterName: pulumi.Input<string>;
    serviceName: pulumi.Input<string>;
    expose: AlarmExposure;
    /** The task-count floor: what "below desired" means without Container Insights. */
    minCount: number;
    /**
     * ECS Container Insights is on for the cluster: its `RunningTaskCount` and `DesiredTaskCount` give the
     * real desired count (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).
     * Without it, the sample count of the free `CPUUtilization` metric at one minute is the number of running
     * tasks (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html, "Service
     * RUNNING task count"), compared with the floor.
     */
    containerInsights: boolean;
    /** A schedule may take the service to zero tasks: no metrics then means nothing runs on purpose. */
    mayRunZeroTasks: boolean;
}

/** One alarm, as `aws.cloudwatch.MetricAlarm` takes it, less its actions. */
export interface AlarmDefinition {
    role: AlarmRole;
    /** ECS rolls a deployment back when this alarm goes to ALARM. */
    rollback: boolean;
    args: aws.cloudwatch.MetricAlarmArgs & { name: string };
}

type Dimensions = Record<string, pulumi.Input<string>>;
type Query = aws.types.input.cloudwatch.MetricAlarmMetricQuery;

function metric(id: string, namespace: string, metricName: string, dimensions: Dimensions, stat: string, period: number): Query {
    return { id, returnData: false, metric: { namespace, metricName, dimensions, stat, period } };
}

/**
 * The alarm definitions of one service: pure, so that tests read thresholds and dimensions without mocks.
 *
 * ALB 5xx: targets' 5xx are published per target group, the ALB's own 5xx (502, 503, 504 when targets fail
 * or are missing) only per load balancer (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html),
 * so a public service's rate counts the ALB's 5xx of the whole load balancer: with several public services,
 * one's 502s count against the others too. Backends are measured by the Service Connect proxies in front of
 * them (`HTTPCode_Target_*XX_Count` with `TargetDiscoveryName`, `ServiceName` and `ClusterName`,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html); the discovery name
 * alone would mix stacks that share an account, since it spans every cluster.
 */
export function alarmDefinitions(subject: AlarmSubject): AlarmDefinition[] {
    const t = ALARM_THRESHOLDS;
    const ecs: Dimensions = { ClusterName: subject.clusterName, ServiceName: subject.serviceName };
    const expose = subject.expose;
    const define = (
        role: AlarmRole,
        spec: { evaluationPeriods: number; datapointsToAlarm: number },
        args: Omit<aws.cloudwatch.MetricAlarmArgs, "name" | "evaluationPeriods" | "datapointsToAlarm">,
    ): AlarmDefinition => ({
        role,
        rollback: ROLLBACK_ROLES.has(role),
        args: {
            name: alarmName(subject.family, role),
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.datapointsToAlarm,
            treatMissingData: "notBreaching",
            ...args,
            alarmDescription: `${subject.family}: ${args.alarmDescription}${ROLLBACK_ROLES.has(role) ? " Rolls a deployment back." : ""}`,
        },
    });
    const one = (namespace: string, metricName: string, dimensions: Dimensions, period: number, stat: { statistic?: string; extendedStatistic?: string }) =>
        ({ namespace, metricName, dimensions, period, ...stat });

    // Per kind: where requests are counted, and the unit of response times (the ALB reports seconds,
    // Service Connect milliseconds).
    const p = t.errorRate.period;
    const traffic = expose.kind === "public"
        ? (() => {
            const alb: Dimensions = { LoadBalancer: expose.loadBalancerArnSuffix };
            const tg: Dimensions = { ...alb, TargetGroup: expose.targetGroupArnSuffix };
            // With an alternate group, the tasks that serve (and those ECS is starting) may be in either.
            const groups: Dimensions[] = expose.alternateTargetGroupArnSuffix === undefined
                ? [tg]
                : [tg, { ...alb, TargetGroup: expose.alternateTargetGroupArnSuffix }];
            const suffix = (i: number) => (i === 0 ? "" : String(i));
            const sum = (id: string) => groups.map((_, i) => `FILL(${id}${suffix(i)}, 0)`).join(" + ");
            return {
                source: "targets' and the ALB's",
                queries: [
                    ...groups.map((g, i) => metric(`target5xx${suffix(i)}`, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", g, "Sum", p)),
                    metric("alb5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb, "Sum", p),
                    ...groups.map((g, i) => metric(`requests${suffix(i)}`, "AWS/ApplicationELB", "RequestCount", g, "Sum", p)),
                ],
                errors: `${sum("target5xx")} + FILL(alb5xx, 0)`,
                total: `${sum("requests")} + FILL(alb5xx, 0)`,
                // Each group's p99, the higher one: after a deployment that shifted traffic the tasks serve from
                // the alternate group, and while ECS shifts, from both. A percentile is not a sum, so the groups'
                // values cannot be added as the 5xx counts are; the idle group reports no data, read as 0.
                latency: groups.length === 1
                    ? one("AWS/ApplicationELB", "TargetResponseTime", tg, t.latencyP99.period, { extendedStatistic: "p99" })
                    : {
                        metricQueries: [
                            ...groups.map((g, i) => metric(`latency${i}`, "AWS/ApplicationELB", "TargetResponseTime", g, "p99", t.latencyP99.period)),
                            {
                                id: "latency",
                                returnData: true,
                                label: "p99 response time (s)",
                                expression: "IF(FILL(latency0, 0) > FILL(latency1, 0), FILL(latency0, 0), FILL(latency1, 0))",
                            },
                        ],
                    },
                secondsIn: 1,
                targets: groups,
            };
        })()
        : (() => {
            const sc: Dimensions = { TargetDiscoveryName: expose.discoveryName, ...ecs };
            const codes = ["2", "3", "4", "5"] as const;
            return {
                source: "through Service Connect",
                queries: codes.map((c) => metric(`status${c}xx`, "AWS/ECS", `HTTPCode_Target_${c}XX_Count`, sc, "Sum", p)),
                errors: "FILL(status5xx, 0)",
                total: codes.map((c) => `FILL(status${c}xx, 0)`).join(" + "),
                latency: one("AWS/ECS", "TargetResponseTime", sc, t.latencyP99.period, { extendedStatistic: "p99" }),
                secondsIn: 1000,
                targets: undefined,
            };
        })();

    const out: AlarmDefinition[] = [
        define("5xx-rate", t.errorRate, {
            alarmDescription: `more than ${t.errorRate.percent} % of requests answered 5xx (${traffic.source}).`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: t.errorRate.percent,
            metricQueries: [
                ...traffic.queries,
                { id: "total", returnData: false, expression: traffic.total },
                {
                    id: "rate",
                    returnData: true,
                    label: "5xx %",
                    expression: `IF(total >= ${t.errorRate.minRequests}, 100 * (${traffic.errors}) / total, 0)`,
                },
            ],
        }),
    ];
    if (traffic.targets) {
        const groups = traffic.targets;
        out.push(define("unhealthy-targets", t.unhealthyTargets, {
            alarmDescription: "the ALB finds targets unhealthy.",
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.unhealthyTargets.count,
            ...(groups.length === 1
                ? one("AWS/ApplicationELB", "UnHealthyHostCount", groups[0], t.unhealthyTargets.period, { statistic: "Maximum" })
                : {
                    metricQueries: [
                        ...groups.map((g, i) => metric(`unhealthy${i}`, "AWS/ApplicationELB", "UnHealthyHostCount", g, "Maximum", t.unhealthyTargets.period)),
                        {
                            id: "unhealthy",
                            returnData: true,
                            label: "unhealthy targets",
                            expression: groups.map((_, i) => `FILL(unhealthy${i}, 0)`).join(" + "),
                        },
                    ],
                }),
        }));
    }
    out.push(define("p99-latency", t.latencyP99, {
        alarmDescription: `99th percentile of response time above ${t.latencyP99.seconds} s.`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: t.latencyP99.seconds * traffic.secondsIn,
        ...traffic.latency,
    }));
    for (const [role, spec, metricName, what] of [["cpu", t.cpu, "CPUUtilization", "CPU"], ["memory", t.memory, "MemoryUtilization", "memory"]] as const) {
        out.push(define(role, spec, {
            alarmDescription: `average ${what} of its tasks above ${spec.percent} %.`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: spec.percent,
            ...one("AWS/ECS", metricName, ecs, spec.period, { statistic: "Average" }),
        }));
    }
    const below = t.tasksBelowDesired;
    out.push(define("tasks-below-desired", below, subject.containerInsights
        ? {
            alarmDescription: "fewer tasks running than ECS wants (Container Insights).",
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            metricQueries: [
                metric("desired", "ECS/ContainerInsights", "DesiredTaskCount", ecs, "Average", below.period),
                metric("running", "ECS/ContainerInsights", "RunningTaskCount", ecs, "Average", below.period),
                { id: "missing", returnData: true, label: "tasks missing", expression: "FILL(desired, 0) - FILL(running, 0)" },
            ],
        }
        : {
            alarmDescription: `fewer than ${subject.minCount} tasks running (the floor).`,
            comparisonOperator: "LessThanThreshold",
            threshold: subject.minCount,
            // No data means no task runs at all (ECS publishes metrics only for running tasks), which is
            // the worst case, unless a schedule takes the service to zero on purpose.
            treatMissingData: subject.mayRunZeroTasks || subject.minCount === 0 ? "notBreaching" : "breaching",
            ...one("AWS/ECS", "CPUUtilization", ecs, below.period, { statistic: "SampleCount" }),
        }));
    return out;
}

export interface ServiceAlarmsArgs extends AlarmSubject {
    /** The SNS topic every alarm notifies, on ALARM and on OK. */
    topicArn: pulumi.Input<string>;
}

/** A service's alarms (`alarmDefinitions`), each notifying the stack's alarm topic. */
export class ServiceAlarms extends pulumi.ComponentResource {
    /** The alarms' names, by whether a deployment rolls back on them. */
    public readonly names: { rollback: string[]; notify: string[] };

    constructor(name: string, args: ServiceAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:alarms:ServiceAlarms", name, {}, opts);
        const definitions = alarmDefinitions(args);
        for (const d of definitions) {
            new aws.cloudwatch.MetricAlarm(childName(name, d.role), {
                ...d.args,
                alarmActions: [args.topicArn],
                okActions: [args.topicArn],
            }, { parent: this });
        }
        this.names = {
            rollback: definitions.filter((d) => d.rollback).map((d) => d.args.name),
            notify: definitions.filter((d) => !d.rollback).map((d) => d.args.name),
        };
        this.registerOutputs({});
    }
}

export interface AlarmTopicArgs {
    /**
     * An address SNS sends every alarm to, once its owner confirmed the subscription SNS mails them.
     * @default none: the topic only
     */
    email?: string;
    /**
     * AWS services besides CloudWatch that publish to the topic from this account, as service principals,
     * e.g. `events.rds.amazonaws.com` for the database's event subscriptions.
     * @default []
     */
    publishers?: string[];
}

/**
 * The SNS topic every alarm of the stack notifies, encrypted with a key of its own.
 *
 * Creates: a KMS key (rotated yearly) whose policy lets CloudWatch encrypt messages to the topic, the topic,
 * a topic policy letting this account's CloudWatch alarms publish, and the optional e-mail subscription.
 * CloudWatch cannot publish to a topic encrypted with the AWS managed key `alias/aws/sns`, whose policy no
 * one can change; a customer managed key with a statement for `cloudwatch.amazonaws.com` is what AWS
 * documents (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 * Other `publishers` get the same two grants: RDS event notifications, for one, reach a topic only through its
 * policy (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.GrantingPermissions.html).
 */
export class AlarmTopic extends pulumi.ComponentResource {
    public readonly topicArn: pulumi.Output<string>;

    constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:alarms:AlarmTopic", name, {}, opts);
        const publishers = ["cloudwatch.amazonaws.com", ...(args.publishers ?? [])];
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = caller.arn.apply((arn) => arn.split(":")[1]);
        const key = new aws.kms.Key(childName(name, "alarms-key"), {
            description: `${name}: encrypts the alarm notifications topic`,
            enableKeyRotation: true,
            deletionWindowInDays: 7,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "AccountAdministersTheKeyThroughIam",
                        Effect: "Allow",
                        Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${caller.accountId}:root` },
                        Action: "kms:*",
                        Resource: "*",
                    },
                    {
                        Sid: "PublishersEncryptToTheTopic",
                        Effect: "Allow",
                        Principal: { Service: publishers },
                        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                        Resource: "*",
                    },
                ],
            }),
        }, { parent: this });
        const topic = new aws.sns.Topic(childName(name, "alarms"), { kmsMasterKeyId: key.arn }, { parent: this });
        new aws.sns.TopicPolicy(childName(name, "alarms-policy"), {
            arn: topic.arn,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Sid: "ThisAccountsAlarmsAndEventsPublish",
                    Effect: "Allow",
                    Principal: { Service: publishers },
                    Action: "sns:Publish",
                    Resource: topic.arn,
                    Condition: { StringEquals: { "aws:SourceAccount": caller.accountId } },
                }],
            }),
        }, { parent: this });
        if (args.email !== undefined) {
            new aws.sns.TopicSubscription(childName(name, "alarms-email"), {
                topic: topic.arn,
                protocol: "email",
                endpoint: args.email,
            }, { parent: this });
        }
        this.topicArn = topic.arn;
        this.registerOutputs({ topicArn: this.topicArn });
    }
}
