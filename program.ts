/**
 * Berth's wiring: the stack's settings -> network, cluster, load balancer, and an image and a Fargate
 * service per catalogue entry -> stack outputs. No resource logic lives here; see `components/`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccessLogBucket } from "./components/accessLogBucket";
import { rulePriority } from "./components/albRoute";
import { sourceVersion } from "./components/buildContext";
import { DnsCertificate } from "./components/certificate";
import { Cluster } from "./components/cluster";
import { DestroyGuard } from "./components/destroyGuard";
import { FargateService, type BackendExposure, type PublicExposure } from "./components/fargateService";
import { LoadBalancer } from "./components/loadBalancer";
import { LogsKey } from "./components/logsKey";
import { Network } from "./components/network";
import { ServiceImage } from "./components/serviceImage";
import { WebAcl } from "./components/webAcl";
import { chooseZones, ConfigError, settingsFromStack, type Settings } from "./config";
import { deployOrder, healthCheckCommand, serviceEnvironment, type CatalogService } from "./services/catalog";

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
}

/**
 * Deploys the given catalogue with the stack's configuration. Every check that can fail on the catalogue
 * or the configuration runs before the first resource is registered.
 */
export async function deployBerth(catalog: readonly CatalogService[]): Promise<BerthOutputs> {
    const order = deployOrder(catalog);
    const settings = settingsFromStack(catalog);
    const region = await aws.getAvailabilityZones({
        state: "available",
        // Local and Wavelength zones lack NAT gateways and ALBs.
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });
    const zones = chooseZones(settings, region);

    const prefix = settings.project;
    const provider = new aws.Provider(prefix, {
        region: settings.region as aws.Region,
        defaultTags: {
            tags: { project: settings.project, stack: settings.stack, environment: settings.environment },
        },
    });
    const opts: pulumi.ComponentResourceOptions = { providers: { aws: provider } };
    const protect = settings.deletionProtection;
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

    const network = new Network(prefix, {
        cidrBlock: settings.vpcCidr,
        availabilityZones: zones,
        nat: settings.natStrategy,
        protect,
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

    const serviceOutputs = new Map<string, ServiceOutput>();
    const deployed = new Map<string, FargateService>();
    const images: ServiceImage[] = [];
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
        const fargateService = new FargateService(service.name, {
            cluster: { arn: cluster.clusterArn, name: cluster.clusterName },
            namespaceArn: cluster.namespaceArn,
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            egressRoutes: network.privateRoutes,
            image: image.imageRef,
            family: physicalName(settings, service.name),
            port: service.port,
            healthPath: service.healthPath,
            healthCheckCommand: healthCheckCommand(service),
            platform: service.platform,
            cpu: size.cpu,
            memory: size.memory,
            desiredCount: size.desiredCount,
            maxCount: size.maxCount,
            environment: { ...serviceEnvironment(service, catalog, { addressOf: serviceConnectAddress }), [COMMIT_VARIABLE]: image.commit },
            tags: { [COMMIT_TAG]: image.commit },
            logGroupName: `/${settings.project}/${settings.stack}/${service.name}`,
            logRetentionDays: settings.logRetentionDays,
            logKmsKeyArn: logsKey?.arn,
            user: service.user,
            protectLogs: protect,
            retainLogs: settings.retainOnDelete,
            region: settings.region,
            awsProfile: settings.awsProfile,
            expose: exposure(service, loadBalancer, hosts),
            // deployOrder put every callee first.
            calls: service.calls.map((callee) => deployed.get(callee)!.asCallee()),
        }, opts);
        deployed.set(service.name, fargateService);

        serviceOutputs.set(service.name, {
            kind: service.kind,
            repositoryUrl: image.repositoryUrl,
            imageTag: image.tag,
            commit: image.commit,
            logGroupName: fargateService.logGroupName,
            discoveryName: service.kind === "backend" ? service.name : undefined,
        });
    }

    const guarded = [logsKey, network, cluster, certificate, accessLogs, loadBalancer, webAcl, ...images, ...deployed.values()]
        .filter((r): r is NonNullable<typeof r> => r !== undefined);
    new DestroyGuard(`${prefix}-destroy-guard`, guarded, protect);

    return {
        url: settings.domain
            ? pulumi.output(`https://${settings.domain}`)
            : pulumi.interpolate`${loadBalancer.scheme}://${loadBalancer.dnsName}`,
        vpcId: network.vpcId,
        clusterName: cluster.clusterName,
        services: Object.fromEntries(catalog.map((s) => [s.name, serviceOutputs.get(s.name)!])),
    };
}

/** Where a backend answers inside the cluster: its Service Connect client alias. */
function serviceConnectAddress(callee: CatalogService): string {
    return `http://${callee.name}:${callee.port}`;
}

function exposure(service: CatalogService, loadBalancer: LoadBalancer, hosts: HostNames): PublicExposure | BackendExposure {
    if (service.kind === "public") {
        const host = hosts.byService.get(service.name);
        return {
            kind: "public",
            listenerArn: loadBalancer.listenerArn,
            loadBalancerSecurityGroupId: loadBalancer.securityGroupId,
            pathPatterns: service.pathPatterns,
            hostNames: host ? [host] : [],
            priority: service.priority ?? rulePriority(service.name),
        };
    }
    return { kind: "backend", discoveryName: service.name };
}

/** A name unique in the account and region, in the characters ECS task families allow. */
function physicalName(settings: Settings, service: string): string {
    return `${settings.project}-${settings.stack}-${service}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

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
