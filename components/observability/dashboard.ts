/**
 * The stack's CloudWatch dashboard, whose body `dashboardBody` (core/dashboardBody.ts) builds from the
 * resources' resolved outputs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dashboardBody, dashboardName, dashboardUrl } from "../../core/dashboardBody";
import { childName } from "../../core/naming";
import type { ServiceKind } from "../../core/serviceKind";

export interface DashboardArgs {
    /** The dashboard's name, unique in the account and region. */
    name: string;
    region: string;
    clusterName: pulumi.Input<string>;
    loadBalancerArnSuffix: pulumi.Input<string>;
    containerInsights: boolean;
    services: Array<{
        name: string;
        kind: ServiceKind;
        serviceName: pulumi.Input<string>;
        targetGroupArnSuffixes?: pulumi.Input<string>[];
        discoveryName?: string;
        /** Names of the services it calls through Service Connect. */
        calls?: string[];
    }>;
}

/** The stack's CloudWatch dashboard (`dashboardBody`). */
export class Dashboard extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly dashboardName: pulumi.Output<string>;

    constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:dashboard:Dashboard", name, {}, opts);
        const physical = dashboardName(args.name);
        const body = pulumi
            .all([
                args.clusterName,
                args.loadBalancerArnSuffix,
                pulumi.all(args.services.map((s) => pulumi.all([s.serviceName, pulumi.all(s.targetGroupArnSuffixes ?? [])]))),
            ])
            .apply(([clusterName, loadBalancerArnSuffix, resolved]) =>
                dashboardBody({
                    region: args.region,
                    clusterName,
                    loadBalancerArnSuffix,
                    containerInsights: args.containerInsights,
                    services: args.services.map((s, i) => ({
                        name: s.name,
                        kind: s.kind,
                        serviceName: resolved[i][0],
                        targetGroupArnSuffixes: s.targetGroupArnSuffixes ? resolved[i][1] : undefined,
                        discoveryName: s.discoveryName,
                        calls: s.calls,
                    })),
                }),
            );
        const dashboard = new aws.cloudwatch.Dashboard(
            childName(name, "dashboard"),
            {
                dashboardName: physical,
                dashboardBody: body,
            },
            { parent: this },
        );
        this.dashboardName = dashboard.dashboardName;
        this.url = pulumi.output(dashboardUrl(args.region, physical));
        this.registerOutputs({ url: this.url, dashboardName: this.dashboardName });
    }
}
