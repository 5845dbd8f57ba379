/**
 * Berth's stack outputs: what `pulumi stack output` shows, and what the CLI (`berth status`, `berth logs`)
 * reads from a deployed stack.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Database } from "../components/data/database";
import type { LoadBalancer } from "../components/edge/loadBalancer";
import type { Network } from "../components/network/network";
import type { AlarmTopic } from "../components/observability/alarms";
import type { Dashboard } from "../components/observability/dashboard";
import type { DeployAccess } from "../components/pipeline/deployAccess";
import type { Cluster } from "../components/service/cluster";
import type { Service } from "../components/service/service";
import type { CatalogService } from "../catalog";
import type { DeployedJob } from "./jobs";
import type { Worker } from "../components/messaging/worker";

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
    /** Per job: the state machine `berth job run` starts, its schedule and its task's log group. */
    jobs: Record<string, JobOutput>;
}

/** What `pulumi stack output jobs` shows for each job. */
export interface JobOutput {
    stateMachineArn: pulumi.Output<string>;
    schedule: string;
    logGroupName: pulumi.Output<string>;
    /** The commit the job's image is built from. */
    commit: string;
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

/** What the stack exports, read from the components that hold it. */
export function outputsOf(
    { domain, catalog }: { domain?: string; catalog: readonly CatalogService[] },
    parts: {
        loadBalancer: LoadBalancer;
        network: Network;
        cluster: Cluster;
        alarmTopic: AlarmTopic;
        pipeline?: DeployAccess;
        database?: Database;
        services: Map<string, Service>;
        workers: Map<string, Worker>;
        dashboard: Dashboard;
        jobs: readonly DeployedJob[];
    },
): BerthOutputs {
    const { loadBalancer, network, cluster, alarmTopic, pipeline, database, services, workers, dashboard, jobs } = parts;
    return {
        url: domain ? pulumi.output(`https://${domain}`) : pulumi.interpolate`${loadBalancer.scheme}://${loadBalancer.dnsName}`,
        vpcId: network.vpcId,
        clusterName: cluster.clusterName,
        services: Object.fromEntries(
            catalog.map((s) => [s.name, s.kind === "worker" ? workerOutput(workers.get(s.name)!) : serviceOutput(s, services.get(s.name)!)]),
        ),
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
        jobs: Object.fromEntries(
            jobs.map(({ name, job, image, schedule }) => [
                name,
                {
                    stateMachineArn: job.stateMachineArn,
                    schedule,
                    logGroupName: job.logGroupName,
                    commit: image.commit,
                },
            ]),
        ),
    };
}

function workerOutput(worker: Worker): ServiceOutput {
    return {
        kind: "worker",
        repositoryUrl: worker.image.repositoryUrl,
        imageTag: worker.image.tag,
        commit: worker.image.commit,
        logGroupName: worker.service.logGroupName,
        serviceName: worker.service.serviceName,
    };
}

function serviceOutput(service: CatalogService, deployed: Service): ServiceOutput {
    return {
        kind: service.kind,
        repositoryUrl: deployed.image.repositoryUrl,
        imageTag: deployed.image.tag,
        commit: deployed.image.commit,
        logGroupName: deployed.fargate.logGroupName,
        serviceName: deployed.fargate.serviceName,
        discoveryName: service.kind === "backend" ? service.name : undefined,
    };
}
