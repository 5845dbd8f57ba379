/** The catalogue's services that take requests: a `Service` each, with its image, Fargate service, alarms and exposure. */
import * as pulumi from "@pulumi/pulumi";
import { Database, type DatabaseClient } from "../components/data/database";
import { rulePriority } from "../core/listenerRules";
import type { BackendExposure, Callee, PublicExposure } from "../components/service/fargateService";
import { Service } from "../components/service/service";
import { checkIdentity } from "../core/awsIdentity";
import { capacityFor } from "../core/fargate";
import { schedulesFor } from "../core/schedule";
import { type ServiceSecret, type Settings } from "../config";
import { healthCheckCommand, serviceEnvironment, type CatalogService } from "../catalog";
import { grantPublishing, messagingEnv } from "./workers";
import type { Messaging } from "../components/messaging/messaging";
import type { Edge, Foundation, StackContext } from "./context";
import { imageArgs } from "./images";

/** A `Service` per catalogue entry that takes requests (workers: program/workers.ts), callees before their callers (`deployOrder`). */
export function deployServices(
    stack: StackContext,
    foundation: Foundation,
    edge: Edge,
    database: Database | undefined,
    messaging: Messaging | undefined,
): Map<string, Service> {
    const deployed = new Map<string, Service>();
    for (const service of stack.order.filter((s) => s.kind !== "worker")) {
        // deployOrder put every callee first.
        const calls = service.calls.map((callee) => deployed.get(callee)!.asCallee());
        const created = deployService(service, stack, { foundation, edge, database, messaging, calls });
        grantPublishing(messaging, service, created);
        deployed.set(service.name, created);
    }
    return deployed;
}

function deployService(
    service: CatalogService,
    { settings, catalog, names, opts }: StackContext,
    { foundation, edge, database, messaging, calls }: { foundation: Foundation; edge: Edge; database?: Database; messaging?: Messaging; calls: Callee[] },
): Service {
    const { cluster, network, logsKey } = foundation;
    const protect = settings.deletionProtection;
    const size = settings.services[service.name];
    const client = service.database && database ? database.clientFor(service.database.env) : undefined;
    return new Service(
        service.name,
        {
            image: imageArgs(service, settings),
            run: {
                cluster: { arn: cluster.clusterArn, name: cluster.clusterName },
                namespaceArn: cluster.namespaceArn,
                vpcId: network.vpcId,
                subnetIds: network.privateSubnetIds,
                egressRoutes: network.privateRoutes,
                family: names.family(service.name),
                port: service.port,
                healthPath: service.healthPath,
                healthCheckCommand: healthCheckCommand(service),
                readinessGate: service.readinessGate,
                platform: service.platform,
                cpu: size.cpu,
                memory: size.memory,
                desiredCount: size.desiredCount,
                maxCount: size.maxCount,
                environment: {
                    ...serviceEnvironment(service, catalog, { addressOf: serviceConnectAddress }),
                    ...client?.environment,
                    ...messagingEnv(messaging, service),
                },
                ...secretArgs(settings.secrets[service.name] ?? [], client),
                secretNamePrefix: names.serviceSecretPrefix(service.name),
                // A test stack's secrets go at once with it; a retained stack's stay recoverable for 30 days.
                secretRecoveryWindowDays: settings.retainOnDelete ? 30 : 0,
                database: client ? { securityGroupId: client.securityGroupId, port: client.port, credentialSecretArn: client.credentialSecretArn } : undefined,
                logGroupName: names.serviceLogGroup(service.name),
                logRetentionDays: settings.logRetentionDays,
                logKmsKeyArn: logsKey?.arn,
                user: service.user,
                protectLogs: protect,
                retainLogs: settings.retainOnDelete,
                region: settings.region,
                awsIdentity: checkIdentity(settings.awsIdentity),
                expose: exposure(service, edge, settings),
                calls,
                capacity: capacityFor(service.platform, settings),
                rollout: settings.rollouts[service.name],
                enableExecuteCommand: settings.ecsExec,
                tracing: settings.tracing ? { sampleRatio: settings.tracingSampleRatio } : undefined,
                scaling: { requestsPerTarget: settings.requestsPerTarget, schedules: schedulesFor(service.name, settings.scaleSchedules) },
                permissionsBoundary: foundation.boundary.arn,
                rolePath: names.rolePath,
            },
            alarms: { topicArn: foundation.alarmTopic.topicArn, containerInsights: settings.containerInsights },
        },
        opts,
    );
}

/**
 * A service's secrets as `FargateService` takes them: the database's user and password, references to existing
 * secrets (the execution role may read exactly their ARNs), and values for the service to store.
 */
function secretArgs(
    own: readonly ServiceSecret[],
    client: DatabaseClient | undefined,
): {
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
        secretValues: Object.fromEntries(own.flatMap((s) => (s.kind === "value" ? [[s.name, s.value]] : []))),
    };
}

/** Where a backend answers inside the cluster: its Service Connect client alias. */
function serviceConnectAddress(callee: CatalogService): string {
    return `http://${callee.name}:${callee.port}`;
}

function exposure(service: CatalogService, { loadBalancer, hosts }: Edge, settings: Settings): PublicExposure | BackendExposure {
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
            // Only a routed backend behind the ALB edge keeps `auth`; config/ refused the rest.
            jwt: service.auth === "jwt" ? settings.edgeJwt : undefined,
        };
    }
    return { kind: "backend", discoveryName: service.name };
}
