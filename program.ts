/**
 * Berth's wiring: the stack's settings -> network, cluster, load balancer, and an image and a Fargate
 * service per catalogue entry -> stack outputs. No resource logic lives here; see `components/`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccessLogBucket, accessLogBucketPrefix } from "./components/edge/accessLogBucket";
import { rulePriority } from "./components/edge/albRoute";
import { checkIdentity, providerCredentials } from "./core/awsIdentity";
import { AlarmTopic, ServiceAlarms, serviceAlarmNames } from "./components/observability/alarms";
import { sourceVersion } from "./core/buildContext";
import { DnsCertificate } from "./components/edge/certificate";
import { Cluster } from "./components/service/cluster";
import { DeployAccess } from "./components/pipeline/deployAccess";
import { Dashboard } from "./components/observability/dashboard";
import { Database, databaseIdentifier, type DatabaseClient } from "./components/data/database";
import { DestroyGuard } from "./components/pipeline/destroyGuard";
import { capacityFor } from "./core/fargate";
import { FargateService, type BackendExposure, type PublicExposure } from "./components/service/fargateService";
import { LoadBalancer } from "./components/edge/loadBalancer";
import { adoptLogGroups, existingLogGroups } from "./components/observability/logGroups";
import { LogsKey } from "./components/observability/logsKey";
import { stackRolePath, taskFamily } from "./components/naming";
import { Network } from "./components/network/network";
import { RoleBoundary, roleBoundaryName } from "./components/pipeline/roleBoundary";
import { schedulesFor } from "./core/schedule";
import { SecretRestart } from "./components/service/secretRestart";
import { ServiceImage } from "./components/service/serviceImage";
import { WebAcl } from "./components/edge/webAcl";
import { chooseZones, ConfigError, settingsFromStack, type ServiceSecret, type Settings } from "./config";
import { deployedCatalog, deployOrder, healthCheckCommand, serviceEnvironment, type CatalogService } from "./catalog";
import { catalogTopics, messagingEnvironment, workerRolloutProblems, workers } from "./catalog/messaging";
import { Messaging, messagingNamePrefix } from "./components/messaging/messaging";
import { WorkerService } from "./components/messaging/workerService";

/** The environment variable that tells a task which commit its image is built from. */
export const COMMIT_VARIABLE = "BERTH_COMMIT";
/** The ECS tag on each task definition, service and (propagated) task saying the same. */
export const COMMIT_TAG = "berth:commit";

/** What `pulumi stack output services` shows for each service. */
export interface ServiceOutput {
    kind: CatalogService["kind"];
    repositoryUrl: pulumi.Output<string>;
    /** The tag of the image the service runs: `<commit>[-dirty]-<build id>`. */
    imageTag: pulumi.Output<string>;
    /** The commit the image is built from (`-dirty` if the checkout differed): its tasks' `BERTH_COMMIT`. */
    commit: string;
    logGroupName: pulumi.Output<string>;
    /** The ECS service's name in `clusterName` (what `berth status` and `berth exec` look up). */
    serviceName: pulumi.Output<string>;
    /** Backends: the name other services reach it by through Service Connect (`http://<name>:<port>`). */
    discoveryName?: string;
}

/** The stack outputs. */
export interface BerthOutputs {
    /** Where the public services answer: `http://<ALB DNS name>`, or `https://<domain>`. */
    url: pulumi.Output<string>;
    vpcId: pulumi.Output<string>;
    clusterName: pulumi.Output<string>;
    /** Per service: its ECR repository, log group and, for backends, discovery name. */
    services: Record<string, ServiceOutput>;
    /** With `berth:pipeline`: the roles for the GitHub workflow's `role-to-assume`, and the OIDC provider. */
    pipeline?: {
        deployRoleArn: pulumi.Output<string>;
        previewRoleArn?: pulumi.Output<string>;
        oidcProviderArn: pulumi.Output<string>;
    };
    /** The SNS topic every alarm notifies: subscribe to it (`alarmEmail` does for one address). */
    alarmTopicArn: pulumi.Output<string>;
    /** The stack's CloudWatch dashboard in the AWS console. */
    dashboardUrl: pulumi.Output<string>;
    /** The PostgreSQL instance, when a service declares the database: where it answers, never a password. */
    database?: DatabaseOutput;
}

/** What `pulumi stack output database` shows. */
export interface DatabaseOutput {
    /** The instance's DNS name, reachable only from inside the VPC. */
    address: pulumi.Output<string>;
    port: pulumi.Output<number>;
    name: pulumi.Output<string>;
    /** The RDS-managed secret with `username` and `password` (read it with the AWS CLI; see README). */
    secretArn: pulumi.Output<string>;
    identifier: pulumi.Output<string>;
}

/**
 * Deploys the given catalogue with the stack's configuration. Every check that can fail on the catalogue
 * or the configuration runs before the first resource is registered.
 */
export async function deployBerth(declared: readonly CatalogService[]): Promise<BerthOutputs> {
    deployOrder(declared);
    const settings = settingsFromStack(declared);
    // With `berth:edge` `alb`, no gateway: its routed backends are public services of their own.
    const catalog = deployedCatalog(declared, settings.edge);
    const order = deployOrder(catalog);
    const workerProblems = workerRolloutProblems(settings.project, catalog, settings.rollouts);
    if (workerProblems.length > 0) {
        throw new ConfigError(workerProblems);
    }
    const prefix = settings.project;
    // These two tags name the stack; the pipeline's deploy role may change only IAM roles that carry them.
    const stackTags = { project: settings.project, stack: settings.stack };
    // An explicit provider reads no aws:* stack configuration (pulumi/pulumi-aws#1307): it gets the stack's
    // credential settings here, and every resource and invoke of the program goes through it.
    const provider = new aws.Provider(prefix, {
        region: settings.region as aws.Region,
        ...providerCredentials(settings.awsIdentity),
        defaultTags: { tags: { ...stackTags, environment: settings.environment } },
    });
    const region = await aws.getAvailabilityZones({
        state: "available",
        // Local and Wavelength zones lack NAT gateways and ALBs.
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    }, { provider });
    const zones = chooseZones(settings, region);

    // Where the stack's log groups live: its own names, RDS's for the instance, Step Functions'.
    const logGroupPrefixes = [
        `/${settings.project}/${settings.stack}/`,
        `/aws/rds/instance/${databaseIdentifier(settings.project, settings.stack)}/`,
        restartLogGroupPrefix(settings),
    ];
    // Kept groups of an earlier life of this stack are adopted, not created again (components/observability/logGroups.ts).
    const keptLogGroups = await existingLogGroups(logGroupPrefixes, provider);
    const opts: pulumi.ComponentResourceOptions = { providers: { aws: provider }, transformations: [adoptLogGroups(keptLogGroups)] };
    const protect = settings.deletionProtection;
    // The database, its subnets and their costs exist only when a service uses them.
    const usesDatabase = catalog.some((s) => s.database !== undefined);

    // Every role of the stack carries it, so that the pipeline may create and change roles (deployPermissions.ts).
    const references = Object.values(settings.secrets).flat();
    const boundary = new RoleBoundary(prefix, {
        policyName: roleBoundaryName(settings.project, settings.stack),
        path: stackRolePath(settings.project, settings.stack),
        region: settings.region,
        stackTags,
        logGroupPrefixes: [`/${settings.project}/${settings.stack}/`, restartLogGroupPrefix(settings)],
        secretPrefixes: [secretNamePrefix(settings)],
        referencedSecretArns: references.flatMap((s) => s.kind === "secretsmanager" ? [s.resourceArn] : []),
        referencedParameterArns: references.flatMap((s) => s.kind === "ssm" ? [s.resourceArn] : []),
        databaseIdentifier: usesDatabase ? databaseIdentifier(settings.project, settings.stack) : undefined,
    }, opts);
    const permissionsBoundary = boundary.arn;

    const pipeline = settings.pipeline && new DeployAccess(prefix, {
        ...settings.pipeline,
        region: settings.region,
        stackTags,
        boundaryArn: boundary.arn,
        databaseIdentifier: usesDatabase ? databaseIdentifier(settings.project, settings.stack) : undefined,
        protect,
        rolePath: stackRolePath(settings.project, settings.stack),
        // RDS names the groups of the logs it exports after the instance.
        logGroupPrefixes,
        bucketPrefixes: [accessLogBucketPrefix(settings.project, settings.stack)],
        secretPrefixes: [secretNamePrefix(settings)],
    }, opts);

    const hosts = hostNames(settings, catalog);
    if (settings.hostedZoneId !== undefined) {
        await checkZoneHolds(settings, hosts, provider);
    }

    const logsKey = settings.logsKmsKey
        ? new LogsKey(prefix, {
            region: settings.region,
            deletionWindowDays: settings.deletionProtection ? 30 : 7,
            protect,
            retainOnDelete: settings.retainOnDelete,
        }, opts)
        : undefined;

    const alarmTopic = new AlarmTopic(prefix, {
        email: settings.alarmEmail,
        // The database's event subscriptions notify the same topic, and the NAT instance's recovery alarms.
        publishers: usesDatabase ? ["events.rds.amazonaws.com"] : [],
    }, opts);

    const network = new Network(prefix, {
        cidrBlock: settings.vpcCidr,
        availabilityZones: zones,
        nat: settings.natStrategy,
        natInstanceType: settings.natInstanceType,
        alarmTopicArn: alarmTopic.topicArn,
        region: settings.region,
        protect,
        isolatedCidrBlock: usesDatabase ? settings.database.cidr : undefined,
        permissionsBoundary,
        flowLogs: settings.flowLogs
            ? {
                logGroupName: `/${settings.project}/${settings.stack}/vpc-flow-logs`,
                retentionDays: settings.logRetentionDays,
                kmsKeyArn: logsKey?.arn,
                retainOnDelete: settings.retainOnDelete,
            }
            : undefined,
    }, opts);

    const cluster = new Cluster(prefix, {
        namespace: `${settings.project}-${settings.stack}`,
        containerInsights: settings.containerInsights,
    }, opts);

    // A certificate of the team's own wins; else Berth makes one for every host name in the hosted zone.
    const certificate = settings.hostedZoneId !== undefined && settings.certificateArn === undefined
        ? new DnsCertificate(prefix, { names: hosts.all, zoneId: settings.hostedZoneId }, opts)
        : undefined;
    const accessLogs = settings.accessLogs
        ? new AccessLogBucket(prefix, {
            region: settings.region,
            bucketPrefix: accessLogBucketPrefix(settings.project, settings.stack),
            expirationDays: settings.logRetentionDays,
            forceDestroy: settings.forceDelete,
            protect,
            retainOnDelete: settings.retainOnDelete,
        }, opts)
        : undefined;
    const loadBalancer = new LoadBalancer(prefix, {
        vpcId: network.vpcId,
        subnetIds: network.publicSubnetIds,
        publicRoutes: network.publicRoutes,
        certificateArn: settings.certificateArn ?? certificate?.certificateArn,
        aliases: settings.hostedZoneId !== undefined ? { zoneId: settings.hostedZoneId, names: hosts.all } : undefined,
        accessLogs: accessLogs ? { bucket: accessLogs.bucketName, prefix: accessLogs.prefix, ready: accessLogs.ready } : undefined,
        deletionProtection: settings.deletionProtection,
        protect,
    }, opts);
    const webAcl = settings.wafEnabled ? new WebAcl(prefix, { resourceArn: loadBalancer.arn }, opts) : undefined;

    const database = usesDatabase
        ? new Database(prefix, {
            vpcId: network.vpcId,
            subnetIds: network.isolatedSubnetIds,
            identifier: databaseIdentifier(settings.project, settings.stack),
            engineVersion: settings.database.engineVersion,
            instanceClass: settings.database.instanceClass,
            allocatedStorage: settings.database.storageGb,
            multiAz: settings.database.multiAz,
            backupRetentionDays: settings.database.backupRetentionDays,
            performanceInsights: settings.database.performanceInsights,
            finalSnapshot: settings.database.finalSnapshot,
            deletionProtection: settings.deletionProtection,
            protect,
            logRetentionDays: settings.logRetentionDays,
            logKmsKeyArn: logsKey?.arn,
            retainLogs: settings.retainOnDelete,
            eventTopicArn: alarmTopic.topicArn,
            permissionsBoundary,
        }, opts)
        : undefined;

    // Topics and workers' queues exist only when a service publishes (components/messaging/).
    const messaging = catalogTopics(catalog).length > 0
        ? new Messaging(prefix, {
            namePrefix: messagingNamePrefix(settings.project, settings.stack),
            region: settings.region,
            topics: catalogTopics(catalog),
            workers: workers(catalog).map((w) => ({ name: w.name, subscribes: w.subscribes, family: taskFamily(settings.project, settings.stack, w.name) })),
            alarmTopicArn: alarmTopic.topicArn,
            keyDeletionWindowDays: settings.deletionProtection ? 30 : 7,
        }, opts)
        : undefined;
    const messagingEnv = (service: CatalogService) => (messaging
        ? messagingEnvironment<pulumi.Output<string>>(service, {
            topic: (t) => messaging.topicArn(t),
            queue: (w) => messaging.queues.get(w)!.url,
        }, (topics) => pulumi.jsonStringify(topics))
        : {});
    const workerServices: WorkerService[] = [];

    const serviceOutputs = new Map<string, ServiceOutput>();
    const deployed = new Map<string, FargateService>();
    const images: ServiceImage[] = [];
    const alarms: ServiceAlarms[] = [];
    for (const service of order) {
        // Pulumi runs the program in the project's directory, the root the catalogue's paths are relative to.
        const source = sourceVersion(process.cwd(), service.build.context, service.build.dockerfile);
        const image = new ServiceImage(service.name, {
            source,
            context: service.build.context,
            dockerfile: service.build.dockerfile,
            platform: service.platform,
            keepImages: settings.keepImages,
            forceDelete: settings.forceDelete,
            buildOnPreview: settings.buildOnPreview,
            protect,
            retainOnDelete: settings.retainOnDelete,
        }, opts);
        images.push(image);

        const size = settings.services[service.name];
        const family = taskFamily(settings.project, settings.stack, service.name);
        const schedules = schedulesFor(service.name, settings.scaleSchedules);
        const client = service.database && database ? database.clientFor(service.database.env) : undefined;
        const secrets = secretArgs(settings.secrets[service.name] ?? [], client);
        if (service.kind === "worker") {
            const worker = new WorkerService(service.name, {
                cluster: { arn: cluster.clusterArn, name: cluster.clusterName },
                vpcId: network.vpcId,
                subnetIds: network.privateSubnetIds,
                egressRoutes: network.privateRoutes,
                image: image.imageRef,
                family,
                platform: service.platform,
                cpu: size.cpu,
                memory: size.memory,
                desiredCount: size.desiredCount,
                maxCount: size.maxCount,
                schedules,
                environment: { ...serviceEnvironment(service, catalog, { addressOf: serviceConnectAddress }), ...messagingEnv(service), [COMMIT_VARIABLE]: image.commit },
                healthCheckCommand: service.healthCheck ? [...service.healthCheck] : undefined,
                queue: { name: messaging!.queues.get(service.name)!.name, consumePolicy: messaging!.consumePolicy(service.name) },
                publishPolicy: service.publishes.length > 0 ? messaging!.publishPolicy(service.publishes) : undefined,
                logGroupName: `/${settings.project}/${settings.stack}/${service.name}`,
                logRetentionDays: settings.logRetentionDays,
                logKmsKeyArn: logsKey?.arn,
                user: service.user,
                tags: { [COMMIT_TAG]: image.commit },
                protectLogs: protect,
                retainLogs: settings.retainOnDelete,
                region: settings.region,
                awsIdentity: checkIdentity(settings.awsIdentity),
                capacity: capacityFor(service.platform, settings),
                enableExecuteCommand: settings.ecsExec,
                tracing: settings.tracing ? { sampleRatio: settings.tracingSampleRatio } : undefined,
                permissionsBoundary,
            }, opts);
            workerServices.push(worker);
            serviceOutputs.set(service.name, {
                kind: service.kind,
                repositoryUrl: image.repositoryUrl,
                imageTag: image.tag,
                commit: image.commit,
                logGroupName: worker.logGroupName,
                serviceName: worker.serviceName,
            });
            continue;
        }
        const fargateService = new FargateService(service.name, {
            cluster: { arn: cluster.clusterArn, name: cluster.clusterName },
            namespaceArn: cluster.namespaceArn,
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            egressRoutes: network.privateRoutes,
            image: image.imageRef,
            family,
            port: service.port,
            healthPath: service.healthPath,
            healthCheckCommand: healthCheckCommand(service),
            readinessGate: service.readinessGate,
            platform: service.platform,
            cpu: size.cpu,
            memory: size.memory,
            desiredCount: size.desiredCount,
            maxCount: size.maxCount,
            environment: { ...serviceEnvironment(service, catalog, { addressOf: serviceConnectAddress }), ...client?.environment, ...messagingEnv(service), [COMMIT_VARIABLE]: image.commit },
            tags: { [COMMIT_TAG]: image.commit },
            ...secrets,
            secretNamePrefix: `${secretNamePrefix(settings)}${service.name}/`,
            // A test stack's secrets go at once with it; a retained stack's stay recoverable for 30 days.
            secretRecoveryWindowDays: settings.retainOnDelete ? 30 : 0,
            database: client ? { securityGroupId: client.securityGroupId, port: client.port, credentialSecretArn: client.credentialSecretArn } : undefined,
            logGroupName: `/${settings.project}/${settings.stack}/${service.name}`,
            logRetentionDays: settings.logRetentionDays,
            logKmsKeyArn: logsKey?.arn,
            user: service.user,
            protectLogs: protect,
            retainLogs: settings.retainOnDelete,
            region: settings.region,
            awsIdentity: checkIdentity(settings.awsIdentity),
            expose: exposure(service, loadBalancer, hosts, settings),
            // deployOrder put every callee first.
            calls: service.calls.map((callee) => deployed.get(callee)!.asCallee()),
            capacity: capacityFor(service.platform, settings),
            deploymentAlarmNames: serviceAlarmNames(family, service.kind).rollback,
            rollout: settings.rollouts[service.name],
            enableExecuteCommand: settings.ecsExec,
            tracing: settings.tracing ? { sampleRatio: settings.tracingSampleRatio } : undefined,
            scaling: { requestsPerTarget: settings.requestsPerTarget, schedules },
            permissionsBoundary,
        }, opts);
        deployed.set(service.name, fargateService);
        if (messaging && service.publishes.length > 0) {
            new aws.iam.RolePolicy(`${service.name}-publish-policy`, {
                role: fargateService.taskRoleName,
                policy: messaging.publishPolicy(service.publishes),
            }, { parent: fargateService });
        }
        alarms.push(new ServiceAlarms(`${service.name}-alarms`, {
            family,
            topicArn: alarmTopic.topicArn,
            clusterName: cluster.clusterName,
            serviceName: fargateService.serviceName,
            expose: service.kind === "public"
                ? {
                    kind: "public",
                    loadBalancerArnSuffix: loadBalancer.arnSuffix,
                    targetGroupArnSuffix: fargateService.targetGroupArnSuffix!,
                    alternateTargetGroupArnSuffix: fargateService.targetGroupArnSuffixes?.[1],
                }
                : { kind: "backend", discoveryName: service.name },
            minCount: size.desiredCount,
            containerInsights: settings.containerInsights,
            mayRunZeroTasks: schedules.some((s) => s.minCount === 0),
        }, opts));

        serviceOutputs.set(service.name, {
            kind: service.kind,
            repositoryUrl: image.repositoryUrl,
            imageTag: image.tag,
            commit: image.commit,
            logGroupName: fargateService.logGroupName,
            serviceName: fargateService.serviceName,
            discoveryName: service.kind === "backend" ? service.name : undefined,
        });
    }

    const dashboard = new Dashboard(prefix, {
        name: `${settings.project}-${settings.stack}`,
        region: settings.region,
        clusterName: cluster.clusterName,
        loadBalancerArnSuffix: loadBalancer.arnSuffix,
        containerInsights: settings.containerInsights,
        // Workers have no ALB or Service Connect traffic to graph; their queues' alarms watch them.
        services: catalog.filter((s) => s.kind !== "worker").map((s) => ({
            name: s.name,
            kind: s.kind as "public" | "backend",
            serviceName: deployed.get(s.name)!.serviceName,
            targetGroupArnSuffixes: deployed.get(s.name)!.targetGroupArnSuffixes,
            discoveryName: s.kind === "backend" ? s.name : undefined,
            calls: [...s.calls],
        })),
    }, opts);

    // Tasks read their secrets at start: rotations and new values reach them through fresh tasks.
    const readers = [...deployed.entries()]
        .filter(([, s]) => s.secretArns.length > 0)
        .map(([name, s]) => ({ name, serviceArn: s.serviceArn, secretArns: s.secretArns }));
    const restart = readers.length > 0
        ? new SecretRestart(`${prefix}-restart`, {
            clusterArn: cluster.clusterArn,
            readers,
            logs: {
                groupName: `${restartLogGroupPrefix(settings)}secret-restart`,
                retentionDays: settings.logRetentionDays,
                kmsKeyArn: logsKey?.arn,
                retainOnDelete: settings.retainOnDelete,
                protect,
            },
            permissionsBoundary,
        }, opts)
        : undefined;

    // The pipeline's roles and the OIDC provider too: a guarded destroy must not cut the pipeline off either.
    const guarded = [
        boundary, pipeline, logsKey, network, cluster, certificate, accessLogs, loadBalancer, webAcl, alarmTopic, database, ...images,
        ...deployed.values(), ...alarms, dashboard, restart, messaging, ...workerServices,
    ].filter((r): r is NonNullable<typeof r> => r !== undefined);
    new DestroyGuard(`${prefix}-destroy-guard`, guarded, protect);

    return {
        url: settings.domain
            ? pulumi.output(`https://${settings.domain}`)
            : pulumi.interpolate`${loadBalancer.scheme}://${loadBalancer.dnsName}`,
        vpcId: network.vpcId,
        clusterName: cluster.clusterName,
        services: Object.fromEntries(catalog.map((s) => [s.name, serviceOutputs.get(s.name)!])),
        pipeline: pipeline && {
            deployRoleArn: pipeline.deployRoleArn,
            previewRoleArn: pipeline.previewRoleArn,
            oidcProviderArn: pipeline.oidcProviderArn,
        },
        alarmTopicArn: alarmTopic.topicArn,
        dashboardUrl: dashboard.url,
        database: database && {
            address: database.address,
            port: database.port,
            name: database.databaseName,
            secretArn: database.secretArn,
            identifier: database.identifier,
        },
    };
}

/**
 * A service's secrets as `FargateService` takes them: the database's user and password, references to existing
 * secrets (the execution role may read exactly their ARNs), and values for the service to store.
 */
function secretArgs(own: readonly ServiceSecret[], client: DatabaseClient | undefined): {
    secrets: Record<string, pulumi.Input<string>>;
    secretArns: pulumi.Input<string>[];
    parameterArns: pulumi.Input<string>[];
    secretValues: Record<string, pulumi.Input<string>>;
} {
    const references = own.filter((s) => s.kind !== "value");
    return {
        secrets: { ...client?.secrets, ...Object.fromEntries(references.map((s) => [s.name, s.valueFrom])) },
        secretArns: [...(client?.secretArns ?? []), ...references.filter((s) => s.kind === "secretsmanager").map((s) => s.resourceArn)],
        parameterArns: references.filter((s) => s.kind === "ssm").map((s) => s.resourceArn),
        secretValues: Object.fromEntries(own.flatMap((s) => s.kind === "value" ? [[s.name, s.value]] : [])),
    };
}

/**
 * Where the stack's Step Functions logs go (`/aws/vendedlogs/states/berth-dev-`): under `/aws/vendedlogs/`, as
 * Step Functions asks (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html); the deploy role's scope.
 */
function restartLogGroupPrefix(settings: Settings): string {
    return `/aws/vendedlogs/states/${settings.project}-${settings.stack}-`;
}

/** The start of the names of the secrets the stack stores (`berth/dev/`); the deploy role's scope for them. */
function secretNamePrefix(settings: Settings): string {
    return `${settings.project}/${settings.stack}/`;
}

/** Where a backend answers inside the cluster: its Service Connect client alias. */
function serviceConnectAddress(callee: CatalogService): string {
    return `http://${callee.name}:${callee.port}`;
}

function exposure(service: CatalogService, loadBalancer: LoadBalancer, hosts: HostNames, settings: Settings): PublicExposure | BackendExposure {
    if (service.kind === "public") {
        const host = hosts.byService.get(service.name);
        return {
            kind: "public",
            listenerArn: loadBalancer.listenerArn,
            loadBalancerSecurityGroupId: loadBalancer.securityGroupId,
            pathPatterns: service.pathPatterns,
            hostNames: host ? [host] : [],
            priority: service.priority ?? rulePriority(service.name),
            loadBalancerArnSuffix: loadBalancer.arnSuffix,
            // Only a routed backend behind the ALB edge keeps `auth`; config.ts refused the rest.
            jwt: service.auth === "jwt" ? settings.edgeJwt : undefined,
        };
    }
    return { kind: "backend", discoveryName: service.name };
}

/** A name unique in the account and region, in the characters ECS task families allow. */
/** The names the stack answers on: its domain, then `<subdomain>.<domain>` per public service with a subdomain. */
export interface HostNames {
    all: string[];
    byService: Map<string, string>;
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
