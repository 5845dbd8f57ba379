/** What the deployment's steps share: the stack, its foundation and its edge. */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { AccessLogBucket } from "../components/edge/accessLogBucket";
import type { DnsCertificate } from "../components/edge/certificate";
import type { LoadBalancer } from "../components/edge/loadBalancer";
import type { WebAcl } from "../components/edge/webAcl";
import type { StackNames } from "../core/naming";
import type { Network } from "../components/network/network";
import type { AlarmTopic } from "../components/observability/alarms";
import type { LogsKey } from "../components/observability/logsKey";
import type { RoleBoundary } from "../components/pipeline/roleBoundary";
import type { Cluster } from "../components/service/cluster";
import type { Settings } from "../config";
import type { CatalogService } from "../catalog";

/** What every step of the deployment reads: the stack's settings, its catalogue and names, and its provider. */
export interface StackContext {
    settings: Settings;
    /** The catalogue as deployed (`deployedCatalog`), in its own order. */
    catalog: readonly CatalogService[];
    /** The same, callees before their callers (`deployOrder`). */
    order: readonly CatalogService[];
    names: StackNames;
    /** The two tags that name the stack; the pipeline's deploy role may change only IAM roles that carry them. */
    stackTags: { project: string; stack: string };
    /** Where the stack's log groups live: its own names, RDS's for the instance, Step Functions'. */
    logGroupPrefixes: string[];
    zones: string[];
    provider: aws.Provider;
    /** Every component's options: the stack's provider, and the adoption of the log groups it kept. */
    opts: pulumi.ComponentResourceOptions;
    /** The database, its subnets and their costs exist only when a service uses them. */
    usesDatabase: boolean;
}

/** The stack-wide parts the services run on. */
export interface Foundation {
    boundary: RoleBoundary;
    logsKey?: LogsKey;
    alarmTopic: AlarmTopic;
    network: Network;
    cluster: Cluster;
}

/** The public entry: the names it answers on, and what answers them. */
export interface Edge {
    hosts: HostNames;
    certificate?: DnsCertificate;
    accessLogs?: AccessLogBucket;
    loadBalancer: LoadBalancer;
    webAcl?: WebAcl;
}

/** The names the stack answers on: its domain, then `<subdomain>.<domain>` per public service with a subdomain. */
export interface HostNames {
    all: string[];
    byService: Map<string, string>;
}
