/**
 * The catalogue's jobs in the stack: each job's image and its schedule, state machine and task
 * (components/jobs/scheduledJob.ts), on the stack's cluster, private subnets, database and alarm topic.
 */
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DATABASE_ENV } from "@berth/kit/contract";
import type { Database } from "./components/data/database";
import { ScheduledJob } from "./components/jobs/scheduledJob";
import type { Network } from "./components/network/network";
import type { AlarmTopic } from "./components/observability/alarms";
import type { LogsKey } from "./components/observability/logsKey";
import type { Cluster } from "./components/service/cluster";
import { COMMIT_TAG, COMMIT_VARIABLE } from "./components/service/service";
import { ServiceImage } from "./components/service/serviceImage";
import { sourceVersion } from "./core/buildContext";
import type { StackNames } from "./core/naming";
import type { CatalogJob, CatalogService } from "./catalog";
import type { Settings } from "./config";

/** What a job is deployed with: the stack's settings, names and shared parts. */
export interface JobContext {
    settings: Settings;
    names: StackNames;
    opts: pulumi.ComponentResourceOptions;
    cluster: Cluster;
    network: Network;
    database?: Database;
    alarmTopic: AlarmTopic;
    logsKey?: LogsKey;
    permissionsBoundary: pulumi.Input<string>;
}

/** A deployed job: its image, and its schedule, state machine and task. */
export interface DeployedJob {
    name: string;
    schedule: string;
    image: ServiceImage;
    job: ScheduledJob;
}

/** Refuses, before any resource, a job that declares the database of a stack whose services declare none. */
export function checkJobs(jobs: readonly CatalogJob[], catalog: readonly CatalogService[]): void {
    const usesDatabase = catalog.some((s) => s.database !== undefined);
    const orphan = jobs.find((j) => j.database && !usesDatabase);
    if (orphan) {
        // The stack's database settings (size, backups) come with the services that use it.
        throw new Error(`catalog/index.ts: job "${orphan.name}" declares "database", and no service does; the database exists only with a service that declares it`);
    }
}

/** A job's image and its schedule, state machine and task. */
export function deployJob(job: CatalogJob, ctx: JobContext): DeployedJob {
    const { settings, names, opts } = ctx;
    const protect = settings.deletionProtection;
    const image = new ServiceImage(job.name, {
        source: sourceVersion(process.cwd(), job.build.context, job.build.dockerfile),
        context: job.build.context,
        dockerfile: job.build.dockerfile,
        platform: job.platform,
        keepImages: settings.keepImages,
        forceDelete: settings.forceDelete,
        buildOnPreview: settings.buildOnPreview,
        protect,
        retainOnDelete: settings.retainOnDelete,
    }, opts);
    const client = job.database && ctx.database ? ctx.database.clientFor(DEFAULT_DATABASE_ENV) : undefined;
    const scheduled = new ScheduledJob(job.name, {
        cluster: { arn: ctx.cluster.clusterArn, name: ctx.cluster.clusterName },
        vpcId: ctx.network.vpcId,
        subnetIds: ctx.network.privateSubnetIds,
        region: settings.region,
        image: image.imageRef,
        family: names.family(job.name),
        cpu: job.cpu,
        memory: job.memory,
        platform: job.platform,
        user: job.user,
        command: job.command,
        environment: { ...client?.environment, [COMMIT_VARIABLE]: image.commit },
        secrets: client?.secrets,
        secretArns: client?.secretArns,
        database: client ? { securityGroupId: client.securityGroupId, port: client.port, credentialSecretArn: client.credentialSecretArn } : undefined,
        schedule: job.schedule,
        timeoutSeconds: job.timeoutSeconds,
        retries: job.retries,
        logGroupName: names.serviceLogGroup(job.name),
        logRetentionDays: settings.logRetentionDays,
        logKmsKeyArn: ctx.logsKey?.arn,
        stateMachineLogGroupName: `${names.stepFunctionsLogGroupPrefix}job-${job.name}`,
        alarmTopicArn: ctx.alarmTopic.topicArn,
        tags: { [COMMIT_TAG]: image.commit },
        protectLogs: protect,
        retainLogs: settings.retainOnDelete,
        permissionsBoundary: ctx.permissionsBoundary,
        rolePath: names.rolePath,
    }, opts);
    return { name: job.name, schedule: job.schedule, image, job: scheduled };
}
