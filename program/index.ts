/**
 * Berth's wiring: the stack's settings -> network, cluster, load balancer, and a `Service` (its image, Fargate
 * service and alarms) per catalogue entry -> stack outputs (outputs.ts). `deployBerth` reads as the list of its
 * steps; no resource logic lives here (see `components/`), and no stack-scoped name is spelled here (see
 * core/naming.ts).
 */
import * as aws from "@pulumi/aws";
import { Database } from "../components/data/database";
import { AccessLogBucket } from "../components/edge/accessLogBucket";
import { DnsCertificate } from "../components/edge/certificate";
import { LoadBalancer } from "../components/edge/loadBalancer";
import { WebAcl } from "../components/edge/webAcl";
import { stackNames } from "../core/naming";
import { Network } from "../components/network/network";
import { AlarmTopic } from "../components/observability/alarms";
import { Dashboard } from "../components/observability/dashboard";
import { adoptLogGroups, existingLogGroups } from "../components/observability/logGroups";
import { LogsKey } from "../components/observability/logsKey";
import { DeployAccess } from "../components/pipeline/deployAccess";
import { DestroyGuard } from "../components/pipeline/destroyGuard";
import { RoleBoundary } from "../components/pipeline/roleBoundary";
import { Cluster } from "../components/service/cluster";
import { SecretRestart } from "../components/service/secretRestart";
import { Service } from "../components/service/service";
import { providerCredentials } from "../core/awsIdentity";
import { outputsOf, type BerthOutputs } from "./outputs";
import { chooseZones, ConfigError, settingsFromStack, type Settings } from "../config";
import { deployedCatalog, deployOrder, jobs as shippedJobs, type CatalogJob, type CatalogService } from "../catalog";
import { checkJobs, deployJob } from "./jobs";
import { createMessaging, deployWorker } from "./workers";
import { workerRolloutProblems } from "../catalog/messaging";
import type { RequestKind } from "../core/serviceKind";
import type { Edge, Foundation, HostNames, StackContext } from "./context";
import { deployServices } from "./services";

export { COMMIT_TAG, COMMIT_VARIABLE } from "../core/imageRetention";
export type { BerthOutputs, DatabaseOutput, ServiceOutput } from "./outputs";
export type { HostNames } from "./context";

/**
 * Deploys the given catalogue with the stack's configuration. Every check that can fail on the catalogue
 * or the configuration runs before the first resource is registered.
 */
export async function deployBerth(declared: readonly CatalogService[], declaredJobs: readonly CatalogJob[] = shippedJobs): Promise<BerthOutputs> {
    const stack = await openStack(declared, declaredJobs);
    const boundary = createRoleBoundary(stack);
    const pipeline = createDeployAccess(stack, boundary);
    const hosts = hostNames(stack.settings, stack.catalog);
    if (stack.settings.hostedZoneId !== undefined) {
        await checkZoneHolds(stack.settings, hosts, stack.provider);
    }
    const foundation = createFoundation(stack, boundary);
    const edge = createEdge(stack, foundation, hosts);
    const database = createDatabase(stack, foundation);
    const messaging = createMessaging({ ...stack, ...foundation, permissionsBoundary: boundary.arn });
    const services = deployServices(stack, foundation, edge, database, messaging);
    const workers = new Map(
        stack.catalog
            .filter((s) => s.kind === "worker")
            .map((s) => [s.name, deployWorker(s, messaging!, { ...stack, ...foundation, permissionsBoundary: boundary.arn })] as const),
    );
    const jobs = declaredJobs.map((job) => deployJob(job, { ...stack, ...foundation, database, permissionsBoundary: boundary.arn }));
    const dashboard = createDashboard(stack, foundation, edge, services);
    const restart = restartOnSecretChange(stack, foundation, services);

    // The pipeline's roles and the OIDC provider too: a guarded destroy must not cut the pipeline off either.
    const { logsKey, alarmTopic, network, cluster } = foundation;
    const { certificate, accessLogs, loadBalancer, webAcl } = edge;
    const guarded = [
        boundary,
        pipeline,
        logsKey,
        network,
        cluster,
        certificate,
        accessLogs,
        loadBalancer,
        webAcl,
        alarmTopic,
        database,
        messaging,
        ...services.values(),
        ...workers.values(),
        ...jobs.map((j) => j.component),
        dashboard,
        restart,
    ].filter((r): r is NonNullable<typeof r> => r !== undefined);
    new DestroyGuard(`${stack.settings.project}-destroy-guard`, guarded, stack.settings.deletionProtection);

    return outputsOf(
        { domain: stack.settings.domain, catalog: stack.catalog },
        {
            loadBalancer,
            network,
            cluster,
            alarmTopic,
            pipeline,
            database,
            services,
            workers,
            dashboard,
            jobs,
        },
    );
}

/**
 * Validates the catalogue and the stack's settings, then makes the stack's provider and reads what the account
 * holds already: the region's zones and the log groups an earlier life of the stack kept.
 */
async function openStack(declared: readonly CatalogService[], declaredJobs: readonly CatalogJob[]): Promise<StackContext> {
    deployOrder(declared);
    const settings = settingsFromStack(declared);
    // With `berth:edge` `alb`, no gateway: its routed backends are public services of their own.
    const catalog = deployedCatalog(declared, settings.edge);
    const order = deployOrder(catalog);
    checkJobs(declaredJobs, catalog);
    const workerProblems = workerRolloutProblems(settings.project, catalog, settings.rollouts);
    if (workerProblems.length > 0) {
        throw new ConfigError(workerProblems);
    }
    const names = stackNames(settings.project, settings.stack);
    const stackTags = { project: settings.project, stack: settings.stack };
    // An explicit provider reads no aws:* stack configuration (pulumi/pulumi-aws#1307): it gets the stack's
    // credential settings here, and every resource and invoke of the program goes through it.
    const provider = new aws.Provider(settings.project, {
        region: settings.region as aws.Region,
        ...providerCredentials(settings.awsIdentity),
        defaultTags: { tags: { ...stackTags, environment: settings.environment } },
    });
    const region = await aws.getAvailabilityZones(
        {
            state: "available",
            // Local and Wavelength zones lack NAT gateways and ALBs.
            filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
        },
        { provider },
    );
    const zones = chooseZones(settings, region);

    const logGroupPrefixes = [names.logGroupPrefix, names.databaseLogGroupPrefix, names.stepFunctionsLogGroupPrefix];
    // Kept groups of an earlier life of this stack are adopted, not created again (components/observability/logGroups.ts).
    const keptLogGroups = await existingLogGroups(logGroupPrefixes, provider);
    return {
        settings,
        catalog,
        order,
        names,
        stackTags,
        logGroupPrefixes,
        zones,
        provider,
        opts: { providers: { aws: provider }, transformations: [adoptLogGroups(keptLogGroups)] },
        usesDatabase: catalog.some((s) => s.database !== undefined),
    };
}

/** Every role of the stack carries it, so that the pipeline may create and change roles (deployPermissions.ts). */
function createRoleBoundary({ settings, names, stackTags, usesDatabase, opts }: StackContext): RoleBoundary {
    const references = Object.values(settings.secrets).flat();
    return new RoleBoundary(
        settings.project,
        {
            policyName: names.roleBoundary,
            path: names.rolePath,
            region: settings.region,
            stackTags,
            logGroupPrefixes: [names.logGroupPrefix, names.stepFunctionsLogGroupPrefix],
            secretPrefixes: [names.secretPrefix],
            referencedSecretArns: references.flatMap((s) => (s.kind === "secretsmanager" ? [s.resourceArn] : [])),
            referencedParameterArns: references.flatMap((s) => (s.kind === "ssm" ? [s.resourceArn] : [])),
            databaseIdentifier: usesDatabase ? names.databaseIdentifier : undefined,
        },
        opts,
    );
}

/** With `berth:pipeline`: the GitHub workflow's roles and the OIDC provider. */
function createDeployAccess(
    { settings, names, stackTags, usesDatabase, logGroupPrefixes, opts }: StackContext,
    boundary: RoleBoundary,
): DeployAccess | undefined {
    return (
        settings.pipeline &&
        new DeployAccess(
            settings.project,
            {
                ...settings.pipeline,
                region: settings.region,
                stackTags,
                boundaryArn: boundary.arn,
                databaseIdentifier: usesDatabase ? names.databaseIdentifier : undefined,
                protect: settings.deletionProtection,
                rolePath: names.rolePath,
                // RDS names the groups of the logs it exports after the instance.
                logGroupPrefixes,
                bucketPrefixes: [names.accessLogBucketPrefix],
                secretPrefixes: [names.secretPrefix],
            },
            opts,
        )
    );
}

/** The logs key, the alarm topic, the network and the cluster. */
function createFoundation({ settings, names, zones, usesDatabase, opts }: StackContext, boundary: RoleBoundary): Foundation {
    const protect = settings.deletionProtection;
    const logsKey = settings.logsKmsKey
        ? new LogsKey(
              settings.project,
              {
                  region: settings.region,
                  deletionWindowDays: settings.deletionProtection ? 30 : 7,
                  protect,
                  retainOnDelete: settings.retainOnDelete,
              },
              opts,
          )
        : undefined;
    const alarmTopic = new AlarmTopic(
        settings.project,
        {
            email: settings.alarmEmail,
            // The database's event subscriptions notify the same topic, and the NAT instance's recovery alarms.
            publishers: usesDatabase ? ["events.rds.amazonaws.com"] : [],
        },
        opts,
    );
    const network = new Network(
        settings.project,
        {
            cidrBlock: settings.vpcCidr,
            availabilityZones: zones,
            nat: settings.natStrategy,
            natInstanceType: settings.natInstanceType,
            alarmTopicArn: alarmTopic.topicArn,
            region: settings.region,
            protect,
            isolatedCidrBlock: usesDatabase ? settings.database.cidr : undefined,
            permissionsBoundary: boundary.arn,
            rolePath: names.rolePath,
            flowLogs: settings.flowLogs
                ? {
                      logGroupName: names.flowLogGroup,
                      retentionDays: settings.logRetentionDays,
                      kmsKeyArn: logsKey?.arn,
                      retainOnDelete: settings.retainOnDelete,
                  }
                : undefined,
        },
        opts,
    );
    const cluster = new Cluster(
        settings.project,
        {
            namespace: names.stack,
            containerInsights: settings.containerInsights,
        },
        opts,
    );
    return { boundary, logsKey, alarmTopic, network, cluster };
}

/** The public entry: the certificate, the access-log bucket, the ALB and its web ACL. */
function createEdge({ settings, names, opts }: StackContext, { network }: Foundation, hosts: HostNames): Edge {
    const protect = settings.deletionProtection;
    // A certificate of the team's own wins; else Berth makes one for every host name in the hosted zone.
    const certificate =
        settings.hostedZoneId !== undefined && settings.certificateArn === undefined
            ? new DnsCertificate(settings.project, { names: hosts.all, zoneId: settings.hostedZoneId }, opts)
            : undefined;
    const accessLogs = settings.accessLogs
        ? new AccessLogBucket(
              settings.project,
              {
                  region: settings.region,
                  bucketPrefix: names.accessLogBucketPrefix,
                  expirationDays: settings.logRetentionDays,
                  forceDestroy: settings.forceDelete,
                  protect,
                  retainOnDelete: settings.retainOnDelete,
              },
              opts,
          )
        : undefined;
    const loadBalancer = new LoadBalancer(
        settings.project,
        {
            vpcId: network.vpcId,
            subnetIds: network.publicSubnetIds,
            publicRoutes: network.publicRoutes,
            certificateArn: settings.certificateArn ?? certificate?.certificateArn,
            aliases: settings.hostedZoneId !== undefined ? { zoneId: settings.hostedZoneId, names: hosts.all } : undefined,
            accessLogs: accessLogs ? { bucket: accessLogs.bucketName, prefix: accessLogs.prefix, ready: accessLogs.ready } : undefined,
            deletionProtection: settings.deletionProtection,
            protect,
        },
        opts,
    );
    const webAcl = settings.wafEnabled ? new WebAcl(settings.project, { resourceArn: loadBalancer.arn }, opts) : undefined;
    return { hosts, certificate, accessLogs, loadBalancer, webAcl };
}

/** The PostgreSQL instance, when a service declares it. */
function createDatabase({ settings, names, usesDatabase, opts }: StackContext, foundation: Foundation): Database | undefined {
    if (!usesDatabase) {
        return undefined;
    }
    return new Database(
        settings.project,
        {
            vpcId: foundation.network.vpcId,
            subnetIds: foundation.network.isolatedSubnetIds,
            identifier: names.databaseIdentifier,
            engineVersion: settings.database.engineVersion,
            instanceClass: settings.database.instanceClass,
            allocatedStorage: settings.database.storageGb,
            multiAz: settings.database.multiAz,
            backupRetentionDays: settings.database.backupRetentionDays,
            performanceInsights: settings.database.performanceInsights,
            finalSnapshot: settings.database.finalSnapshot,
            deletionProtection: settings.deletionProtection,
            protect: settings.deletionProtection,
            logRetentionDays: settings.logRetentionDays,
            logKmsKeyArn: foundation.logsKey?.arn,
            retainLogs: settings.retainOnDelete,
            eventTopicArn: foundation.alarmTopic.topicArn,
            permissionsBoundary: foundation.boundary.arn,
            rolePath: names.rolePath,
        },
        opts,
    );
}

/** The stack's CloudWatch dashboard. */
function createDashboard(
    { settings, catalog, names, opts }: StackContext,
    { cluster }: Foundation,
    { loadBalancer }: Edge,
    services: Map<string, Service>,
): Dashboard {
    return new Dashboard(
        settings.project,
        {
            name: names.stack,
            region: settings.region,
            clusterName: cluster.clusterName,
            loadBalancerArnSuffix: loadBalancer.arnSuffix,
            containerInsights: settings.containerInsights,
            // Workers have no ALB or Service Connect traffic to graph; their queues' alarms watch them.
            services: catalog
                .filter((s) => s.kind !== "worker")
                .map((s) => ({
                    name: s.name,
                    kind: s.kind as RequestKind,
                    serviceName: services.get(s.name)!.fargate.serviceName,
                    targetGroupArnSuffixes: services.get(s.name)!.fargate.targetGroupArnSuffixes,
                    discoveryName: s.kind === "backend" ? s.name : undefined,
                    calls: [...s.calls],
                })),
        },
        opts,
    );
}

/** Tasks read their secrets at start: rotations and new values reach them through fresh tasks. */
function restartOnSecretChange({ settings, names, opts }: StackContext, foundation: Foundation, services: Map<string, Service>): SecretRestart | undefined {
    const readers = [...services.entries()]
        .filter(([, s]) => s.fargate.secretArns.length > 0)
        .map(([name, s]) => ({ name, serviceArn: s.fargate.serviceArn, secretArns: s.fargate.secretArns }));
    if (readers.length === 0) {
        return undefined;
    }
    return new SecretRestart(
        `${settings.project}-restart`,
        {
            clusterArn: foundation.cluster.clusterArn,
            readers,
            logs: {
                groupName: names.restartLogGroup,
                retentionDays: settings.logRetentionDays,
                kmsKeyArn: foundation.logsKey?.arn,
                retainOnDelete: settings.retainOnDelete,
                protect: settings.deletionProtection,
            },
            permissionsBoundary: foundation.boundary.arn,
            rolePath: names.rolePath,
        },
        opts,
    );
}

export function hostNames(settings: Pick<Settings, "domain">, catalog: readonly CatalogService[]): HostNames {
    if (settings.domain === undefined) {
        return { all: [], byService: new Map() };
    }
    const byService = new Map(catalog.filter((s) => s.subdomain !== undefined).map((s) => [s.name, `${s.subdomain}.${settings.domain}`]));
    return { all: [settings.domain, ...byService.values()], byService };
}

/** Refuses, before any resource exists, a hosted zone that does not hold every name the stack answers on. */
async function checkZoneHolds(settings: Settings, hosts: HostNames, provider: aws.Provider): Promise<void> {
    const zone = await aws.route53.getZone({ zoneId: settings.hostedZoneId, privateZone: false }, { provider });
    const apex = zone.name.replace(/\.$/, "");
    const outside = hosts.all.filter((h) => h !== apex && !h.endsWith(`.${apex}`));
    if (outside.length > 0) {
        throw new ConfigError([
            `${settings.project}:hostedZoneId is ${settings.hostedZoneId}, the zone ${apex}, which does not hold ${outside.join(", ")}; ` +
                `allowed: the public hosted zone of ${settings.domain} or of a parent domain`,
        ]);
    }
}
