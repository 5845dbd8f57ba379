/**
 * Which alarms a service has, their names, thresholds and metrics: pure, so that the component, the cost
 * estimate, the rollout timeline, the CLI and the tests read them without Pulumi.
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
 *
 * The definitions are generic in `V`, the type of the values only a deployment knows (cluster, service and
 * target-group names): plain strings for the estimate and the tests, Pulumi inputs for the component.
 */
import type { RequestKind } from "./serviceKind";

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

/** Every alarm a service may have, each named by its role. */
export const ALARM_ROLES = ["5xx-rate", "unhealthy-targets", "p99-latency", "cpu", "memory", "tasks-below-desired"] as const;
export type AlarmRole = (typeof ALARM_ROLES)[number];

/** The physical name of one of a service's alarms: `<task family>-<role>`, unique in the account and region. */
export function alarmName(family: string, role: AlarmRole): string {
    return `${family}-${role}`;
}

/** The roles a bad version causes: ECS rolls a deployment back on these (see the module comment). */
const ROLLBACK_ROLES: ReadonlySet<AlarmRole> = new Set<AlarmRole>(["5xx-rate", "unhealthy-targets"]);

/** The alarms each kind of service has: only public services have ALB targets. */
const ROLES: Readonly<Record<RequestKind, readonly AlarmRole[]>> = {
    public: ALARM_ROLES,
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
export function rollbackAlarmWindow(kind: RequestKind): number {
    return Math.max(
        ...ROLES[kind]
            .filter((r) => ROLLBACK_ROLES.has(r))
            .map((r) => {
                const t = ROLLBACK_THRESHOLDS[r]!;
                return t.period * t.evaluationPeriods;
            }),
    );
}

/** The names of a service's alarms: those its deployments roll back on, and those that only notify. */
export function serviceAlarmNames(family: string, kind: RequestKind): { rollback: string[]; notify: string[] } {
    const roles = ROLES[kind];
    return {
        rollback: roles.filter((r) => ROLLBACK_ROLES.has(r)).map((r) => alarmName(family, r)),
        notify: roles.filter((r) => !ROLLBACK_ROLES.has(r)).map((r) => alarmName(family, r)),
    };
}

/** How a service is measured: through the ALB (public) or through Service Connect (backend). */
export type AlarmExposure<V = string> =
    | {
          kind: "public";
          loadBalancerArnSuffix: V;
          targetGroupArnSuffix: V;
          /**
           * The public service's second target group (albRoute.ts): ECS moves the tasks between the two when it
           * shifts traffic (canary, linear, blue/green), so the alarms count both.
           * @default none: the one group
           */
          alternateTargetGroupArnSuffix?: V;
      }
    | { kind: "backend"; discoveryName: string };

/** What the alarm definitions of one service read. */
export interface AlarmSubject<V = string> {
    /** The task family: the base of the alarms' names. */
    family: string;
    clusterName: V;
    serviceName: V;
    expose: AlarmExposure<V>;
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

/** Metric dimensions: names, with values a deployment knows (`V`) or plain text. */
type Dimensions<V> = Record<string, V | string>;

/** One query of a metric-math alarm, as `aws.cloudwatch.MetricAlarm`'s `metricQueries` takes it. */
export interface AlarmQuery<V = string> {
    id: string;
    returnData: boolean;
    label?: string;
    expression?: string;
    metric?: { namespace: string; metricName: string; dimensions: Dimensions<V>; stat: string; period: number };
}

/** What an alarm watches: one metric and statistic, or metric-math queries. */
interface AlarmMetric<V> {
    namespace?: string;
    metricName?: string;
    dimensions?: Dimensions<V>;
    period?: number;
    statistic?: string;
    extendedStatistic?: string;
    metricQueries?: AlarmQuery<V>[];
}

/** How an alarm reads a period without data: as within the threshold, or as beyond it. */
type MissingData = "notBreaching" | "breaching";

/** What an alarm compares, and what its description says, as `aws.cloudwatch.MetricAlarm` takes them. */
interface AlarmCheck<V> extends AlarmMetric<V> {
    alarmDescription: string;
    comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
    threshold: number;
    treatMissingData?: MissingData;
}

/** One alarm's arguments, as `aws.cloudwatch.MetricAlarm` takes them, less its actions. */
export interface AlarmArgs<V = string> extends AlarmCheck<V> {
    name: string;
    evaluationPeriods: number;
    datapointsToAlarm: number;
    treatMissingData: MissingData;
}

/** One alarm, as `aws.cloudwatch.MetricAlarm` takes it, less its actions. */
export interface AlarmDefinition<V = string> {
    role: AlarmRole;
    /** ECS rolls a deployment back when this alarm goes to ALARM. */
    rollback: boolean;
    args: AlarmArgs<V>;
}

function metric<V>(id: string, namespace: string, metricName: string, dimensions: Dimensions<V>, stat: string, period: number): AlarmQuery<V> {
    return { id, returnData: false, metric: { namespace, metricName, dimensions, stat, period } };
}

function single<V>(
    namespace: string,
    metricName: string,
    dimensions: Dimensions<V>,
    period: number,
    stat: { statistic?: string; extendedStatistic?: string },
): AlarmMetric<V> {
    return { namespace, metricName, dimensions, period, ...stat };
}

/** Where a service's requests are counted and how fast it answers, per kind of service. */
interface Traffic<V> {
    /** Whose 5xx the rate counts, for the description. */
    source: string;
    queries: AlarmQuery<V>[];
    /** Expressions over `queries`: the 5xx count and the request count. */
    errors: string;
    total: string;
    latency: AlarmMetric<V>;
    /** Response-time units per second: the ALB reports seconds, Service Connect milliseconds. */
    secondsIn: number;
    /** Public: the target groups' dimensions, whose unhealthy targets roll a deployment back. */
    targets?: Dimensions<V>[];
}

/** The ALB's view of a public service, across its target groups. */
function albTraffic<V>(expose: Extract<AlarmExposure<V>, { kind: "public" }>): Traffic<V> {
    const t = ALARM_THRESHOLDS;
    const p = t.errorRate.period;
    const alb: Dimensions<V> = { LoadBalancer: expose.loadBalancerArnSuffix };
    const tg: Dimensions<V> = { ...alb, TargetGroup: expose.targetGroupArnSuffix };
    // With an alternate group, the tasks that serve (and those ECS is starting) may be in either.
    const groups: Dimensions<V>[] =
        expose.alternateTargetGroupArnSuffix === undefined ? [tg] : [tg, { ...alb, TargetGroup: expose.alternateTargetGroupArnSuffix }];
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
        latency:
            groups.length === 1
                ? single("AWS/ApplicationELB", "TargetResponseTime", tg, t.latencyP99.period, { extendedStatistic: "p99" })
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
}

/** The Service Connect proxies' view of a backend, as its callers see it. */
function serviceConnectTraffic<V>(discoveryName: string, ecs: Dimensions<V>): Traffic<V> {
    const t = ALARM_THRESHOLDS;
    const sc: Dimensions<V> = { TargetDiscoveryName: discoveryName, ...ecs };
    const codes = ["2", "3", "4", "5"] as const;
    return {
        source: "through Service Connect",
        queries: codes.map((c) => metric(`status${c}xx`, "AWS/ECS", `HTTPCode_Target_${c}XX_Count`, sc, "Sum", t.errorRate.period)),
        errors: "FILL(status5xx, 0)",
        total: codes.map((c) => `FILL(status${c}xx, 0)`).join(" + "),
        latency: single("AWS/ECS", "TargetResponseTime", sc, t.latencyP99.period, { extendedStatistic: "p99" }),
        secondsIn: 1000,
    };
}

function errorRateCheck<V>(traffic: Traffic<V>): AlarmCheck<V> {
    const rate = ALARM_THRESHOLDS.errorRate;
    return {
        alarmDescription: `more than ${rate.percent} % of requests answered 5xx (${traffic.source}).`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: rate.percent,
        metricQueries: [
            ...traffic.queries,
            { id: "total", returnData: false, expression: traffic.total },
            {
                id: "rate",
                returnData: true,
                label: "5xx %",
                expression: `IF(total >= ${rate.minRequests}, 100 * (${traffic.errors}) / total, 0)`,
            },
        ],
    };
}

function unhealthyTargetsCheck<V>(groups: Dimensions<V>[]): AlarmCheck<V> {
    const spec = ALARM_THRESHOLDS.unhealthyTargets;
    return {
        alarmDescription: "the ALB finds targets unhealthy.",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: spec.count,
        ...(groups.length === 1
            ? single("AWS/ApplicationELB", "UnHealthyHostCount", groups[0], spec.period, { statistic: "Maximum" })
            : {
                  metricQueries: [
                      ...groups.map((g, i) => metric(`unhealthy${i}`, "AWS/ApplicationELB", "UnHealthyHostCount", g, "Maximum", spec.period)),
                      {
                          id: "unhealthy",
                          returnData: true,
                          label: "unhealthy targets",
                          expression: groups.map((_, i) => `FILL(unhealthy${i}, 0)`).join(" + "),
                      },
                  ],
              }),
    };
}

function tasksBelowDesiredCheck<V>(subject: AlarmSubject<V>, ecs: Dimensions<V>): AlarmCheck<V> {
    const below = ALARM_THRESHOLDS.tasksBelowDesired;
    if (subject.containerInsights) {
        return {
            alarmDescription: "fewer tasks running than ECS wants (Container Insights).",
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            metricQueries: [
                metric("desired", "ECS/ContainerInsights", "DesiredTaskCount", ecs, "Average", below.period),
                metric("running", "ECS/ContainerInsights", "RunningTaskCount", ecs, "Average", below.period),
                { id: "missing", returnData: true, label: "tasks missing", expression: "FILL(desired, 0) - FILL(running, 0)" },
            ],
        };
    }
    return {
        alarmDescription: `fewer than ${subject.minCount} tasks running (the floor).`,
        comparisonOperator: "LessThanThreshold",
        threshold: subject.minCount,
        // No data means no task runs at all (ECS publishes metrics only for running tasks), which is
        // the worst case, unless a schedule takes the service to zero on purpose.
        treatMissingData: subject.mayRunZeroTasks || subject.minCount === 0 ? "notBreaching" : "breaching",
        ...single("AWS/ECS", "CPUUtilization", ecs, below.period, { statistic: "SampleCount" }),
    };
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
export function alarmDefinitions<V = string>(subject: AlarmSubject<V>): AlarmDefinition<V>[] {
    const t = ALARM_THRESHOLDS;
    const ecs: Dimensions<V> = { ClusterName: subject.clusterName, ServiceName: subject.serviceName };
    const traffic = subject.expose.kind === "public" ? albTraffic(subject.expose) : serviceConnectTraffic(subject.expose.discoveryName, ecs);
    const define = (role: AlarmRole, spec: { evaluationPeriods: number; datapointsToAlarm: number }, check: AlarmCheck<V>): AlarmDefinition<V> => ({
        role,
        rollback: ROLLBACK_ROLES.has(role),
        args: {
            name: alarmName(subject.family, role),
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.datapointsToAlarm,
            treatMissingData: "notBreaching",
            ...check,
            alarmDescription: `${subject.family}: ${check.alarmDescription}${ROLLBACK_ROLES.has(role) ? " Rolls a deployment back." : ""}`,
        },
    });
    const usage = (spec: { percent: number; period: number }, metricName: string, what: string): AlarmCheck<V> => ({
        alarmDescription: `average ${what} of its tasks above ${spec.percent} %.`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: spec.percent,
        ...single("AWS/ECS", metricName, ecs, spec.period, { statistic: "Average" }),
    });
    return [
        define("5xx-rate", t.errorRate, errorRateCheck(traffic)),
        ...(traffic.targets ? [define("unhealthy-targets", t.unhealthyTargets, unhealthyTargetsCheck(traffic.targets))] : []),
        define("p99-latency", t.latencyP99, {
            alarmDescription: `99th percentile of response time above ${t.latencyP99.seconds} s.`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: t.latencyP99.seconds * traffic.secondsIn,
            ...traffic.latency,
        }),
        define("cpu", t.cpu, usage(t.cpu, "CPUUtilization", "CPU")),
        define("memory", t.memory, usage(t.memory, "MemoryUtilization", "memory")),
        define("tasks-below-desired", t.tasksBelowDesired, tasksBelowDesiredCheck(subject, ecs)),
    ];
}
