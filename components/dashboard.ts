/**
 * The stack's CloudWatch dashboard: per service the figures a person looks at first (requests, 5xx,
 * latency, CPU and memory, tasks), one row each. The body is built by a pure function from plain values,
 * so tests check it without mocks; the component only feeds it the resources' outputs.
 *
 * Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 * (a metric is `[namespace, name, dimension name, value, ..., { options }]`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "./naming";

/** One service, as the dashboard shows it. */
export interface DashboardService {
    name: string;
    kind: "public" | "backend";
    /** The ECS service's name (the `ServiceName` dimension). */
    serviceName: string;
    /** Public: the target group's ARN suffix (`TargetGroup` dimension). */
    targetGroupArnSuffix?: string;
    /** Backend: its Service Connect discovery name (`TargetDiscoveryName` dimension). */
    discoveryName?: string;
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

const ROW_HEIGHT = 6;
/** Widths of the five graphs of a row; a dashboard is 24 units wide. */
const WIDTHS = [5, 5, 5, 5, 4] as const;

/** The dashboard body (JSON) for `input`. */
export function dashboardBody(input: DashboardInput): string {
    const widgets: Widget[] = [];
    let y = 0;
    for (const service of input.services) {
        widgets.push({
            type: "text",
            x: 0,
            y,
            width: 24,
            height: 1,
            properties: { markdown: `### ${service.name} (${service.kind})` },
        });
        y += 1;
        const graphs = graphsOf(service, input);
        let x = 0;
        graphs.forEach((graph, i) => {
            widgets.push({
                type: "metric",
                x,
                y,
                width: WIDTHS[i],
                height: ROW_HEIGHT,
                properties: { region: input.region, view: "timeSeries", stacked: false, period: 60, ...graph },
            });
            x += WIDTHS[i];
        });
        y += ROW_HEIGHT;
    }
    return JSON.stringify({ widgets });
}

function graphsOf(service: DashboardService, input: DashboardInput): Array<{ title: string; metrics: Metric[]; yAxis?: unknown }> {
    const ecs = ["ClusterName", input.clusterName, "ServiceName", service.serviceName];
    const traffic = service.kind === "public"
        ? publicTraffic(input.loadBalancerArnSuffix, service.targetGroupArnSuffix ?? "")
        : backendTraffic(service.discoveryName ?? service.name, ecs);
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

function publicTraffic(loadBalancer: string, targetGroup: string): Array<{ title: string; metrics: Metric[] }> {
    const tg = ["LoadBalancer", loadBalancer, "TargetGroup", targetGroup];
    return [
        { title: "Requests", metrics: [["AWS/ApplicationELB", "RequestCount", ...tg, { stat: "Sum", label: "requests" }]] },
        {
            title: "5xx",
            metrics: [
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ...tg, { stat: "Sum", label: "from the service" }],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", loadBalancer, { stat: "Sum", label: "from the ALB (all services)" }],
            ],
        },
        {
            title: "Latency (s)",
            metrics: [
                ["AWS/ApplicationELB", "TargetResponseTime", ...tg, { stat: "p50", label: "p50" }],
                ["AWS/ApplicationELB", "TargetResponseTime", ...tg, { stat: "p99", label: "p99" }],
            ],
        },
    ];
}

function backendTraffic(discoveryName: string, ecs: string[]): Array<{ title: string; metrics: Metric[] }> {
    const sc = ["TargetDiscoveryName", discoveryName, ...ecs];
    return [
        {
            title: "Requests",
            metrics: (["2", "3", "4", "5"] as const).map((c): Metric => ["AWS/ECS", `HTTPCode_Target_${c}XX_Count`, ...sc, { stat: "Sum", label: `${c}xx` }]),
        },
        { title: "5xx", metrics: [["AWS/ECS", "HTTPCode_Target_5XX_Count", ...sc, { stat: "Sum", label: "5xx" }]] },
        {
            title: "Latency (ms)",
            metrics: [
                ["AWS/ECS", "TargetResponseTime", ...sc, { stat: "p50", label: "p50" }],
                ["AWS/ECS", "TargetResponseTime", ...sc, { stat: "p99", label: "p99" }],
            ],
        },
    ];
}

/** Where the console shows a dashboard. */
export function dashboardUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}

/** A dashboard name CloudWatch accepts: letters, digits, "-" and "_", at most 255. */
export function dashboardName(text: string): string {
    return text.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

export interface DashboardArgs {
    /** The dashboard's name, unique in the account and region. */
    name: string;
    region: string;
    clusterName: pulumi.Input<string>;
    loadBalancerArnSuffix: pulumi.Input<string>;
    containerInsights: boolean;
    services: Array<{
        name: string;
        kind: "public" | "backend";
        serviceName: pulumi.Input<string>;
        targetGroupArnSuffix?: pulumi.Input<string>;
        discoveryName?: string;
    }>;
}

/** The stack's CloudWatch dashboard (`dashboardBody`). */
export class Dashboard extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly dashboardName: pulumi.Output<string>;

    constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:dashboard:Dashboard", name, {}, opts);
        const physical = dashboardName(args.name);
        const body = pulumi.all([
            args.clusterName,
            args.loadBalancerArnSuffix,
            pulumi.all(args.services.map((s) => pulumi.all([s.serviceName, s.targetGroupArnSuffix]))),
        ]).apply(([clusterName, loadBalancerArnSuffix, resolved]) => dashboardBody({
            region: args.region,
            clusterName,
            loadBalancerArnSuffix,
            containerInsights: args.containerInsights,
            services: args.services.map((s, i) => ({
                name: s.name,
                kind: s.kind,
                serviceName: resolved[i][0],
                targetGroupArnSuffix: resolved[i][1],
                discoveryName: s.discoveryName,
            })),
        }));
        const dashboard = new aws.cloudwatch.Dashboard(childName(name, "dashboard"), {
            dashboardName: physical,
            dashboardBody: body,
        }, { parent: this });
        this.dashboardName = dashboard.dashboardName;
        this.url = pulumi.output(dashboardUrl(args.region, physical));
        this.registerOutputs({ url: this.url, dashboardName: this.dashboardName });
    }
}
