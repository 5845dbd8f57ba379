import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

export interface ClusterArgs {
    /**
     * The name services use to find each other, as ECS Service Connect's namespace (an AWS Cloud Map HTTP
     * namespace). Unique per account and region: include the stack.
     * @example "berth-dev"
     */
    namespace: string;
    /**
     * ECS Container Insights: per-task CPU, memory and network metrics in CloudWatch, billed per metric.
     * @default false
     */
    containerInsights?: boolean;
}

/**
 * An ECS cluster for Fargate tasks.
 *
 * Creates: the Cloud Map HTTP namespace of ECS Service Connect, the cluster (with that namespace as its
 * Service Connect default and Container Insights on or off), and its capacity providers FARGATE and
 * FARGATE_SPOT with on-demand FARGATE as the default strategy.
 */
export class Cluster extends pulumi.ComponentResource {
    public readonly clusterArn: pulumi.Output<string>;
    public readonly clusterName: pulumi.Output<string>;
    /** The ARN of the Service Connect namespace. */
    public readonly namespaceArn: pulumi.Output<string>;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:cluster:Cluster", name, {}, opts);

        const namespace = new aws.servicediscovery.HttpNamespace(
            childName(name, "namespace"),
            {
                name: args.namespace,
                description: `Service Connect namespace of ${args.namespace}`,
            },
            { parent: this },
        );

        const cluster = new aws.ecs.Cluster(
            childName(name, "cluster"),
            {
                settings: [{ name: "containerInsights", value: (args.containerInsights ?? false) ? "enabled" : "disabled" }],
                serviceConnectDefaults: { namespace: namespace.arn },
            },
            { parent: this },
        );

        new aws.ecs.ClusterCapacityProviders(
            childName(name, "capacity"),
            {
                clusterName: cluster.name,
                capacityProviders: ["FARGATE", "FARGATE_SPOT"],
                defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE", base: 1, weight: 1 }],
            },
            { parent: this },
        );

        this.clusterArn = cluster.arn;
        this.clusterName = cluster.name;
        this.namespaceArn = namespace.arn;
        this.registerOutputs({
            clusterArn: this.clusterArn,
            clusterName: this.clusterName,
            namespaceArn: this.namespaceArn,
        });
    }
}
