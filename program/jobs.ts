/**
 * The catalogue's jobs in the stack: each job's image and its schedule, state machine and task
 * (components/jobs/scheduledJob.ts), on the stack's cluster, private subnets, database and alarm topic.
 */
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DATABASE_ENV } from "@berth/kit/contract";
import type { Database } from "../components/data/database";
import { Job } from "../components/jobs/job";
import type { ScheduledJob } from "../components/jobs/scheduledJob";
import type { Network } from "../components/network/network";
import type { AlarmTopic } from "../components/observability/alarms";
import type { LogsKey } from "../components/observability/logsKey";
import type { Cluster } from "../components/service/cluster";
import type { ServiceImage } from "../components/service/serviceImage";
import type { StackNames } from "../core/naming";
import type { CatalogJob, CatalogService } from "../catalog";
import type { Settings } from "../config";
import { imageArgs } from "./images";

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
    /** The component that owns both. */
    component: Job;
}

/** Refuses, before any resource, a job that declares the database of a stack whose services declare none. */
export function checkJobs(jobs: readonly CatalogJob[], catalog: readonly CatalogService[]): void {
    const usesDatabase = catalog.some((s) => s.database !== undefined);
    const orphan = jobs.find((j) => j.database && !usesDatabase);
    if (orphan) {
        // The stack's database settings (size, backups) come with the services that use it.
        throw new Error(
            `catalog/index.ts: job "${orphan.name}" declares "database", and no service does; the database exists only with a service that declares it`,
        );
    }
}

/** A job's image and its schedule, state machine and task. */
export function deployJob(job: CatalogJob, ctx: JobContext): DeployedJob {
    const { settings, names, opts } = ctx;
    const protect = settings.deletionProtection;
    const client = job.database && ctx.database ? ctx.database.clientFor(DEFAULT_DATABASE_ENV) : undefined;
    const deployed = new Job(
        job.name,
        {
            build: imageArgs(job, settings),
            run: {
                cluster: { arn: ctx.cluster.clusterArn, name: ctx.cluster.clusterName },
                vpcId: ctx.network.vpcId,
                subnetIds: ctx.network.privateSubnetIds,
                region: settings.region,
                family: names.family(job.name),
                cpu: job.cpu,
                memory: job.memory,
                platform: job.platform,
                user: job.user,
                command: job.command,
                environment: { ...client?.environment },
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
                protectLogs: protect,
                retainLogs: settings.retainOnDelete,
                permissionsBoundary: ctx.permissionsBoundary,
                rolePath: names.rolePath,
            },
        },
        opts,
    );
    return { name: job.name, schedule: job.schedule, image: deployed.image, job: deployed.scheduled, component: deployed };
}
