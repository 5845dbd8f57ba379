/**
 * The stack's CloudWatch dashboard: per service the figures a person looks at first (requests, 5xx,
 * latency, CPU and memory, tasks), then the service's Service Connect traffic: what its proxy receives
 * (backends) and how the backends it calls answer it (callers). The body is built by a pure function from
 * plain values, so tests check it without mocks; the component only feeds it the resources' outputs.
 *
 * Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 * (a metric is `[namespace, name, dimension name, value, ..., { options }]`).
 *
 * Service Connect's metrics (`AWS/ECS`, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html)
 * come in two dimension sets, each from one side's proxy:
 * - `ClusterName, DiscoveryName, ServiceName`: what the proxy in front of a service receives, `DiscoveryName`
 *   and `ServiceName` both the receiving service's: `RequestCount`, `ActiveConnectionCount`,
 *   `NewConnectionCount`, `ProcessedBytes`;
 * - `ClusterName, ServiceName, TargetDiscoveryName`: how the target answers as the caller's proxy sees it,
 *   `ServiceName` the calling service and `TargetDiscoveryName` the called one: `HTTPCode_Target_2XX_Count`
 *   to `_5XX_Count`, `TargetResponseTime` (milliseconds), `RequestCountPerTarget`.
 * The console lists them under those two groups, "ClusterName, DiscoveryName, ServiceName" and "ClusterName,
 * ServiceName, TargetDiscoveryName" (ECS workshop, "Service Connect metrics":
 * https://catalog.us-east-1.prod.workshops.aws/event/dashboard/en-US/workshop/60-networking/ecs-service-connect/300-service-connect-metrics).
 */
import type { ServiceKind } from "./serviceKind";

/** One service, as the dashboard shows it. */
export interface DashboardService {
    name: string;
    kind: ServiceKind;
    /** The ECS service's name (the `ServiceName` dimension). */
    serviceName: string;
    /**
     * Public: the ARN suffixes of its target groups (`TargetGroup` dimension), the primary first: after a
     * deployment that shifted traffic its tasks serve from the alternate one, and from both while ECS shifts.
     */
    targetGroupArnSuffixes?: string[];
    /** Backend: its Service Connect discovery name (`DiscoveryName` of what it receives, `TargetDiscoveryName` of its callers' calls). */
    discoveryName?: string;
    /**
     * Names of the services (of `DashboardInput.services`) it calls through Service Connect.
     * @default []
     */
    calls?: string[];
}

export interface DashboardInput {
    region: string;
    clusterName: string;
    /** The ALB's ARN suffix (`LoadBalancer` dimension). */
    loadBalancerArnSuffix: string;
    /** Task counts from Container Insights (running and desired) or from the free CPU metric's sample count. */
    containerInsights: boolean;
    services: DashboardService[];
}

type Metric = Array<string | Record<string, unknown>>;

interface Widget {
    type: "metric" | "text";
    x: number;
    y: number;
    width: number;
    height: number;
    properties: Record<string, unknown>;
}

interface Graph {
    title: string;
    metrics: Metric[];
    yAxis?: unknown;
}

const ROW_HEIGHT = 6;
/** Widths of the five graphs of a service's first row; a dashboard is 24 units wide. */
const WIDTHS = [5, 5, 5, 5, 4] as const;
const GRID = 24;
const STATUS_CLASSES = ["2", "3", "4", "5"] as const;

/** The dashboard body (JSON) for `input`. */
export function dashboardBody(input: DashboardInput): string {
    const widgets: Widget[] = [];
    let y = 0;
    const row = (graphs: Graph[], widths: readonly number[]) => {
        let x = 0;
        graphs.forEach((graph, i) => {
            widgets.push({
                type: "metric",
                x,
                y,
                width: widths[i],
                height: ROW_HEIGHT,
                properties: { region: input.region, view: "timeSeries", stacked: false, period: 60, ...graph },
            });
            x += widths[i];
        });
        y += ROW_HEIGHT;
    };
    for (const service of input.services) {
        widgets.push({
            type: "text",
            x: 0,
            y,
            width: GRID,
            height: 1,
            properties: { markdown: `### ${service.name} (${service.kind})` },
        });
        y += 1;
        row(graphsOf(service, input), WIDTHS);
        const connect = serviceConnectGraphs(service, input);
        if (connect.length > 0) {
            row(connect, evenWidths(connect.length));
        }
    }
    return JSON.stringify({ widgets });
}

/** `count` widths that fill the grid, the first ones taking what does not divide. */
function evenWidths(count: number): number[] {
    const base = Math.floor(GRID / count);
    return Array.from({ length: count }, (_, i) => base + (i < GRID - base * count ? 1 : 0));
}

const ecsDimensions = (clusterName: string, serviceName: string) => ["ClusterName", clusterName, "ServiceName", serviceName];

/** The services that call `service` through Service Connect. */
function callersOf(service: DashboardService, input: DashboardInput): DashboardService[] {
    return input.services.filter((s) => (s.calls ?? []).includes(service.name));
}

function graphsOf(service: DashboardService, input: DashboardInput): Graph[] {
    const ecs = ecsDimensions(input.clusterName, service.serviceName);
    const traffic =
        service.kind === "public"
            ? publicTraffic(input.loadBalancerArnSuffix, service.targetGroupArnSuffixes ?? [])
            : backendTraffic(service.discoveryName ?? service.name, callersOf(service, input), input.clusterName);
    const tasks: Metric[] = input.containerInsights
        ? [
              ["ECS/ContainerInsights", "RunningTaskCount", ...ecs, { stat: "Average", label: "running" }],
              ["ECS/ContainerInsights", "DesiredTaskCount", ...ecs, { stat: "Average", label: "desired" }],
          ]
        : [["AWS/ECS", "CPUUtilization", ...ecs, { stat: "SampleCount", label: "running" }]];
    return [
        ...traffic,
        {
            title: "CPU and memory (%)",
            metrics: [
                ["AWS/ECS", "CPUUtilization", ...ecs, { stat: "Average", label: "CPU" }],
                ["AWS/ECS", "MemoryUtilization", ...ecs, { stat: "Average", label: "memory" }],
            ],
            yAxis: { left: { min: 0, max: 100 } },
        },
        { title: "Tasks", metrics: tasks, yAxis: { left: { min: 0 } } },
    ];
}

/** A line per target group, labelled with the group's role when there are two. */
function publicTraffic(loadBalancer: string, targetGroups: string[]): Graph[] {
    const groups = targetGroups.map((g, i) => ({
        dimensions: ["LoadBalancer", loadBalancer, "TargetGroup", g],
        label: (what: string) => (targetGroups.length > 1 ? `${what} (${i === 0 ? "primary" : "alternate"} group)` : what),
    }));
    return [
        {
            title: "Requests",
            metrics: groups.map((g): Metric => ["AWS/ApplicationELB", "RequestCount", ...g.dimensions, { stat: "Sum", label: g.label("requests") }]),
        },
        {
            title: "5xx",
            metrics: [
                ...groups.map((g): Metric => [
                    "AWS/ApplicationELB",
                    "HTTPCode_Target_5XX_Count",
                    ...g.dimensions,
                    { stat: "Sum", label: g.label("from the service") },
                ]),
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", loadBalancer, { stat: "Sum", label: "from the ALB (all services)" }],
            ],
        },
        {
            title: "Latency (s)",
            metrics: groups.flatMap((g) =>
                ["p50", "p99"].map((p): Metric => ["AWS/ApplicationELB", "TargetResponseTime", ...g.dimensions, { stat: p, label: g.label(p) }]),
            ),
        },
    ];
}

/** How a backend answers, as each caller's Service Connect proxy sees it: one line per caller. */
function backendTraffic(discoveryName: string, callers: DashboardService[], clusterName: string): Graph[] {
    const seenBy = (caller: DashboardService) => ["ClusterName", clusterName, "ServiceName", caller.serviceName, "TargetDiscoveryName", discoveryName];
    const per = (caller: DashboardService, label: string) => (callers.length > 1 ? `${label} (${caller.name})` : label);
    return [
        {
            title: "Requests",
            metrics: callers.flatMap((caller) =>
                STATUS_CLASSES.map((c): Metric => [
                    "AWS/ECS",
                    `HTTPCode_Target_${c}XX_Count`,
                    ...seenBy(caller),
                    { stat: "Sum", label: per(caller, `${c}xx`) },
                ]),
            ),
        },
        {
            title: "5xx",
            metrics: callers.map((caller): Metric => ["AWS/ECS", "HTTPCode_Target_5XX_Count", ...seenBy(caller), { stat: "Sum", label: per(caller, "5xx") }]),
        },
        {
            title: "Latency (ms)",
            metrics: callers.flatMap((caller) =>
                (["p50", "p99"] as const).map((p): Metric => ["AWS/ECS", "TargetResponseTime", ...seenBy(caller), { stat: p, label: per(caller, p) }]),
            ),
        },
    ];
}

/**
 * The Service Connect row: for a backend, what its proxy receives (requests, connections, bytes); for a
 * service that calls others, each callee's answers and latency as its own proxy sees them.
 */
function serviceConnectGraphs(service: DashboardService, input: DashboardInput): Graph[] {
    const graphs: Graph[] = [];
    if (service.discoveryName !== undefined) {
        const received = ["ClusterName", input.clusterName, "DiscoveryName", service.discoveryName, "ServiceName", service.serviceName];
        graphs.push(
            {
                title: "Service Connect in: requests",
                metrics: [["AWS/ECS", "RequestCount", ...received, { stat: "Sum", label: "requests" }]],
            },
            {
                title: "Service Connect in: connections",
                metrics: [
                    ["AWS/ECS", "ActiveConnectionCount", ...received, { stat: "Sum", label: "active" }],
                    ["AWS/ECS", "NewConnectionCount", ...received, { stat: "Sum", label: "new" }],
                ],
            },
            {
                title: "Service Connect in: bytes",
                metrics: [["AWS/ECS", "ProcessedBytes", ...received, { stat: "Sum", label: "bytes" }]],
            },
        );
    }
    const callees = input.services.filter((s) => (service.calls ?? []).includes(s.name) && s.discoveryName !== undefined);
    if (callees.length > 0) {
        const toward = (callee: DashboardService) => [
            "ClusterName",
            input.clusterName,
            "ServiceName",
            service.serviceName,
            "TargetDiscoveryName",
            callee.discoveryName!,
        ];
        graphs.push(
            {
                title: "Service Connect out: requests",
                metrics: callees.map((callee): Metric => [
                    "AWS/ECS",
                    "RequestCountPerTarget",
                    ...toward(callee),
                    { stat: "Sum", label: `per ${callee.name} task` },
                ]),
            },
            {
                title: "Service Connect out: 5xx",
                metrics: callees.map((callee): Metric => ["AWS/ECS", "HTTPCode_Target_5XX_Count", ...toward(callee), { stat: "Sum", label: callee.name }]),
            },
            {
                title: "Service Connect out: p99 (ms)",
                metrics: callees.map((callee): Metric => ["AWS/ECS", "TargetResponseTime", ...toward(callee), { stat: "p99", label: callee.name }]),
            },
        );
    }
    return graphs;
}

/** Where the console shows a dashboard. */
export function dashboardUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}

/** A dashboard name CloudWatch accepts: letters, digits, "-" and "_", at most 255. */
export function dashboardName(text: string): string {
    return text.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}
