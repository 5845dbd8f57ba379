/**
 * AWS list prices in us-east-1 (US East, N. Virginia), on-demand, in US dollars: everything the cost estimate
 * (`cost/estimate.ts`) multiplies. Read on 24 November 2026.
 *
 * AWS draws its pricing pages with JavaScript from its price list, and this machine reaches no live page: each
 * figure was read from stored copies of the AWS page named at its group (where one holds the figure in text),
 * and otherwise checked against published copies of that page, named in `readThrough` (articles and
 * calculators that quote AWS's table with a date). Confirm with the AWS Pricing Calculator
 * (https://calculator.aws/) before you budget.
 *
 * The always-free allowances are per account and every stack of the account shares them: the estimate counts
 * them only when its usage assumptions say the stack is alone in its account (`aloneInAccount`). Data transfer
 * out to the internet and between AZs is left out: it depends on traffic Berth cannot see.
 */

/** Hours in the month the estimate prices: 365 days × 24 hours / 12, as AWS's calculator counts. */
export const HOURS_PER_MONTH = 730;

/** Where a group of prices comes from. */
export interface PriceSource {
    /** The AWS pricing page. */
    url: string;
    /** Published copies the figures were checked against (AWS's page itself being drawn by script). */
    readThrough: string[];
}

/** The region every price here is for. */
export const PRICE_REGION = "us-east-1";
/** When the prices were read. */
export const PRICES_READ_ON = "2026-11-24";

export const PRICES = {
    /** VPC: NAT gateways and public IPv4 addresses. */
    vpc: {
        source: {
            url: "https://aws.amazon.com/vpc/pricing/",
            readThrough: [
                "https://cloudburn.io/blog/aws-nat-gateway-pricing (February 2026: NAT gateway and public IPv4)",
                "https://basavytix.com/blog/aws-nat-gateway-pricing (us-east-1 NAT gateway)",
            ],
        },
        natGatewayHour: 0.045,
        natGatewayGb: 0.045,
        /** Every public IPv4 address, attached or idle, since 1 February 2024 (an ALB has one per AZ, a NAT gateway its EIP). */
        publicIpv4Hour: 0.005,
    },
    /** EC2: the NAT instance and its root volume. */
    ec2: {
        source: {
            url: "https://aws.amazon.com/ec2/pricing/on-demand/ and https://aws.amazon.com/ebs/pricing/",
            // Not found in a stored copy here: AWS's long-standing list prices (t4g.nano $0.0042, about $3 a
            // month as docs/scaling.md, "NAT", says; gp3 $0.08 per GB-month).
            readThrough: [],
        },
        /** Linux on-demand, per instance-hour. */
        instanceHour: {
            "t4g.nano": 0.0042,
            "t4g.micro": 0.0084,
            "t4g.small": 0.0168,
            "t4g.medium": 0.0336,
            "t4g.large": 0.0672,
        } as Readonly<Record<string, number>>,
        ebsGp3GbMonth: 0.08,
    },
    /** Elastic Load Balancing: the Application Load Balancer. */
    alb: {
        source: {
            url: "https://aws.amazon.com/elasticloadbalancing/pricing/",
            readThrough: ["https://cloud-horizons.com/blog/alb-the-line-item-nobody-watches/ (May 2026: hour, LCU-hour and the four LCU dimensions)"],
        },
        hour: 0.0225,
        lcuHour: 0.008,
        /**
         * What one LCU covers; the hour is billed on the largest of its dimensions
         * (https://aws.amazon.com/elasticloadbalancing/pricing/, "LCU details").
         */
        lcu: { newConnectionsPerSecond: 25, activeConnectionsPerMinute: 3000, processedGbPerHour: 1, ruleEvaluationsPerSecond: 1000 },
    },
    /** AWS Fargate, Linux, per vCPU-hour and per GB-hour of memory. */
    fargate: {
        source: {
            url: "https://aws.amazon.com/fargate/pricing/",
            readThrough: [
                "https://www.vantage.sh/blog/fargate-pricing (x86 and ARM, us-east-1)",
                "https://www.wring.co/blog/aws-fargate-pricing-guide (March 2026)",
                "https://fortem.dev/fargate-spot/ (June 2026: on-demand verified, Spot 50-70 % below it)",
            ],
        },
        x86: { vcpuHour: 0.04048, gbHour: 0.004445 },
        arm64: { vcpuHour: 0.03238, gbHour: 0.00356 },
    },
    /** Amazon RDS for PostgreSQL, Single-AZ; a Multi-AZ instance is billed for its standby too. */
    rds: {
        source: {
            url: "https://aws.amazon.com/rds/postgresql/pricing/",
            readThrough: [
                "https://infratally.com/articles/aws-rds-pricing-explained-2026.html (db.t4g micro to medium, Single- and Multi-AZ)",
                "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/ (June 2026: gp3, backup storage)",
                // db.t4g.large and up and db.t3 were not found in a stored copy here: AWS's list prices as long quoted.
            ],
        },
        /** Per instance-hour, Single-AZ. Classes not listed have no price here yet: add them from the page above. */
        instanceHour: {
            "db.t4g.micro": 0.016,
            "db.t4g.small": 0.032,
            "db.t4g.medium": 0.065,
            "db.t4g.large": 0.129,
            "db.t4g.xlarge": 0.258,
            "db.t4g.2xlarge": 0.517,
            "db.t3.micro": 0.018,
            "db.t3.small": 0.036,
            "db.t3.medium": 0.072,
            "db.t3.large": 0.145,
            "db.t3.xlarge": 0.29,
            "db.t3.2xlarge": 0.579,
        } as Readonly<Record<string, number>>,
        /** gp3 storage per GB-month, Single-AZ (Multi-AZ: twice). 3,000 IOPS and 125 MB/s are included. */
        gp3GbMonth: 0.115,
        /** Backup storage beyond the free amount, which is the region's provisioned storage. */
        backupGbMonth: 0.095,
        /** Performance Insights with its 7-day retention, the only one Berth sets: free. */
        performanceInsights7Days: 0,
    },
    /** Amazon CloudWatch and CloudWatch Logs. */
    cloudwatch: {
        source: {
            url: "https://aws.amazon.com/cloudwatch/pricing/",
            readThrough: [
                "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/ (June 2026: ingestion, dashboards)",
                "https://signoz.io/guides/cloudwatch-pricing (February 2026: custom metrics)",
                "https://cloudburn.io/blog/amazon-cloudwatch-pricing (February 2026: the free tier, from AWS's page)",
            ],
        },
        /** Standard log ingestion, and vended logs (VPC flow logs, RDS Enhanced Monitoring) in their first tier. */
        logIngestionGb: 0.5,
        vendedLogIngestionGb: 0.5,
        logStorageGbMonth: 0.03,
        /** Custom metrics, as Container Insights' metrics are billed (first 10,000). */
        metricMonth: 0.3,
        /** A standard-resolution alarm, per metric it watches. */
        alarmMetricMonth: 0.1,
        dashboardMonth: 3,
        /**
         * Always free, per account and region-wide in it ("Free tier" on the pricing page above): 10 alarm
         * metrics (standard resolution), 3 dashboards of up to 50 metrics each, 5 GB of logs (ingestion and
         * storage). The logs' 5 GB is not counted: at the `test` preset's volumes it would take about $0.60 off.
         */
        freeTier: { alarmMetrics: 10, dashboards: 3, dashboardMetrics: 50 },
    },
    /** AWS KMS. */
    kms: {
        source: {
            url: "https://aws.amazon.com/kms/pricing/",
            readThrough: [
                "https://www.wring.co/blog/aws-kms-pricing-guide (March 2026)",
                "https://cloudburn.io/blog/aws-kms-pricing (March 2026: since May 2024 the first two rotations add $1 a month each, later ones nothing)",
            ],
        },
        /** In a key's first year; rotation adds $1 a month at each of its first two yearly rotations. */
        keyMonth: 1,
        /** Symmetric requests (GenerateDataKey, Decrypt), per 10,000. */
        requestsTenThousand: 0.03,
    },
    /** Amazon SNS and SQS: the topics and the workers' queues (components/messaging/). */
    messaging: {
        source: {
            url: "https://aws.amazon.com/sns/pricing/ and https://aws.amazon.com/sqs/pricing/",
            readThrough: [
                "https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ (June 2026: $0.50 per million standard topic publishes)",
                "https://www.factualminds.com/blog/amazon-sqs-pricing-64kb-rule-fifo-vs-standard/ (June 2026: $0.40 per million standard queue requests, each 64 KB a request)",
                "https://cloudburn.io/blog/amazon-sqs-pricing (March 2026: 1 million requests a month free, per account)",
            ],
        },
        snsPublishMillion: 0.5,
        sqsRequestMillion: 0.4,
        /** Per account and month, for good: SNS's first million publishes, SQS's first million requests. */
        freeTier: { snsPublishes: 1_000_000, sqsRequests: 1_000_000 },
    },
    /** AWS Secrets Manager. */
    secretsManager: {
        source: {
            url: "https://aws.amazon.com/secrets-manager/pricing/",
            readThrough: ['the figure README\'s database section gave (now docs/data.md, "Monthly cost"), read for the database work on 24 November 2026'],
        },
        secretMonth: 0.4,
    },
    /** AWS WAF. */
    waf: {
        source: {
            url: "https://aws.amazon.com/waf/pricing/",
            readThrough: ["https://c3x.dev/blog/aws-waf-cost-explained/ (a managed rule group counts as one rule)"],
        },
        webAclMonth: 5,
        ruleMonth: 1,
        millionRequests: 0.6,
    },
    /** Amazon S3 Standard: the ALB's access logs. */
    s3: {
        // Not found in a stored copy here: AWS's long-standing S3 Standard list prices.
        source: { url: "https://aws.amazon.com/s3/pricing/", readThrough: [] },
        standardGbMonth: 0.023,
        putPerThousand: 0.005,
    },
    /** AWS Step Functions, Standard workflows: the jobs' state machines (4,000 transitions a month free, per account). */
    stepFunctions: {
        source: {
            url: "https://aws.amazon.com/step-functions/pricing/",
            readThrough: ["a stored copy of the AWS page (US East (N. Virginia): $0.0250 per 1,000 state transitions, retries counted)"],
        },
        stateTransitionsPerThousand: 0.025,
    },
    /** Amazon EventBridge Scheduler: the jobs' schedules (14 million invocations a month free, per account). */
    scheduler: {
        source: {
            url: "https://aws.amazon.com/eventbridge/pricing/",
            readThrough: ["https://cloudburn.io/blog/amazon-eventbridge-pricing (March 2026: $1.00 per million invocations, 14M a month free)"],
        },
        invocationsPerMillion: 1,
    },
    /** Amazon ECR: private repositories' storage. */
    ecr: {
        // Not found in a stored copy here: AWS's long-standing list price.
        source: { url: "https://aws.amazon.com/ecr/pricing/", readThrough: [] },
        storageGbMonth: 0.1,
    },
} as const;
