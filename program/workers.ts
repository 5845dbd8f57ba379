/**
 * The catalogue's topics and workers in the stack (components/messaging/): one `Messaging` for the topics,
 * the workers' queues and their key, when a service publishes; a `Worker` (image and Fargate service that
 * consumes its queue) per worker; and each publisher's grant to publish to exactly its topics.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Messaging } from "../components/messaging/messaging";
import { Worker } from "../components/messaging/worker";
import type { Service } from "../components/service/service";
import { checkIdentity } from "../core/awsIdentity";
import { capacityFor } from "../core/fargate";
import { messagingNamePrefix, type StackNames } from "../core/naming";
import { schedulesFor } from "../core/schedule";
import { serviceEnvironment, type CatalogService } from "../catalog";
import { catalogTopics, messagingEnvironment, workers } from "../catalog/messaging";
import type { Settings } from "../config";
import type { AlarmTopic } from "../components/observability/alarms";
import type { Cluster } from "../components/service/cluster";
import type { LogsKey } from "../components/observability/logsKey";
import type { Network } from "../components/network/network";
import { imageArgs } from "./images";

/** What the messaging parts are deployed with: the stack's settings, names and shared parts. */
export interface MessagingContext {
    settings: Settings;
    catalog: readonly CatalogService[];
    names: StackNames;
    opts: pulumi.ComponentResourceOptions;
    cluster: Cluster;
    network: Network;
    alarmTopic: AlarmTopic;
    logsKey?: LogsKey;
    permissionsBoundary: pulumi.Input<string>;
}

/** The stack's topics, the workers' queues and their key; none when no service publishes. */
export function createMessaging({ settings, catalog, names, opts, alarmTopic }: MessagingContext): Messaging | undefined {
    const topics = catalogTopics(catalog);
    if (topics.length === 0) {
        return undefined;
    }
    return new Messaging(
        settings.project,
        {
            namePrefix: messagingNamePrefix(settings.project, settings.stack),
            region: settings.region,
            topics,
            workers: workers(catalog).map((w) => ({ name: w.name, subscribes: w.subscribes, family: names.family(w.name) })),
            alarmTopicArn: alarmTopic.topicArn,
            keyDeletionWindowDays: settings.deletionProtection ? 30 : 7,
        },
        opts,
    );
}

/** The variables that name a service's topics (`BERTH_TOPICS`) and, for a worker, its queue (`BERTH_QUEUE_URL`). */
export function messagingEnv(messaging: Messaging | undefined, service: CatalogService): Record<string, pulumi.Input<string>> {
    if (!messaging) {
        return {};
    }
    return messagingEnvironment<pulumi.Output<string>>(
        service,
        {
            topic: (t) => messaging.topicArn(t),
            queue: (w) => messaging.queues.get(w)!.url,
        },
        (topics) => pulumi.jsonStringify(topics),
    );
}

/** A publishing service's task role may publish to exactly its topics. */
export function grantPublishing(messaging: Messaging | undefined, service: CatalogService, deployed: Service): void {
    if (messaging && service.publishes.length > 0) {
        new aws.iam.RolePolicy(
            `${service.name}-publish-policy`,
            {
                role: deployed.fargate.taskRoleName,
                policy: messaging.publishPolicy(service.publishes),
            },
            { parent: deployed.fargate },
        );
    }
}

/** A worker: its image and the Fargate service that consumes its queue, scaled on the backlog per task. */
export function deployWorker(service: CatalogService, messaging: Messaging, ctx: MessagingContext): Worker {
    const { settings, catalog, names, opts, cluster, network } = ctx;
    const size = settings.services[service.name];
    const protect = settings.deletionProtection;
    return new Worker(
        service.name,
        {
            build: imageArgs(service, settings),
            run: {
                cluster: { arn: cluster.clusterArn, name: cluster.clusterName },
                vpcId: network.vpcId,
                subnetIds: network.privateSubnetIds,
                egressRoutes: network.privateRoutes,
                family: names.family(service.name),
                platform: service.platform,
                cpu: size.cpu,
                memory: size.memory,
                desiredCount: size.desiredCount,
                maxCount: size.maxCount,
                schedules: schedulesFor(service.name, settings.scaleSchedules),
                // A worker calls no backend (the catalogue refuses "calls" on one), so its environment names none.
                environment: {
                    ...serviceEnvironment(service, catalog, { addressOf: (callee) => `http://${callee.name}:${callee.port}` }),
                    ...messagingEnv(messaging, service),
                },
                healthCheckCommand: service.healthCheck ? [...service.healthCheck] : undefined,
                queue: { name: messaging.queues.get(service.name)!.name, consumePolicy: messaging.consumePolicy(service.name) },
                publishPolicy: service.publishes.length > 0 ? messaging.publishPolicy(service.publishes) : undefined,
                logGroupName: names.serviceLogGroup(service.name),
                logRetentionDays: settings.logRetentionDays,
                logKmsKeyArn: ctx.logsKey?.arn,
                user: service.user,
                protectLogs: protect,
                retainLogs: settings.retainOnDelete,
                region: settings.region,
                awsIdentity: checkIdentity(settings.awsIdentity),
                capacity: capacityFor(service.platform, settings),
                enableExecuteCommand: settings.ecsExec,
                tracing: settings.tracing ? { sampleRatio: settings.tracingSampleRatio } : undefined,
                permissionsBoundary: ctx.permissionsBoundary,
                rolePath: names.rolePath,
            },
        },
        opts,
    );
}
