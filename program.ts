/**
 * Berth's wiring: the stack's settings -> network, cluster, load balancer, and an image and a Fargate
 * service per catalogue entry -> stack outputs. No resource logic lives here; see `components/`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Cluster } from "./components/cluster";
import { FargateService, type BackendExposure, type PublicExposure } from "./components/fargateService";
import { LoadBalancer } from "./components/loadBalancer";
import { Network } from "./components/network";
import { ServiceImage } from "./components/serviceImage";
import { checkAzCount, settingsFromStack, type Settings } from "./config";
import { healthCheckCommand, serviceEnvironment, type CatalogService } from "./services/catalog";

/** What `pulumi stack output services` shows for each service. */
export interface ServiceOutput {
    kind: CatalogService["kind"];
    repositoryUrl: pulumi.Output<string>;
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
 * Deploys the given catalogue with the stack's configuration. Every check that can fail on the
 * configuration runs before the first resource is registered.
 */
export async function deployBerth(catalog: readonly CatalogService[]): Promise<BerthOutputs> {
    const settings = settingsFromStack(catalog);
    const zones = await aws.getAvailabilityZones({
        state: "available",
        // Local and Wavelength zones lack NAT gateways and ALBs.
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });
    checkAzCount(settings, zones.names);

    const prefix = settings.project;
    const provider = new aws.Provider(prefix, {
        region: settings.region as aws.Region,
        defaultTags: {
            tags: { project: settings.project, stack: settings.stack, environment: settings.environment },
        },
    });
    const opts: pulumi.ComponentResourceOptions = { providers: { aws: provider } };

    const network = new Network(prefix, {
        cidrBlock: settings.vpcCidr,
        availabilityZones: zones.names.slice(0, settings.azCount),
        nat: settings.natStrategy,
    }, opts);

    const cluster = new Cluster(prefix, {
        namespace: `${settings.project}-${settings.stack}`,
        containerInsights: settings.containerInsights,
    }, opts);

    const loadBalancer = new LoadBalancer(prefix, {
        vpcId: network.vpcId,
        subnetIds: network.publicSubnetIds,
        certificateArn: settings.certificateArn,
        deletionProtection: settings.deletionProtection,
    }, opts);

    const services: Record<string, ServiceOutput> = {};
    const securityGroups = new Map<string, pulumi.Output<string>>();
    // Callers first: a backend's security group admits its callers' groups, so those must exist.
    for (const service of callersFirst(catalog)) {
        const image = new ServiceImage(service.name, {
            context: path.resolve(__dirname),
            dockerfile: path.resolve(__dirname, service.directory, "Dockerfile"),
            platform: service.platform,
            keepImages: settings.keepImages,
            forceDelete: settings.forceDelete,
        }, opts);

        const size = settings.services[service.name];
        const fargateService = new FargateService(service.name, {
            cluster: { arn: cluster.clusterArn, name: cluster.clusterName },
            namespaceArn: cluster.namespaceArn,
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
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
            environment: serviceEnvironment(service, catalog, serviceConnectAddress),
            logGroupName: `/${settings.project}/${settings.stack}/${service.name}`,
            logRetentionDays: settings.logRetentionDays,
            region: settings.region,
            expose: exposure(service, catalog, loadBalancer, securityGroups),
        }, opts);
        securityGroups.set(service.name, fargateService.securityGroupId);

        services[service.name] = {
            kind: service.kind,
            repositoryUrl: image.repositoryUrl,
            logGroupName: fargateService.logGroupName,
            discoveryName: service.kind === "backend" ? service.name : undefined,
        };
    }

    return {
        url: settings.domain
            ? pulumi.output(`https://${settings.domain}`)
            : pulumi.interpolate`${loadBalancer.scheme}://${loadBalancer.dnsName}`,
        vpcId: network.vpcId,
        clusterName: cluster.clusterName,
        services,
    };
}

/** Where a backend answers inside the cluster: its Service Connect client alias. */
function serviceConnectAddress(callee: CatalogService): string {
    return `http://${callee.name}:${callee.port}`;
}

function exposure(
    service: CatalogService,
    catalog: readonly CatalogService[],
    loadBalancer: LoadBalancer,
    securityGroups: ReadonlyMap<string, pulumi.Output<string>>,
): PublicExposure | BackendExposure {
    if (service.kind === "public") {
        return {
            kind: "public",
            listenerArn: loadBalancer.listenerArn,
            loadBalancerSecurityGroupId: loadBalancer.securityGroupId,
            pathPatterns: service.pathPatterns,
            // Catalogue order decides which of two overlapping patterns wins.
            priority: 100 + 10 * catalog.indexOf(service),
        };
    }
    return {
        kind: "backend",
        discoveryName: service.name,
        callerSecurityGroupIds: service.callers.map((caller) => {
            const id = securityGroups.get(caller);
            if (!id) {
                throw new Error(`service "${service.name}" is called by "${caller}", which has no security group yet`);
            }
            return id;
        }),
    };
}

/** Services that call others come before the services they call. */
function callersFirst(services: readonly CatalogService[]): CatalogService[] {
    return [...services].sort((a, b) => Number(b.calls.length > 0) - Number(a.calls.length > 0));
}

/** A name unique in the account and region, in the characters ECS task families allow. */
function physicalName(settings: Settings, service: string): string {
    return `${settings.project}-${settings.stack}-${service}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}
