/**
 * What the cost estimate (`cost/estimate.ts`) assumes about use, per environment preset: the traffic, log volume and
 * data that no stack setting says. Every guess the estimate makes is here and nowhere else; change one to see
 * what it moves (`npm run cost -- <stack>` prints them with the estimate).
 */
import type { EnvironmentName } from "../config";

export interface UsageAssumptions {
    /**
     * GB a month through the NAT (gateways or instance): ECR's API and manifests, AWS API calls, the services'
     * own calls out. Image layers bypass it through the S3 gateway endpoint.
     */
    natGb: number;
    /** Requests a month reaching the ALB (and AWS WAF, when on). */
    requests: number;
    /** The average response's size in KB, for the ALB's processed bytes. */
    responseKb: number;
    /** GB of application logs a month per service (JSON access and error lines). */
    serviceLogGb: number;
    /** GB of ALB access logs a month per million requests, as S3 stores them (gzip). */
    accessLogGbPerMillionRequests: number;
    /** GB of VPC flow logs a month. */
    flowLogGb: number;
    /** GB of the database's exported PostgreSQL logs (postgresql, upgrade) a month. */
    databaseLogGb: number;
    /**
     * GB a month Enhanced Monitoring writes to CloudWatch Logs at Berth's 60-second interval: one JSON
     * document per sample with the OS counters and the process list, taken as about 12 KB. RDS keeps them in
     * its RDSOSMetrics log group, 30 days unless changed
     * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.CloudWatchLogs.html).
     */
    enhancedMonitoringGb: number;
    /** GB of data in the database, and the share of it that changes a day (for backup storage beyond the free amount). */
    databaseDataGb: number;
    databaseDailyChange: number;
    /**
     * Container Insights' metrics: per cluster, and per service (with its task definition family's), counted from
     * AWS's list of ECS metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html),
     * and GB of performance log events a month per running task.
     */
    containerInsights: { metricsPerCluster: number; metricsPerService: number; performanceLogGbPerTask: number };
    /**
     * What an ECR repository stores: the base image's layers once, and one layer per kept image (the service's
     * bundle), as measured in docs/services.md, "Images" (230-231 MB images, 2.4-3.0 MB above the base).
     */
    image: { baseGb: number; layerGbPerImage: number };
    /**
     * What Fargate Spot saves on on-demand. AWS sets the Spot price by supply and demand and says "up to 70 %";
     * readings published: 69 % in eu-west-1 in January 2025 (https://elasticscale.com/blog/aws-fargate-spot-cost-optimization-with-managed-container-workloads),
     * 67 % in 2020 (https://tomgregory.com/aws-fargate-spot-vs-fargate-price-comparison/).
     */
    fargateSpotDiscount: number;
    /**
     * The stack is the only one in its AWS account, so it gets the account's always-free allowances alone
     * (CloudWatch's 10 alarm metrics and 3 dashboards, cost/prices.ts). They are per account: with
     * other stacks or workloads in the account, they are used once in all, so set this false.
     */
    aloneInAccount: boolean;
    /** Minutes a job's task runs each time, its start included (the retention job deletes in seconds). */
    jobRunMinutes: number;
    /** Events a month the publishers publish (each to one topic), when a service publishes (docs/workers.md). */
    eventsPerMonth: number;
}

/** A test stack sees a trickle of requests; prod about four a second on average. */
export const USAGE_ASSUMPTIONS: Readonly<Record<EnvironmentName, Readonly<UsageAssumptions>>> = {
    test: {
        natGb: 5,
        requests: 100_000,
        responseKb: 2,
        serviceLogGb: 0.2,
        accessLogGbPerMillionRequests: 0.05,
        flowLogGb: 0.5,
        databaseLogGb: 0.05,
        enhancedMonitoringGb: 0.5,
        databaseDataGb: 1,
        databaseDailyChange: 0.02,
        containerInsights: { metricsPerCluster: 12, metricsPerService: 20, performanceLogGbPerTask: 0.05 },
        image: { baseGb: 0.23, layerGbPerImage: 0.003 },
        fargateSpotDiscount: 0.68,
        // A team's dev stack usually has an account of its own (docs/cost.md).
        aloneInAccount: true,
        jobRunMinutes: 5,
        eventsPerMonth: 10_000,
    },
    prod: {
        natGb: 50,
        requests: 10_000_000,
        responseKb: 2,
        serviceLogGb: 3,
        accessLogGbPerMillionRequests: 0.05,
        flowLogGb: 5,
        databaseLogGb: 0.5,
        enhancedMonitoringGb: 0.5,
        databaseDataGb: 10,
        databaseDailyChange: 0.02,
        containerInsights: { metricsPerCluster: 12, metricsPerService: 20, performanceLogGbPerTask: 0.05 },
        image: { baseGb: 0.23, layerGbPerImage: 0.003 },
        fargateSpotDiscount: 0.68,
        // Prod shares its account with whatever else runs there, or the allowance is too small to matter.
        aloneInAccount: false,
        jobRunMinutes: 5,
        eventsPerMonth: 1_000_000,
    },
};
