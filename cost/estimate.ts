/**
 * What a stack costs a month: a pure function of its validated settings and the catalogue, priced with the
 * list prices of `cost/prices.ts` and the use `cost/usageAssumptions.ts` assumes. One line per
 * thing the stack pays for, each showing how it was computed; the total is their sum.
 *
 * It counts what Berth creates, the way the program creates it (NAT gateways per strategy, an ALB address per
 * AZ, each service's tasks by capacity provider and architecture, the database when a service declares it,
 * the keys, logs and alarms), at each service's task floor (`desiredCount`). Not counted: tasks autoscaling or
 * a schedule adds or removes, data transfer out of AWS and across AZs, per-request charges below a cent
 * (KMS, Secrets Manager and ECR API calls, SNS notices, EventBridge and Step Functions for the restart after a
 * rotation), and the Route 53 zone a team brings. AWS's always-free allowances that are per account (CloudWatch's
 * 10 alarm metrics, 3 dashboards of up to 50 metrics, 5 GB of logs) are counted only when the usage assumptions
 * say the stack is alone in its account (`aloneInAccount`): every stack of an account shares them.
 */
import { capacityFor } from "../core/fargate";
import { natGatewayCount } from "../core/nat";
import { cpuArchitecture } from "../core/platform";
import { HOURS_PER_MONTH, PRICE_REGION, PRICES, PRICES_READ_ON } from "./prices";
import { USAGE_ASSUMPTIONS, type UsageAssumptions } from "./usageAssumptions";
import { MANAGED_RULE_GROUPS } from "../core/managedRuleGroups";
import type { Settings } from "../config";
import { deployedCatalog, jobs as shippedJobs, type CatalogJob, type CatalogService } from "../catalog";
import { runsPerMonth } from "../core/jobSchedule";
import { JOB_ALARM_METRICS } from "../core/jobStateMachine";
import { catalogTopics, subscribersOf, workers } from "../catalog/messaging";
import { RECEIVE_WAIT_SECONDS } from "../core/messaging";
import { alarmMetrics, dashboardMetrics, NAT_INSTANCE_ALARMS, targetTrackingAlarms } from "./monitoring";

/** Where a line item belongs, for reading the breakdown. */
export type CostGroup = "network" | "load balancing" | "compute" | "database" | "messaging" | "secrets and keys" | "logs and monitoring";

export interface CostItem {
    /** Stable: `nat-gateways`, `fargate:api`, `rds-instance`, ... */
    id: string;
    group: CostGroup;
    /** What is paid for, in words. */
    name: string;
    /** How the amount follows from quantities and prices. */
    detail: string;
    /** US dollars a month. */
    monthly: number;
}

export interface CostEstimate {
    stack: string;
    environment: Settings["environment"];
    region: string;
    items: CostItem[];
    /** The sum of the items. */
    total: number;
    assumptions: UsageAssumptions;
    pricesReadOn: string;
    /** What makes the estimate less certain for this stack (another region than the prices'). */
    warnings: string[];
}

/** A setting the price table cannot price (an instance class it lacks). */
export class CostError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CostError";
    }
}

/** The root volume of the NAT instance: the Amazon Linux 2023 AMI's, which Berth does not resize. */
export const NAT_INSTANCE_ROOT_GB = 8;

const H = HOURS_PER_MONTH;
/** A unit price as the price table has it (`$0.045`), or a computed one to four significant digits. */
const money = (n: number) => `$${Number(n.toPrecision(4))}`;
/** A quantity to at most three decimals: `6.083`, `0.002`. */
const qty = (n: number) => String(Number(n.toFixed(3)));
const round = (n: number) => Math.round(n * 100) / 100;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** GB-months kept at steady state by a retention of `days` when `gb` arrive each month. */
const retained = (gb: number, days: number) => (gb * days) / 30;

/**
 * Logs of `gb` a month, ingested at `ingestionGb` a GB and kept `days`: a cost item's detail and monthly figure.
 * `volume` says how `gb` came about, when it is more than one figure.
 */
function logsCost(gb: number, ingestionGb: number, days: number, volume = `${gb} GB`): Pick<CostItem, "detail" | "monthly"> {
    const kept = retained(gb, days);
    const storage = PRICES.cloudwatch.logStorageGbMonth;
    return {
        detail: `${volume} × ${money(ingestionGb)} + ${qty(kept)} GB kept ${days} days × ${money(storage)}`,
        monthly: gb * ingestionGb + kept * storage,
    };
}

/**
 * The monthly cost of a stack, line by line.
 * @param settings the stack's settings, as `loadSettings` returns them
 * @param declared the catalogue; with `edge` `alb` the stack deploys it without the gateway (`deployedCatalog`)
 * @param usage what the estimate assumes about use; default: the environment's
 * @param jobs the jobs (catalog/jobs.ts); default: the shipped ones
 */
export function estimateCost(
    settings: Settings,
    declared: readonly CatalogService[],
    usage: UsageAssumptions = USAGE_ASSUMPTIONS[settings.environment],
    jobs: readonly CatalogJob[] = shippedJobs,
): CostEstimate {
    const catalog = deployedCatalog(declared, settings.edge);
    const items: CostItem[] = [
        ...network(settings, usage),
        ...loadBalancing(settings, usage),
        ...compute(settings, catalog, usage, jobs),
        ...database(settings, catalog, usage),
        ...messaging(settings, catalog, usage),
        ...secretsAndKeys(settings, catalog),
        ...logsAndMonitoring(settings, catalog, usage, jobs),
    ].map((item) => ({ ...item, monthly: round(item.monthly) }));
    const warnings = settings.region === PRICE_REGION ? [] : [`the prices are ${PRICE_REGION}'s; ${settings.region} charges differently (often 10-30 % more)`];
    return {
        stack: settings.stack,
        environment: settings.environment,
        region: settings.region,
        items,
        total: round(sum(items.map((i) => i.monthly))),
        assumptions: usage,
        pricesReadOn: PRICES_READ_ON,
        warnings,
    };
}

function network(s: Settings, usage: UsageAssumptions): CostItem[] {
    const p = PRICES.vpc;
    const items: CostItem[] = [];
    const gateways = natGatewayCount(s.natStrategy, s.azCount);
    if (gateways > 0) {
        items.push({
            id: "nat-gateways",
            group: "network",
            name: `NAT gateway${gateways > 1 ? "s, one per AZ" : ""}`,
            detail: `${gateways} × ${money(p.natGatewayHour)}/h × ${H} h + ${usage.natGb} GB processed × ${money(p.natGatewayGb)}`,
            monthly: gateways * p.natGatewayHour * H + usage.natGb * p.natGatewayGb,
        });
    } else {
        const hourly = PRICES.ec2.instanceHour[s.natInstanceType];
        if (hourly === undefined) {
            throw new CostError(`no price for the NAT instance type ${s.natInstanceType} in cost/prices.ts; add it from ${PRICES.ec2.source.url}`);
        }
        items.push({
            id: "nat-instance",
            group: "network",
            name: `NAT instance (${s.natInstanceType})`,
            detail: `${money(hourly)}/h × ${H} h + ${NAT_INSTANCE_ROOT_GB} GB gp3 root volume × ${money(PRICES.ec2.ebsGp3GbMonth)}; nothing per GB`,
            monthly: hourly * H + NAT_INSTANCE_ROOT_GB * PRICES.ec2.ebsGp3GbMonth,
        });
    }
    // The ALB holds a public address in each AZ it spans; each NAT gateway its Elastic IP; a NAT instance its own.
    const natAddresses = gateways > 0 ? gateways : 1;
    const addresses = s.azCount + natAddresses;
    items.push({
        id: "public-ipv4",
        group: "network",
        name: "Public IPv4 addresses",
        detail: `(${s.azCount} of the ALB + ${natAddresses} of the NAT) × ${money(p.publicIpv4Hour)}/h × ${H} h`,
        monthly: addresses * p.publicIpv4Hour * H,
    });
    return items;
}

/** The ALB's LCUs: the largest of its dimensions, each request taken as a new connection (no keep-alive). */
export function albLcus(usage: Pick<UsageAssumptions, "requests" | "responseKb">): number {
    const lcu = PRICES.alb.lcu;
    const perSecond = usage.requests / (H * 3600);
    const gbPerHour = (usage.requests * usage.responseKb) / 1e6 / H;
    return Math.max(perSecond / lcu.newConnectionsPerSecond, gbPerHour / lcu.processedGbPerHour);
}

function loadBalancing(s: Settings, usage: UsageAssumptions): CostItem[] {
    const p = PRICES.alb;
    const lcus = albLcus(usage);
    const items: CostItem[] = [
        {
            id: "alb",
            group: "load balancing",
            name: "Application Load Balancer",
            detail: `${money(p.hour)}/h × ${H} h + ${qty(lcus)} LCU (${usage.requests.toLocaleString("en-US")} requests of ${usage.responseKb} KB) × ${money(p.lcuHour)}/h`,
            monthly: p.hour * H + lcus * p.lcuHour * H,
        },
    ];
    if (s.wafEnabled) {
        const w = PRICES.waf;
        // The rate-based rule, and each AWS managed rule group (one rule each for pricing).
        const rules = 1 + MANAGED_RULE_GROUPS.length;
        items.push({
            id: "waf",
            group: "load balancing",
            name: "AWS WAF web ACL",
            detail: `${money(w.webAclMonth)} + ${rules} rules × ${money(w.ruleMonth)} + ${usage.requests / 1e6} million requests × ${money(w.millionRequests)}`,
            monthly: w.webAclMonth + rules * w.ruleMonth + (usage.requests / 1e6) * w.millionRequests,
        });
    }
    if (s.accessLogs) {
        const gb = (usage.requests / 1e6) * usage.accessLogGbPerMillionRequests;
        const stored = retained(gb, s.logRetentionDays);
        // The ALB writes a file per node every 5 minutes (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
        const puts = s.azCount * 12 * H;
        items.push({
            id: "access-logs",
            group: "load balancing",
            name: "ALB access logs in S3",
            detail: `${qty(gb)} GB a month, ${qty(stored)} GB kept ${s.logRetentionDays} days × ${money(PRICES.s3.standardGbMonth)} + ${puts.toLocaleString("en-US")} PUTs × ${money(PRICES.s3.putPerThousand)}/1000`,
            monthly: stored * PRICES.s3.standardGbMonth + (puts / 1000) * PRICES.s3.putPerThousand,
        });
    }
    return items;
}

/** A service's tasks at its floor, split between on-demand FARGATE and FARGATE_SPOT as ECS splits them. */
export function taskSplit(desiredCount: number, capacity: { onDemandBase: number; spotPercent: number }): { onDemand: number; spot: number } {
    const base = Math.min(desiredCount, capacity.onDemandBase);
    const spot = ((desiredCount - base) * capacity.spotPercent) / 100;
    return { onDemand: desiredCount - spot, spot };
}

function compute(s: Settings, catalog: readonly CatalogService[], usage: UsageAssumptions, jobs: readonly CatalogJob[]): CostItem[] {
    const fargate = catalog.map((service): CostItem => {
        const size = s.services[service.name];
        const arch = cpuArchitecture(service.platform) === "ARM64" ? "arm64" : "x86";
        const rate = PRICES.fargate[arch];
        const vcpu = size.cpu / 1024;
        const gb = size.memory / 1024;
        const split = taskSplit(size.desiredCount, capacityFor(service.platform, s));
        const perTaskHour = vcpu * rate.vcpuHour + gb * rate.gbHour;
        const spotNote = service.platform === "linux/arm64" && s.spotPercent > 0 ? " (Fargate Spot runs no ARM64 tasks)" : "";
        return {
            id: `fargate:${service.name}`,
            group: "compute",
            name: `Fargate: ${service.name}`,
            detail:
                `${size.desiredCount} × ${vcpu} vCPU/${gb} GB ${arch === "arm64" ? "ARM64" : "x86"}: ${qty(split.onDemand)} on-demand at ` +
                `${money(perTaskHour)}/h, ${qty(split.spot)} Spot at ${Math.round(usage.fargateSpotDiscount * 100)} % less${spotNote}`,
            monthly: H * perTaskHour * (split.onDemand + split.spot * (1 - usage.fargateSpotDiscount)),
        };
    });
    const perRepository = usage.image.baseGb + s.keepImages * usage.image.layerGbPerImage;
    // A job's image has its repository too.
    const repositories = catalog.length + jobs.length;
    return [
        ...fargate,
        ...jobs.map((job) => jobCost(job, usage)),
        {
            id: "ecr",
            group: "compute",
            name: "ECR repositories",
            detail: `${repositories} × (${usage.image.baseGb} GB base + ${s.keepImages} images × ${usage.image.layerGbPerImage} GB) × ${money(PRICES.ecr.storageGbMonth)}`,
            monthly: repositories * perRepository * PRICES.ecr.storageGbMonth,
        },
    ];
}

/**
 * A job's runs: its task's Fargate time (on demand, `jobRunMinutes` a run), one Step Functions state transition
 * per attempt of its one state (a run without retries counted), and one Scheduler invocation, before the
 * accounts' free allowances.
 */
function jobCost(job: CatalogJob, usage: UsageAssumptions): CostItem {
    const runs = runsPerMonth(job.schedule);
    if (runs === undefined) {
        throw new CostError(`job ${job.name}: cannot count the runs of ${job.schedule}`);
    }
    const arch = cpuArchitecture(job.platform) === "ARM64" ? "arm64" : "x86";
    const rate = PRICES.fargate[arch];
    const vcpu = job.cpu / 1024;
    const gb = job.memory / 1024;
    const perTaskHour = vcpu * rate.vcpuHour + gb * rate.gbHour;
    const hours = (runs * usage.jobRunMinutes) / 60;
    const transitions = (runs * PRICES.stepFunctions.stateTransitionsPerThousand) / 1000;
    const invocations = (runs * PRICES.scheduler.invocationsPerMillion) / 1e6;
    return {
        id: `job:${job.name}`,
        group: "compute",
        name: `Job: ${job.name}`,
        detail:
            `${qty(runs)} runs (${job.schedule}) × (${usage.jobRunMinutes} min of ${vcpu} vCPU/${gb} GB ${arch === "arm64" ? "ARM64" : "x86"} at ${money(perTaskHour)}/h ` +
            `+ 1 state transition at ${money(PRICES.stepFunctions.stateTransitionsPerThousand)}/1,000 + 1 Scheduler invocation at ${money(PRICES.scheduler.invocationsPerMillion)}/million)`,
        monthly: hours * perTaskHour + transitions + invocations,
    };
}

function database(s: Settings, catalog: readonly CatalogService[], usage: UsageAssumptions): CostItem[] {
    if (!catalog.some((c) => c.database !== undefined)) {
        return [];
    }
    const p = PRICES.rds;
    const db = s.database;
    const hourly = p.instanceHour[db.instanceClass];
    if (hourly === undefined) {
        throw new CostError(`no price for ${db.instanceClass} in cost/prices.ts; add its Single-AZ hourly price from ${p.source.url}`);
    }
    const copies = db.multiAz ? 2 : 1;
    const az = db.multiAz ? "Multi-AZ" : "Single-AZ";
    const backupGb = usage.databaseDataGb * (1 + usage.databaseDailyChange * db.backupRetentionDays);
    // RDS keeps backups up to the region's provisioned storage free (https://aws.amazon.com/rds/postgresql/pricing/).
    const billableBackup = Math.max(0, backupGb - db.storageGb);
    const cw = PRICES.cloudwatch;
    const items: CostItem[] = [
        {
            id: "rds-instance",
            group: "database",
            name: `RDS ${db.instanceClass}, ${az}`,
            detail: `${copies} × ${money(hourly)}/h × ${H} h`,
            monthly: copies * hourly * H,
        },
        {
            id: "rds-storage",
            group: "database",
            name: "RDS gp3 storage",
            detail: `${db.storageGb} GB × ${copies} × ${money(p.gp3GbMonth)}`,
            monthly: db.storageGb * copies * p.gp3GbMonth,
        },
        {
            id: "rds-backups",
            group: "database",
            name: `RDS backups, ${db.backupRetentionDays} days`,
            detail: `${qty(backupGb)} GB of backups (${usage.databaseDataGb} GB of data, ${usage.databaseDailyChange * 100} % changed a day), ${db.storageGb} GB free; ${qty(billableBackup)} GB × ${money(p.backupGbMonth)}`,
            monthly: billableBackup * p.backupGbMonth,
        },
        {
            id: "rds-enhanced-monitoring",
            group: "database",
            name: "RDS Enhanced Monitoring (CloudWatch Logs)",
            detail: `${usage.enhancedMonitoringGb} GB × ${money(cw.vendedLogIngestionGb)} + ${usage.enhancedMonitoringGb} GB kept 30 days (RDSOSMetrics' default) × ${money(cw.logStorageGbMonth)}`,
            monthly: usage.enhancedMonitoringGb * (cw.vendedLogIngestionGb + cw.logStorageGbMonth),
        },
        {
            id: "rds-logs",
            group: "database",
            name: "PostgreSQL logs exported to CloudWatch Logs",
            ...logsCost(usage.databaseLogGb, cw.logIngestionGb, s.logRetentionDays),
        },
    ];
    if (db.performanceInsights) {
        items.push({
            id: "rds-performance-insights",
            group: "database",
            name: "Performance Insights",
            detail: "7-day retention: free",
            monthly: p.performanceInsights7Days,
        });
    }
    return items;
}

/** Seconds in the month the estimate prices. */
const SECONDS = H * 3600;

/**
 * SNS publishes and SQS requests at the assumed events a month, and the KMS requests of SNS's encryption.
 * Per event: one publish; per subscribed queue the send of SNS's delivery, a receive and a delete. Each
 * worker task also long-polls its empty queue about every `RECEIVE_WAIT_SECONDS` (`desiredCount` tasks).
 * SNS asks KMS for a data key per publishing principal about every 5 minutes, `2 × seconds / 300` requests
 * ("Estimating AWS KMS costs", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html); SQS
 * reuses its data keys for a day (`DATA_KEY_REUSE_SECONDS`): a handful of requests, left out.
 */
function messaging(s: Settings, catalog: readonly CatalogService[], usage: UsageAssumptions): CostItem[] {
    const topics = catalogTopics(catalog);
    if (topics.length === 0) {
        return [];
    }
    const p = PRICES.messaging;
    const events = usage.eventsPerMonth;
    const fanOut = sum(topics.map((t) => subscribersOf(catalog, t).length)) / topics.length;
    const polls = (sum(workers(catalog).map((w) => s.services[w.name].desiredCount)) * SECONDS) / RECEIVE_WAIT_SECONDS;
    const requests = events * fanOut * 3 + polls;
    const freePublishes = usage.aloneInAccount ? Math.min(events, p.freeTier.snsPublishes) : 0;
    const freeRequests = usage.aloneInAccount ? Math.min(requests, p.freeTier.sqsRequests) : 0;
    const publishers = catalog.filter((c) => c.publishes.length > 0).length;
    const kmsRequests = (publishers * 2 * SECONDS) / 300;
    const free = (n: number) => (usage.aloneInAccount ? ` − ${(n / 1e6).toLocaleString("en-US")} million free` : "");
    return [
        {
            id: "sns",
            group: "messaging",
            name: `SNS topic${topics.length > 1 ? "s" : ""} (${topics.join(", ")})`,
            detail: `(${(events / 1e6).toLocaleString("en-US")} million publishes${free(freePublishes)}) × ${money(p.snsPublishMillion)}/million + ${kmsRequests.toLocaleString("en-US")} KMS requests of ${publishers} publisher${publishers > 1 ? "s" : ""} × ${money(PRICES.kms.requestsTenThousand)}/10,000`,
            monthly: ((events - freePublishes) / 1e6) * p.snsPublishMillion + (kmsRequests / 1e4) * PRICES.kms.requestsTenThousand,
        },
        {
            id: "sqs",
            group: "messaging",
            name: `SQS queue${workers(catalog).length > 1 ? "s" : ""} of ${workers(catalog)
                .map((w) => w.name)
                .join(", ")}`,
            detail: `(${(events / 1e6).toLocaleString("en-US")} million events × ${qty(fanOut)} queues × 3 requests + ${qty(polls / 1e6)} million empty long polls${free(freeRequests)}) × ${money(p.sqsRequestMillion)}/million`,
            monthly: ((requests - freeRequests) / 1e6) * p.sqsRequestMillion,
        },
    ];
}

function secretsAndKeys(s: Settings, catalog: readonly CatalogService[]): CostItem[] {
    const managed = catalog.some((c) => c.database !== undefined) ? 1 : 0;
    const stored = Object.values(s.secrets)
        .flat()
        .filter((x) => x.kind === "value").length;
    const items: CostItem[] = [];
    if (managed + stored > 0) {
        items.push({
            id: "secrets",
            group: "secrets and keys",
            name: "Secrets Manager secrets",
            detail: `(${managed} RDS-managed + ${stored} of berth:secrets) × ${money(PRICES.secretsManager.secretMonth)}`,
            monthly: (managed + stored) * PRICES.secretsManager.secretMonth,
        });
    }
    // The alarm topic's key always; the logs' key with logsKmsKey; the topics' and queues' key when a service publishes.
    const messagingKey = catalogTopics(catalog).length > 0;
    const keys = 1 + (s.logsKmsKey ? 1 : 0) + (messagingKey ? 1 : 0);
    items.push({
        id: "kms",
        group: "secrets and keys",
        name: `KMS keys (alarm topic${s.logsKmsKey ? ", logs" : ""}${messagingKey ? ", topics and queues" : ""})`,
        detail: `${keys} × ${money(PRICES.kms.keyMonth)} in a key's first year; each of its first two yearly rotations adds ${money(PRICES.kms.keyMonth)}`,
        monthly: keys * PRICES.kms.keyMonth,
    });
    return items;
}

function logsAndMonitoring(s: Settings, catalog: readonly CatalogService[], usage: UsageAssumptions, jobs: readonly CatalogJob[]): CostItem[] {
    const cw = PRICES.cloudwatch;
    const serviceLogs = catalog.length * usage.serviceLogGb;
    const items: CostItem[] = [
        {
            id: "service-logs",
            group: "logs and monitoring",
            name: "Service logs in CloudWatch Logs",
            ...logsCost(serviceLogs, cw.logIngestionGb, s.logRetentionDays, `${catalog.length} × ${usage.serviceLogGb} GB`),
        },
    ];
    if (s.flowLogs) {
        items.push({
            id: "flow-logs",
            group: "logs and monitoring",
            name: "VPC flow logs in CloudWatch Logs",
            ...logsCost(usage.flowLogGb, cw.vendedLogIngestionGb, s.logRetentionDays),
        });
    }
    if (s.containerInsights) {
        const ci = usage.containerInsights;
        const metrics = ci.metricsPerCluster + catalog.length * ci.metricsPerService;
        const tasks = sum(catalog.map((c) => s.services[c.name].desiredCount));
        items.push({
            id: "container-insights",
            group: "logs and monitoring",
            name: "Container Insights",
            detail: `${metrics} metrics × ${money(cw.metricMonth)} + ${tasks} tasks × ${ci.performanceLogGbPerTask} GB of performance events × ${money(cw.logIngestionGb)}`,
            monthly: metrics * cw.metricMonth + tasks * ci.performanceLogGbPerTask * cw.logIngestionGb,
        });
    }
    // Each job's alarm watches its failed and its timed-out runs.
    const watched = sum(catalog.map((c) => alarmMetrics(c, s))) + jobs.length * JOB_ALARM_METRICS.length;
    const scaling = sum(catalog.map((c) => targetTrackingAlarms(c, s)));
    const nat = s.natStrategy === "instance" ? NAT_INSTANCE_ALARMS : 0;
    const free = cw.freeTier;
    const freeAlarms = usage.aloneInAccount ? Math.min(free.alarmMetrics, watched + scaling + nat) : 0;
    const natPart = nat > 0 ? ` + ${nat} of the NAT instance's recovery` : "";
    const freeAlarmPart = usage.aloneInAccount ? ` − ${freeAlarms} free` : "";
    const metrics = dashboardMetrics(s, catalog);
    const dashboardFree = usage.aloneInAccount && metrics <= free.dashboardMetrics;
    items.push(
        {
            id: "alarms",
            group: "logs and monitoring",
            name: "CloudWatch alarms",
            detail: `(${watched} metrics of Berth's alarms + ${scaling} target-tracking alarms${natPart}${freeAlarmPart}) × ${money(cw.alarmMetricMonth)}`,
            monthly: (watched + scaling + nat - freeAlarms) * cw.alarmMetricMonth,
        },
        {
            id: "dashboard",
            group: "logs and monitoring",
            name: "CloudWatch dashboard",
            detail: dashboardFree
                ? `1 of ${metrics} metrics: free (up to ${free.dashboards} of up to ${free.dashboardMetrics} metrics)`
                : `1 × ${money(cw.dashboardMonth)} (${metrics} metrics${usage.aloneInAccount ? `: the free tier covers up to ${free.dashboardMetrics}` : ""})`,
            monthly: dashboardFree ? 0 : cw.dashboardMonth,
        },
    );
    return items;
}
