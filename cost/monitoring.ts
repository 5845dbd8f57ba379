/** What the stack's CloudWatch alarms and dashboard watch, counted as CloudWatch prices them (metrics). */
import { alarmDefinitions } from "../core/alarmRules";
import { dashboardBody } from "../core/dashboardBody";
import { schedulesFor } from "../core/schedule";
import type { Settings } from "../config";
import { type CatalogService } from "../catalog";
import { QUEUE_ALARM_COUNT } from "../core/messaging";

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** How many metrics a service's alarms watch: each metric of a metric-math alarm counts. */
export function alarmMetrics(service: CatalogService, s: Settings): number {
    if (service.kind === "worker") {
        // Its queue's alarms, one metric each (components/messaging/messaging.ts).
        return QUEUE_ALARM_COUNT;
    }
    const definitions = alarmDefinitions({
        family: service.name,
        clusterName: "cluster",
        serviceName: service.name,
        expose:
            service.kind === "public"
                ? {
                      kind: "public",
                      loadBalancerArnSuffix: "app/alb/0",
                      targetGroupArnSuffix: "targetgroup/tg/0",
                      alternateTargetGroupArnSuffix: "targetgroup/tg-alt/0",
                  }
                : { kind: "backend", discoveryName: service.name },
        minCount: s.services[service.name].desiredCount,
        containerInsights: s.containerInsights,
        mayRunZeroTasks: schedulesFor(service.name, s.scaleSchedules).some((x) => x.minCount === 0),
    });
    return sum(
        definitions.map((d) => {
            const queries = d.args.metricQueries as Array<{ metric?: unknown }> | undefined;
            return queries ? queries.filter((q) => q.metric !== undefined).length : 1;
        }),
    );
}

/**
 * The alarms Application Auto Scaling makes for a service's target-tracking policies, two per policy (one to
 * scale out, one to scale in: https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html).
 * A service scales when its ceiling is above its floor or a schedule applies (FargateService), on CPU and,
 * when public, on ALB requests per task, when a worker, on its queue's backlog per task.
 */
export function targetTrackingAlarms(service: CatalogService, s: Settings): number {
    const size = s.services[service.name];
    const scaled = size.maxCount > size.desiredCount || schedulesFor(service.name, s.scaleSchedules).length > 0;
    return scaled ? 2 * (service.kind === "backend" ? 1 : 2) : 0;
}

/** The NAT instance's alarms, one metric each: recover on StatusCheckFailed_System, reboot on StatusCheckFailed_Instance. */
export const NAT_INSTANCE_ALARMS = 2;

/** How many metrics the stack's dashboard graphs (`dashboardBody`, built as the program builds it). */
export function dashboardMetrics(s: Settings, catalog: readonly CatalogService[]): number {
    const body = JSON.parse(
        dashboardBody({
            region: s.region,
            clusterName: "cluster",
            loadBalancerArnSuffix: "app/alb/0",
            containerInsights: s.containerInsights,
            // The program graphs no worker (program.ts).
            services: catalog
                .filter((c) => c.kind !== "worker")
                .map((c) => ({
                    name: c.name,
                    kind: c.kind as "public" | "backend",
                    serviceName: c.name,
                    targetGroupArnSuffixes: c.kind === "public" ? ["targetgroup/tg/0", "targetgroup/tg-alt/0"] : undefined,
                    discoveryName: c.kind === "backend" ? c.name : undefined,
                    calls: [...c.calls],
                })),
        }),
    ) as { widgets: Array<{ properties: { metrics?: unknown[] } }> };
    return sum(body.widgets.map((w) => w.properties.metrics?.length ?? 0));
}
