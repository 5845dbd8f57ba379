/**
 * AWS's own rules, evaluated on a program's recorded resources the way AWS documents each one.
 *
 * Each entry is one AWS Config managed rule that Security Hub's AWS Foundational Security Best Practices
 * (FSBP) standard or AWS's conformance packs for ECS, ECR, load balancing and networking evaluate, where it
 * applies to a kind of resource Berth creates. Sources read:
 * - the conformance packs in awslabs/aws-config-rules (`aws-config-conformance-packs/`):
 *   Security-Best-Practices-for-ECS.yaml, Security-Best-Practices-for-ECR.yaml,
 *   Operational-Best-Practices-for-Load-Balancing.yaml, Operational-Best-Practices-for-Networking-Services.yaml,
 *   Operational-Best-Practices-for-CloudWatch.yaml, Operational-Best-Practices-for-Amazon-S3.yaml,
 *   Security-Best-Practices-for-AWS-WAF.yaml (https://github.com/awslabs/aws-config-rules/tree/master/aws-config-conformance-packs);
 * - each rule's page, https://docs.aws.amazon.com/config/latest/developerguide/<rule id>.html, linked per entry;
 * - the FSBP controls, https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html, and per
 *   service https://docs.aws.amazon.com/securityhub/latest/userguide/<service>-controls.html; AWS draws these
 *   pages with JavaScript, so the RDS, Secrets Manager, SNS, KMS and Step Functions controls were read through
 *   published copies: awsdocs/aws-security-hub-user-guide (doc_source/rds-controls.md, June 2023) for each
 *   control's rule and parameters, and prowler-cloud/prowler's FSBP mapping
 *   (prowler/compliance/aws/aws_foundational_security_best_practices_aws.json, August 2026) for the controls
 *   added since (RDS.36, RDS.38, SNS.4, KMS.5, SecretsManager.*, StepFunctions.1);
 * - the conformance packs for RDS and Secrets Manager (Security-Best-Practices-for-RDS.yaml,
 *   Security-Best-Practices-for-Secrets-Manager.yaml), and Operational-Best-Practices-For-Security-Identity-and-Compliance-Services.yaml.
 *
 * A rule is a pure function of one recorded resource and the whole recording (for relations such as
 * "the WAF association that names this ALB"). To add a rule (RDS, ...): add one entry to `RULES`.
 */
import type { Settings } from "../../config";
import type { Recorded } from "./pulumi";
import { T } from "./types";

export type Compliance = "COMPLIANT" | "NON_COMPLIANT" | "NOT_APPLICABLE";

/** One rule's verdict on one resource. */
export interface Finding {
    rule: string;
    resource: string;
    compliance: Compliance;
    /** Why, for NON_COMPLIANT and NOT_APPLICABLE. */
    reason?: string;
}

type Verdict = Compliance | [Compliance, string];

export interface Rule {
    /** The AWS Config managed rule's name, e.g. `ecs-containers-readonly-access`. */
    id: string;
    /** Where AWS evaluates it: FSBP control IDs and conformance packs. */
    sources: string[];
    /** The Pulumi resource types it evaluates (AWS Config's resource types, as Berth creates them). */
    types: string[];
    /** The documented condition, in short, with any reading of ours where the documentation leaves room. */
    condition: string;
    evaluate(r: Recorded, all: Recording): Verdict;
    /**
     * The stack setting that relaxes this rule in `settings`, if one does: the rules `test` may fail to
     * save money (docs/security.md lists them with their cost), or that a stack switches off on purpose.
     */
    relaxedBy?(settings: Settings): string | undefined;
}

/** The recorded resources with the look-ups rules need. */
export class Recording {
    constructor(readonly resources: readonly Recorded[]) {}

    ofType(type: string): Recorded[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** Resources of `type` whose input `key` names `target` (its ID, ARN or name). */
    referring(type: string, key: string, target: Recorded): Recorded[] {
        const names = [target.id, target.outputs.arn, target.outputs.name, target.outputs.bucket].filter((v) => v !== undefined);
        return this.ofType(type).filter((r) => names.includes(r.inputs[key]));
    }
}

/** Where AWS documents a managed rule's evaluation. */
export const ruleUrl = (id: string) => `https://docs.aws.amazon.com/config/latest/developerguide/${id}.html`;

function containers(td: Recorded): Array<Record<string, any>> {
    return JSON.parse(td.inputs.containerDefinitions);
}

function json(value: unknown): any {
    return typeof value === "string" ? JSON.parse(value) : value;
}

const isRoot = (user: unknown) => typeof user !== "string" || user === "" || /^(root|0)(:|$)/.test(user);

/** Ingress rules open to any address, with their port range (all ports for protocol -1). */
function openIngress(all: Recording): Array<{ rule: Recorded; from: number; to: number }> {
    return all
        .ofType(T.ingress)
        .filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0" || r.inputs.cidrIpv6 === "::/0")
        .map((rule) => (rule.inputs.ipProtocol === "-1" ? { rule, from: 0, to: 65535 } : { rule, from: rule.inputs.fromPort, to: rule.inputs.toPort }));
}

function statements(policy: unknown): Array<Record<string, any>> {
    const doc = json(policy);
    return Array.isArray(doc?.Statement) ? doc.Statement : [doc?.Statement].filter(Boolean);
}

/** Whether a policy of the bucket allows anyone an action matching `actions`. */
function grantsPublicly(bucket: Recorded, all: Recording, actions: RegExp): boolean {
    return all
        .referring(T.bucketPolicy, "bucket", bucket)
        .some((p) =>
            statements(p.inputs.policy).some(
                (s) => s.Effect === "Allow" && (s.Principal === "*" || s.Principal?.AWS === "*") && list(s.Action).some((a) => actions.test(String(a))),
            ),
        );
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** FSBP [ELB.17]'s recommended policies, and Berth's pick among them (TLS 1.3 and 1.2, no older). */
export const TLS_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
];

/** Ports FSBP [EC2.19] counts as high risk (restricted-common-ports with the control's parameters). */
const HIGH_RISK_PORTS = [20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300];

/** FSBP [EC2.18]'s default `authorizedTcpPorts`. */
const AUTHORIZED_TCP_PORTS = [80, 443];

/** A statement open to anyone: principal `*` with no condition that fixes the calling account or organisation. */
function publicStatement(s: Record<string, any>): boolean {
    const anyone = s.Principal === "*" || list(s.Principal?.AWS).includes("*");
    const keys = Object.values(s.Condition ?? {})
        .flatMap((c: any) => Object.keys(c ?? {}))
        .map((k) => k.toLowerCase());
    const fixed = ["aws:sourceaccount", "aws:sourceowner", "aws:principalaccount", "aws:principalorgid", "kms:calleraccount", "aws:sourcearn"].some((k) =>
        keys.includes(k),
    );
    return s.Effect === "Allow" && anyone && !fixed;
}

/** Resources of `type` whose computed name is `name` (what another resource's input names them by). */
function named(all: Recording, type: string, name: unknown): Recorded[] {
    return all.ofType(type).filter((r) => r.outputs.name === name || r.id === name);
}

/** PostgreSQL's default port: RDS listens on it when `port` is not set. */
export const POSTGRES_DEFAULT_PORT = 5432;

/** FSBP RDS.11's `backupRetentionMinimum`. */
const BACKUP_RETENTION_MINIMUM = 7;

/** The event categories FSBP RDS.20 and RDS.21 ask a subscription to cover, per source type. */
const CRITICAL_EVENTS: Readonly<Record<string, readonly string[]>> = {
    "db-instance": ["maintenance", "configuration change", "failure"],
    "db-parameter-group": ["configuration change"],
};

/** Whether an enabled RDS event subscription covers `sourceId` for the critical categories of `sourceType`. */
function subscribed(all: Recording, sourceType: string, sourceId: unknown): boolean {
    return all
        .ofType(T.dbEvents)
        .some(
            (e) =>
                e.inputs.sourceType === sourceType &&
                e.inputs.enabled !== false &&
                e.inputs.snsTopic &&
                (e.inputs.sourceIds === undefined || list(e.inputs.sourceIds).includes(sourceId)) &&
                (e.inputs.eventCategories === undefined || CRITICAL_EVENTS[sourceType].every((c) => list(e.inputs.eventCategories).includes(c))),
        );
}

/** Whether a task definition names the secret (its ARN, alone or with a JSON key) in a container's `secrets`. */
function readByATask(all: Recording, arn: unknown): boolean {
    return (
        typeof arn === "string" &&
        all
            .ofType(T.taskDefinition)
            .some((td) =>
                containers(td).some((c) =>
                    (list(c.secrets) as Array<{ valueFrom: string }>).some((x) => x.valueFrom === arn || x.valueFrom.startsWith(`${arn}:`)),
                ),
            )
    );
}

/** The RDS-managed master secret of an instance: its ARN, when RDS manages the password. */
const managedSecretArn = (db: Recorded): string | undefined =>
    db.inputs.manageMasterUserPassword === true ? db.outputs.masterUserSecrets?.[0]?.secretArn : undefined;

/** Stacks whose `berth:secrets` hold values the stack stores (not references to secrets of their own). */
const storesSecretValues = (s: Settings) => (Object.values(s.secrets).some((l) => l.some((x) => x.kind === "value")) ? "secrets" : undefined);

const noHttps = (s: Settings) =>
    s.certificateArn === undefined && s.hostedZoneId === undefined ? (s.environment === "prod" ? "allowHttpOnly" : "domain") : undefined;

export const RULES: Rule[] = [
    // ECS: Security-Best-Practices-for-ECS.yaml and FSBP ECS.*
    {
        id: "ecs-task-definition-memory-hard-limit",
        sources: ["ECS pack"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if the `memory` parameter is absent for one container definition",
        evaluate: (td) => {
            const missing = containers(td)
                .filter((c) => typeof c.memory !== "number")
                .map((c) => c.name);
            return missing.length ? ["NON_COMPLIANT", `no memory limit: ${missing.join(", ")}`] : "COMPLIANT";
        },
    },
    {
        id: "ecs-task-definition-linux-user-non-root",
        sources: ["FSBP ECS.20"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if the root user is specified or user configuration is absent for any container (the image's USER does not count)",
        evaluate: (td) => {
            const root = containers(td)
                .filter((c) => isRoot(c.user))
                .map((c) => `${c.name} (${c.user ?? "no user"})`);
            return root.length ? ["NON_COMPLIANT", root.join(", ")] : "COMPLIANT";
        },
    },
    {
        id: "ecs-task-definition-nonroot-user",
        sources: ["ECS pack"],
        types: [T.taskDefinition],
        condition: "for EC2 launch type containers: NON_COMPLIANT if `user` is absent or root",
        evaluate: (td) => {
            if (!list(td.inputs.requiresCompatibilities).includes("EC2")) {
                return ["NOT_APPLICABLE", "Fargate only"];
            }
            return containers(td).some((c) => isRoot(c.user)) ? "NON_COMPLIANT" : "COMPLIANT";
        },
    },
    {
        id: "ecs-task-definition-user-for-host-mode-check",
        sources: ["FSBP ECS.1", "ECS pack"],
        types: [T.taskDefinition],
        condition: "host network mode: NON_COMPLIANT if a container is not privileged and runs as root or no user",
        evaluate: (td) => {
            if (td.inputs.networkMode !== "host") {
                return ["NOT_APPLICABLE", `network mode ${td.inputs.networkMode}`];
            }
            return containers(td).some((c) => c.privileged !== true && isRoot(c.user)) ? "NON_COMPLIANT" : "COMPLIANT";
        },
    },
    {
        id: "ecs-task-definition-pid-mode-check",
        sources: ["FSBP ECS.3", "ECS pack"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if pidMode is host",
        evaluate: (td) => (td.inputs.pidMode === "host" ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "ecs-containers-nonprivileged",
        sources: ["FSBP ECS.4", "ECS pack"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if `privileged` is true for any container",
        evaluate: (td) => (containers(td).some((c) => c.privileged === true) ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "ecs-containers-readonly-access",
        sources: ["FSBP ECS.5", "ECS pack"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if `readonlyRootFilesystem` is absent or false for any container",
        evaluate: (td) => {
            const writable = containers(td)
                .filter((c) => c.readonlyRootFilesystem !== true)
                .map((c) => c.name);
            return writable.length ? ["NON_COMPLIANT", writable.join(", ")] : "COMPLIANT";
        },
    },
    {
        id: "ecs-no-environment-secrets",
        sources: ["FSBP ECS.8", "ECS pack"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if an environment variable is named AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or ECS_ENGINE_AUTH_DATA (the pack's secretKeys)",
        evaluate: (td) => {
            const keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"];
            const found = containers(td)
                .flatMap((c) => list(c.environment) as Array<{ name: string }>)
                .filter((e) => keys.includes(e.name));
            return found.length ? ["NON_COMPLIANT", found.map((e) => e.name).join(", ")] : "COMPLIANT";
        },
    },
    {
        id: "ecs-task-definition-log-configuration",
        sources: ["FSBP ECS.9"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if a container has no logConfiguration or no logDriver",
        evaluate: (td) => (containers(td).some((c) => !c.logConfiguration?.logDriver) ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "ecs-awsvpc-networking-enabled",
        sources: ["ECS pack (Operational Best Practices for ECS)"],
        types: [T.taskDefinition],
        condition: "NON_COMPLIANT if networkMode is not awsvpc",
        evaluate: (td) => (td.inputs.networkMode === "awsvpc" ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "ecs-fargate-latest-platform-version",
        sources: ["FSBP ECS.10", "ECS pack"],
        types: [T.service],
        condition: "Fargate services: NON_COMPLIANT unless platformVersion is LATEST (ECS's default when unset)",
        evaluate: (svc) => {
            const fargate =
                svc.inputs.launchType === "FARGATE" || list(svc.inputs.capacityProviderStrategies).some((s: any) => /^FARGATE/.test(s.capacityProvider));
            if (!fargate) {
                return ["NOT_APPLICABLE", "not on Fargate"];
            }
            return (svc.inputs.platformVersion ?? "LATEST") === "LATEST" ? "COMPLIANT" : ["NON_COMPLIANT", svc.inputs.platformVersion];
        },
    },
    {
        id: "ecs-service-assign-public-ip-disabled",
        sources: ["FSBP ECS.2"],
        types: [T.service],
        condition: "NON_COMPLIANT if networkConfiguration assigns public IPs",
        evaluate: (svc) => (svc.inputs.networkConfiguration?.assignPublicIp === true ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "ecs-container-insights-enabled",
        sources: ["FSBP ECS.12", "ECS pack"],
        types: [T.cluster],
        condition: "NON_COMPLIANT if the cluster's containerInsights setting is not enabled",
        evaluate: (c) =>
            list(c.inputs.settings).some((s: any) => s.name === "containerInsights" && ["enabled", "enhanced"].includes(s.value))
                ? "COMPLIANT"
                : "NON_COMPLIANT",
        relaxedBy: (s) => (s.containerInsights ? undefined : "containerInsights"),
    },

    // ECR: Security-Best-Practices-for-ECR.yaml and FSBP ECR.*
    {
        id: "ecr-private-image-scanning-enabled",
        sources: ["FSBP ECR.1", "ECR pack"],
        types: [T.repository],
        condition: "NON_COMPLIANT if scan on push is off",
        evaluate: (r) => (r.inputs.imageScanningConfiguration?.scanOnPush === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "ecr-private-tag-immutability-enabled",
        sources: ["FSBP ECR.2", "ECR pack"],
        types: [T.repository],
        condition: "NON_COMPLIANT if tag immutability is not enabled; IMMUTABLE_WITH_EXCLUSION counts as enabled (the page predates it and does not say)",
        evaluate: (r) =>
            ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"].includes(r.inputs.imageTagMutability)
                ? "COMPLIANT"
                : ["NON_COMPLIANT", r.inputs.imageTagMutability ?? "MUTABLE"],
    },
    {
        id: "ecr-private-lifecycle-policy-configured",
        sources: ["FSBP ECR.3", "ECR pack"],
        types: [T.repository],
        condition: "NON_COMPLIANT if the repository has no lifecycle policy",
        evaluate: (r, all) => (all.referring(T.lifecycle, "repository", r).length > 0 ? "COMPLIANT" : "NON_COMPLIANT"),
    },

    // Load balancing: Operational-Best-Practices-for-Load-Balancing.yaml and FSBP ELB.*
    {
        id: "alb-http-to-https-redirection-check",
        sources: ["FSBP ELB.1", "Load balancing pack", "Networking pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT if an HTTP listener's default action does not redirect to HTTPS, or a rule on it forwards instead",
        evaluate: (alb, all) => {
            const http = all.referring(T.listener, "loadBalancerArn", alb).filter((l) => l.inputs.protocol === "HTTP");
            const bad = http.filter((l) => {
                const defaults = list(l.inputs.defaultActions) as any[];
                const redirects = defaults.length > 0 && defaults.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
                const forwardingRules = all.referring(T.rule, "listenerArn", l);
                return !redirects || forwardingRules.length > 0;
            });
            return bad.length ? ["NON_COMPLIANT", `HTTP listener ${bad.map((l) => l.name).join(", ")} serves instead of redirecting`] : "COMPLIANT";
        },
        relaxedBy: noHttps,
    },
    {
        id: "elbv2-acm-certificate-required",
        sources: ["Load balancing pack", "Networking pack"],
        types: [T.alb],
        condition:
            "NON_COMPLIANT if a listener is configured without an ACM certificate; read as: HTTPS listeners must use ACM certificates, and an ALB with none serves no certificate (an HTTP listener cannot carry one, and ELB.1 asks for it)",
        evaluate: (alb, all) => {
            const https = all.referring(T.listener, "loadBalancerArn", alb).filter((l) => l.inputs.protocol === "HTTPS");
            if (https.length === 0) {
                return ["NON_COMPLIANT", "no HTTPS listener"];
            }
            const nonAcm = https.filter((l) => !/^arn:aws[a-z-]*:acm:/.test(String(l.inputs.certificateArn)));
            return nonAcm.length ? ["NON_COMPLIANT", nonAcm.map((l) => l.name).join(", ")] : "COMPLIANT";
        },
        relaxedBy: noHttps,
    },
    {
        id: "elbv2-predefined-security-policy-ssl-check",
        sources: ["FSBP ELB.17"],
        types: [T.listener],
        condition: `HTTPS listeners: NON_COMPLIANT unless sslPolicy is one of ${TLS_POLICIES.join(", ")}`,
        evaluate: (l) => {
            if (l.inputs.protocol !== "HTTPS") {
                return ["NOT_APPLICABLE", l.inputs.protocol];
            }
            return TLS_POLICIES.includes(l.inputs.sslPolicy) ? "COMPLIANT" : ["NON_COMPLIANT", String(l.inputs.sslPolicy)];
        },
    },
    {
        id: "alb-http-drop-invalid-header-enabled",
        sources: ["FSBP ELB.4", "Load balancing pack", "Networking pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT if routing.http.drop_invalid_header_fields.enabled is false",
        evaluate: (alb) => (alb.inputs.dropInvalidHeaderFields === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "elb-logging-enabled",
        sources: ["FSBP ELB.5", "Load balancing pack", "Networking pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT if access logging is off or names no bucket",
        evaluate: (alb) => (alb.inputs.accessLogs?.enabled === true && alb.inputs.accessLogs?.bucket ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.accessLogs ? undefined : "accessLogs"),
    },
    {
        id: "elb-deletion-protection-enabled",
        sources: ["FSBP ELB.6", "Load balancing pack", "Networking pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT if deletion protection is off",
        evaluate: (alb) => (alb.inputs.enableDeletionProtection === true ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.deletionProtection ? undefined : "deletionProtection"),
    },
    {
        id: "alb-desync-mode-check",
        sources: ["FSBP ELB.12", "Load balancing pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT unless desync mitigation mode is defensive or strictest (AWS's default is defensive)",
        evaluate: (alb) => (["defensive", "strictest"].includes(alb.inputs.desyncMitigationMode ?? "defensive") ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "elbv2-multiple-az",
        sources: ["FSBP ELB.13", "Load balancing pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT if the load balancer spans fewer than 2 Availability Zones",
        evaluate: (alb) => (list(alb.inputs.subnets).length >= 2 ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "alb-waf-enabled",
        sources: ["FSBP ELB.16", "Load balancing pack", "Networking pack", "WAF pack"],
        types: [T.alb],
        condition: "NON_COMPLIANT if no AWS WAF web ACL is associated with the ALB",
        evaluate: (alb, all) => (all.referring(T.wafAssociation, "resourceArn", alb).length > 0 ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.wafEnabled ? undefined : "wafEnabled"),
    },
    {
        id: "wafv2-webacl-not-empty",
        sources: ["FSBP WAF.10"],
        types: [T.wafAcl],
        condition: "NON_COMPLIANT if the web ACL has no rules or rule groups",
        evaluate: (acl) => (list(acl.inputs.rules).length > 0 ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "wafv2-rulegroup-logging-enabled",
        sources: ["FSBP WAF.12"],
        // WAF.12 evaluates AWS::WAFv2::RuleGroup, rule groups of one's own; Berth's web ACL uses AWS managed
        // groups, so this applies to nothing Berth makes. The web ACL turns metrics on for every rule anyway.
        types: [T.ruleGroup],
        condition: "NON_COMPLIANT if the rule group has CloudWatch metrics off",
        evaluate: (group) => (group.inputs.visibilityConfig?.cloudwatchMetricsEnabled === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "acm-certificate-rsa-check",
        sources: ["FSBP ACM.2"],
        types: [T.certificate],
        condition: "NON_COMPLIANT if an RSA certificate's key is shorter than 2048 bits",
        evaluate: (c) => ((c.inputs.keyAlgorithm ?? "RSA_2048") === "RSA_1024" ? "NON_COMPLIANT" : "COMPLIANT"),
    },

    // Networking: Operational-Best-Practices-for-Networking-Services.yaml and FSBP EC2.*
    {
        id: "vpc-default-security-group-closed",
        sources: ["FSBP EC2.2", "Networking pack"],
        types: [T.vpc],
        condition: "NON_COMPLIANT if the VPC's default security group has any inbound or outbound rule (AWS creates it with both)",
        evaluate: (vpc, all) => {
            const adopted = all.referring(T.defaultSg, "vpcId", vpc);
            const closed = adopted.some((sg) => list(sg.inputs.ingress).length === 0 && list(sg.inputs.egress).length === 0);
            return closed ? "COMPLIANT" : ["NON_COMPLIANT", "the default security group keeps AWS's default rules"];
        },
    },
    {
        id: "vpc-flow-logs-enabled",
        sources: ["FSBP EC2.6", "Networking pack"],
        types: [T.vpc],
        condition: "NON_COMPLIANT if the VPC has no flow log (FSBP's trafficType REJECT; ALL covers it)",
        evaluate: (vpc, all) =>
            all.referring(T.flowLog, "vpcId", vpc).some((f) => ["ALL", "REJECT"].includes(f.inputs.trafficType)) ? "COMPLIANT" : "NON_COMPLIANT",
        relaxedBy: (s) => (s.flowLogs ? undefined : "flowLogs"),
    },
    {
        id: "ec2-imdsv2-check",
        sources: ["FSBP EC2.8"],
        types: [T.instance],
        condition: "NON_COMPLIANT if the instance metadata service does not require tokens (IMDSv2)",
        evaluate: (i) => (i.inputs.metadataOptions?.httpTokens === "required" ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "ec2-instance-no-public-ip",
        sources: ["FSBP EC2.9"],
        types: [T.instance],
        condition: "NON_COMPLIANT if the instance has a public IPv4 address (here: associatePublicIpAddress)",
        evaluate: (i) => (i.inputs.associatePublicIpAddress === true ? "NON_COMPLIANT" : "COMPLIANT"),
        relaxedBy: (s) => (s.natStrategy === "instance" ? "natStrategy" : undefined),
    },
    {
        id: "ec2-instance-managed-by-systems-manager",
        sources: ["FSBP SSM.1"],
        types: [T.instance],
        condition: "NON_COMPLIANT if Systems Manager does not manage the instance (here: it has no instance profile for the SSM Agent to register with)",
        evaluate: (i) => (i.inputs.iamInstanceProfile ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.natStrategy === "instance" ? "natStrategy" : undefined),
    },
    {
        id: "subnet-auto-assign-public-ip-disabled",
        sources: ["FSBP EC2.15"],
        types: [T.subnet],
        condition: "NON_COMPLIANT if MapPublicIpOnLaunch is true",
        evaluate: (s) => (s.inputs.mapPublicIpOnLaunch === true ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "restricted-ssh",
        sources: ["FSBP EC2.13", "Networking pack (incoming-ssh-disabled)"],
        types: [T.sg],
        condition: "NON_COMPLIANT if the group admits port 22 from 0.0.0.0/0 or ::/0",
        evaluate: (sg, all) =>
            openIngress(all).some((o) => o.rule.inputs.securityGroupId === sg.id && o.from <= 22 && o.to >= 22) ? "NON_COMPLIANT" : "COMPLIANT",
    },
    {
        id: "restricted-common-ports",
        sources: ["FSBP EC2.19", "Networking pack (restricted-incoming-traffic)"],
        types: [T.sg],
        condition: `NON_COMPLIANT if the group admits any of ${HIGH_RISK_PORTS.join(", ")} from anywhere`,
        evaluate: (sg, all) => {
            const hits = openIngress(all)
                .filter((o) => o.rule.inputs.securityGroupId === sg.id)
                .flatMap((o) => HIGH_RISK_PORTS.filter((p) => o.from <= p && o.to >= p));
            return hits.length ? ["NON_COMPLIANT", hits.join(", ")] : "COMPLIANT";
        },
    },
    {
        id: "vpc-sg-open-only-to-authorized-ports",
        sources: ["FSBP EC2.18", "Networking pack"],
        types: [T.sg],
        condition: `NON_COMPLIANT if the group admits from anywhere a TCP port outside authorizedTcpPorts (FSBP's default ${AUTHORIZED_TCP_PORTS.join(", ")}; the networking pack's sample lists 443 only, which would forbid the HTTP-to-HTTPS redirect its own alb-http-to-https-redirection-check asks for)`,
        evaluate: (sg, all) => {
            const open = openIngress(all).filter((o) => o.rule.inputs.securityGroupId === sg.id);
            const bad = open.filter((o) => o.from !== o.to || !AUTHORIZED_TCP_PORTS.includes(o.from) || o.rule.inputs.ipProtocol !== "tcp");
            return bad.length ? ["NON_COMPLIANT", bad.map((o) => `${o.from}-${o.to}`).join(", ")] : "COMPLIANT";
        },
    },
    {
        id: "vpc-sg-port-restriction-check",
        sources: ["FSBP EC2.53", "FSBP EC2.54"],
        types: [T.sg],
        condition: "NON_COMPLIANT if the group admits 22 or 3389 from 0.0.0.0/0 or ::/0",
        evaluate: (sg, all) =>
            openIngress(all).some((o) => o.rule.inputs.securityGroupId === sg.id && [22, 3389].some((p) => o.from <= p && o.to >= p))
                ? "NON_COMPLIANT"
                : "COMPLIANT",
    },
    {
        id: "internet-gateway-authorized-vpc-only",
        sources: ["Networking pack"],
        types: [T.igw],
        condition:
            "NON_COMPLIANT if the gateway is attached to a VPC outside authorizedVpcIds; evaluated with the stack's own VPC authorized, the list an account owner sets",
        evaluate: (igw, all) => (all.ofType(T.vpc).some((v) => v.id === igw.inputs.vpcId) ? "COMPLIANT" : "NON_COMPLIANT"),
    },

    // CloudWatch Logs and KMS: Operational-Best-Practices-for-CloudWatch.yaml and FSBP KMS.*
    {
        id: "cloudwatch-log-group-encrypted",
        sources: ["CloudWatch pack"],
        types: [T.logGroup],
        condition: "NON_COMPLIANT if the log group has no KMS key",
        evaluate: (g) => (g.inputs.kmsKeyId ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.logsKmsKey ? undefined : "logsKmsKey"),
    },
    {
        id: "cw-loggroup-retention-period-check",
        sources: ["FSBP CloudWatch.16 (NIST)", "CloudWatch pack"],
        types: [T.logGroup],
        condition: "NON_COMPLIANT if retention is below MinRetentionTime, 365 days by default (unset = never expire = compliant)",
        evaluate: (g) =>
            g.inputs.retentionInDays === undefined || g.inputs.retentionInDays >= 365 ? "COMPLIANT" : ["NON_COMPLIANT", `${g.inputs.retentionInDays} days`],
        relaxedBy: (s) => (s.logRetentionDays >= 365 ? undefined : "logRetentionDays"),
    },
    {
        id: "cmk-backing-key-rotation-enabled",
        sources: ["Security Hub KMS.4 (CIS, NIST)"],
        types: [T.kmsKey],
        condition: "NON_COMPLIANT if automatic key rotation is off",
        evaluate: (k) => (k.inputs.enableKeyRotation === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "iam-inline-policy-blocked-kms-actions",
        sources: ["FSBP KMS.2"],
        types: [T.rolePolicy],
        condition: "NON_COMPLIANT if an inline policy allows kms:Decrypt or kms:ReEncryptFrom on all keys",
        evaluate: (p) =>
            statements(p.inputs.policy).some(
                (s) =>
                    s.Effect === "Allow" &&
                    list(s.Action).some((a) => /^kms:(Decrypt|ReEncryptFrom|\*)$|^\*$/.test(String(a))) &&
                    list(s.Resource).includes("*"),
            )
                ? "NON_COMPLIANT"
                : "COMPLIANT",
    },
    {
        id: "iam-policy-no-statements-with-admin-access",
        sources: ["FSBP IAM.1"],
        types: [T.policy, T.rolePolicy],
        condition: "NON_COMPLIANT if a policy allows Action * on Resource *",
        evaluate: (p) =>
            statements(p.inputs.policy).some((s) => s.Effect === "Allow" && list(s.Action).includes("*") && list(s.Resource).includes("*"))
                ? "NON_COMPLIANT"
                : "COMPLIANT",
    },

    // RDS: Security-Best-Practices-for-RDS.yaml and FSBP RDS.* (the cluster and Aurora rules do not apply to one DB instance)
    {
        id: "rds-instance-public-access-check",
        sources: ["FSBP RDS.2", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT if PubliclyAccessible is true",
        evaluate: (db) => (db.inputs.publiclyAccessible === true ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "rds-storage-encrypted",
        sources: ["FSBP RDS.3", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT if storage encryption is off (snapshots and automated backups inherit it, so RDS.4's rds-snapshot-encrypted follows)",
        evaluate: (db) => (db.inputs.storageEncrypted === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "rds-multi-az-support",
        sources: ["FSBP RDS.5", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT unless the instance is Multi-AZ",
        evaluate: (db) => (db.inputs.multiAz === true ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.database.multiAz ? undefined : "database.multiAz"),
    },
    {
        id: "rds-enhanced-monitoring-enabled",
        sources: ["FSBP RDS.6", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT unless Enhanced Monitoring is on (MonitoringInterval above 0, with a monitoring role)",
        evaluate: (db) => (Number(db.inputs.monitoringInterval ?? 0) > 0 && db.inputs.monitoringRoleArn ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "rds-instance-deletion-protection-enabled",
        sources: ["FSBP RDS.8", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT if deletion protection is off (FSBP's databaseEngines include postgres)",
        evaluate: (db) => (db.inputs.deletionProtection === true ? "COMPLIANT" : "NON_COMPLIANT"),
        relaxedBy: (s) => (s.deletionProtection ? undefined : "deletionProtection"),
    },
    {
        id: "rds-logging-enabled",
        sources: ["FSBP RDS.9", "RDS pack", "Security, identity and compliance pack"],
        types: [T.db],
        condition: "NON_COMPLIANT unless the engine's logs are exported to CloudWatch Logs: for PostgreSQL, postgresql and upgrade",
        evaluate: (db) => {
            const missing = ["postgresql", "upgrade"].filter((l) => !list(db.inputs.enabledCloudwatchLogsExports).includes(l));
            return missing.length ? ["NON_COMPLIANT", `not exported: ${missing.join(", ")}`] : "COMPLIANT";
        },
    },
    {
        id: "rds-instance-iam-authentication-enabled",
        sources: ["FSBP RDS.10", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT unless IAM database authentication is enabled",
        evaluate: (db) => (db.inputs.iamDatabaseAuthenticationEnabled === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "db-instance-backup-enabled",
        sources: ["FSBP RDS.11", "RDS pack"],
        types: [T.db],
        condition: `NON_COMPLIANT unless automated backups are on for at least FSBP's backupRetentionMinimum, ${BACKUP_RETENTION_MINIMUM} days (the pack sets no minimum)`,
        evaluate: (db) =>
            Number(db.inputs.backupRetentionPeriod ?? 1) >= BACKUP_RETENTION_MINIMUM
                ? "COMPLIANT"
                : ["NON_COMPLIANT", `${db.inputs.backupRetentionPeriod ?? 1} days`],
        relaxedBy: (s) => (s.database.backupRetentionDays >= BACKUP_RETENTION_MINIMUM ? undefined : "database.backupRetentionDays"),
    },
    {
        id: "rds-automatic-minor-version-upgrade-enabled",
        sources: ["FSBP RDS.13", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT if automatic minor version upgrades are off (RDS's default is on)",
        evaluate: (db) => (db.inputs.autoMinorVersionUpgrade === false ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "rds-instance-copy-tags-to-snapshots-enabled",
        sources: ["FSBP RDS.17 (Security Hub's own rule)"],
        types: [T.db],
        condition: "NON_COMPLIANT unless CopyTagsToSnapshot is on",
        evaluate: (db) => (db.inputs.copyTagsToSnapshot === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "rds-deployed-in-vpc",
        sources: ["FSBP RDS.18 (Security Hub's own rule)"],
        types: [T.db],
        condition: "NON_COMPLIANT unless the instance runs in a VPC: a DB subnet group and VPC security groups",
        evaluate: (db) => (db.inputs.dbSubnetGroupName && list(db.inputs.vpcSecurityGroupIds).length > 0 ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "rds-instance-event-notifications-configured",
        sources: ["FSBP RDS.20 (Security Hub's own rule)"],
        types: [T.db],
        condition:
            "NON_COMPLIANT unless an enabled event subscription of source type db-instance covers maintenance, configuration change and failure; read per instance: the subscription must name it or name no instance",
        evaluate: (db, all) => (subscribed(all, "db-instance", db.outputs.identifier ?? db.inputs.identifier) ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "rds-pg-event-notifications-configured",
        sources: ["FSBP RDS.21 (Security Hub's own rule)"],
        types: [T.dbParameterGroup],
        condition: "NON_COMPLIANT unless an enabled event subscription of source type db-parameter-group covers configuration change; read per group as above",
        evaluate: (group, all) => (subscribed(all, "db-parameter-group", group.outputs.name) ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "rds-no-default-ports",
        sources: ["FSBP RDS.23 (Security Hub's own rule)"],
        types: [T.db],
        condition: `NON_COMPLIANT if the instance listens on its engine's default port (PostgreSQL: ${POSTGRES_DEFAULT_PORT}, also when port is unset)`,
        evaluate: (db) =>
            Number(db.inputs.port ?? POSTGRES_DEFAULT_PORT) === POSTGRES_DEFAULT_PORT ? ["NON_COMPLIANT", `port ${db.inputs.port ?? "unset"}`] : "COMPLIANT",
    },
    {
        id: "rds-instance-default-admin-check",
        sources: ["FSBP RDS.25", "RDS pack"],
        types: [T.db],
        condition: "NON_COMPLIANT if the master username is a default one (postgres, admin)",
        evaluate: (db) =>
            ["postgres", "admin"].includes(String(db.inputs.username ?? "postgres")) ? ["NON_COMPLIANT", String(db.inputs.username)] : "COMPLIANT",
    },
    {
        id: "rds-postgresql-logs-to-cloudwatch",
        sources: ["FSBP RDS.36"],
        types: [T.db],
        condition: "PostgreSQL: NON_COMPLIANT unless the logTypes (default postgresql) are exported to CloudWatch Logs",
        evaluate: (db) =>
            db.inputs.engine !== "postgres"
                ? ["NOT_APPLICABLE", String(db.inputs.engine)]
                : list(db.inputs.enabledCloudwatchLogsExports).includes("postgresql")
                  ? "COMPLIANT"
                  : "NON_COMPLIANT",
    },
    {
        id: "rds-postgres-instance-encrypted-in-transit",
        sources: ["FSBP RDS.38"],
        types: [T.db],
        condition:
            "PostgreSQL: NON_COMPLIANT unless the instance's parameter group sets rds.force_ssl to 1 (the default group of PostgreSQL 15 and later does too, but Berth names its own)",
        evaluate: (db, all) => {
            if (db.inputs.engine !== "postgres") {
                return ["NOT_APPLICABLE", String(db.inputs.engine)];
            }
            const [group] = named(all, T.dbParameterGroup, db.inputs.parameterGroupName);
            const forced = list(group?.inputs.parameters).some((p: any) => p.name === "rds.force_ssl" && String(p.value) === "1");
            return forced ? "COMPLIANT" : ["NON_COMPLIANT", group ? `${group.name} leaves rds.force_ssl off` : "no parameter group of the stack"];
        },
    },

    // Secrets Manager: Security-Best-Practices-for-Secrets-Manager.yaml and FSBP SecretsManager.*. The secret RDS
    // keeps for the master user is no resource of the program: it is evaluated through its instance.
    {
        id: "secretsmanager-rotation-enabled-check",
        sources: ["FSBP SecretsManager.1", "Secrets Manager pack", "Security, identity and compliance pack"],
        types: [T.secret, T.db],
        condition:
            "NON_COMPLIANT unless the secret rotates automatically; RDS rotates the secrets it manages, every 7 days by default (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html)",
        evaluate: (r, all) => {
            if (r.type === T.db) {
                return managedSecretArn(r) ? "COMPLIANT" : ["NOT_APPLICABLE", "no RDS-managed secret"];
            }
            return all.referring(T.secretRotation, "secretId", r).length > 0 ? "COMPLIANT" : ["NON_COMPLIANT", "a value of berth:secrets, no rotation"];
        },
        relaxedBy: storesSecretValues,
    },
    {
        id: "secretsmanager-scheduled-rotation-success-check",
        sources: ["FSBP SecretsManager.2", "Secrets Manager pack", "Security, identity and compliance pack"],
        types: [T.secret, T.db],
        condition:
            "secrets with rotation: NON_COMPLIANT if a rotation did not happen as scheduled; read from the program as: rotation is run by AWS itself (RDS), never by a function of the stack's that could fail unseen; whether it succeeded shows only in AWS",
        evaluate: (r, all) => {
            if (r.type === T.db) {
                return managedSecretArn(r) ? "COMPLIANT" : ["NOT_APPLICABLE", "no RDS-managed secret"];
            }
            return all.referring(T.secretRotation, "secretId", r).length > 0
                ? ["NON_COMPLIANT", "rotated by a function of the stack"]
                : ["NOT_APPLICABLE", "no rotation configured"];
        },
    },
    {
        id: "secretsmanager-secret-unused",
        sources: ["FSBP SecretsManager.3", "Secrets Manager pack", "Security, identity and compliance pack"],
        types: [T.secret, T.db],
        condition:
            "NON_COMPLIANT if the secret was not read for unusedForDays (90); read from the program as: some task definition names it, so ECS reads it whenever a task starts (deployments, scaling, replacements, and the restart after each RDS rotation)",
        evaluate: (r, all) => {
            const arn = r.type === T.db ? managedSecretArn(r) : r.outputs.arn;
            if (r.type === T.db && !arn) {
                return ["NOT_APPLICABLE", "no RDS-managed secret"];
            }
            return readByATask(all, arn) ? "COMPLIANT" : ["NON_COMPLIANT", "no task reads it"];
        },
    },
    {
        id: "secretsmanager-secret-periodic-rotation",
        sources: ["FSBP SecretsManager.4", "Secrets Manager pack", "Security, identity and compliance pack"],
        types: [T.secret, T.db],
        condition:
            "NON_COMPLIANT if the secret was not rotated within maxDaysSinceRotation (90); a secret without rotation changes only when someone sets it anew, so it counts as failing",
        evaluate: (r, all) => {
            if (r.type === T.db) {
                return managedSecretArn(r) ? "COMPLIANT" : ["NOT_APPLICABLE", "no RDS-managed secret"];
            }
            return all.referring(T.secretRotation, "secretId", r).length > 0 ? "COMPLIANT" : ["NON_COMPLIANT", "never rotated"];
        },
        relaxedBy: storesSecretValues,
    },

    // SNS and KMS: FSBP SNS.*, KMS.*
    {
        id: "sns-encrypted-kms",
        sources: ["NIST 800-53 SNS.1 (retired from FSBP in April 2024)"],
        types: [T.topic],
        condition: "NON_COMPLIANT unless the topic is encrypted with a KMS key",
        evaluate: (t) => (t.inputs.kmsMasterKeyId ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "sns-topic-no-public-access",
        sources: ["FSBP SNS.4"],
        types: [T.topic],
        condition: "NON_COMPLIANT if the topic's policy allows anyone (principal * without a condition fixing the account)",
        evaluate: (t, all) =>
            all.referring(T.topicPolicy, "arn", t).some((p) => statements(p.inputs.policy).some(publicStatement)) ? "NON_COMPLIANT" : "COMPLIANT",
    },
    {
        id: "kms-key-policy-no-public-access",
        sources: ["FSBP KMS.5"],
        types: [T.kmsKey],
        condition: "NON_COMPLIANT if the key policy allows anyone (principal * without a condition fixing the account)",
        evaluate: (k) => (statements(k.inputs.policy).some(publicStatement) ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "iam-customer-policy-blocked-kms-actions",
        sources: ["FSBP KMS.1", "Security, identity and compliance pack"],
        types: [T.policy],
        condition: "NON_COMPLIANT if a customer managed policy allows kms:Decrypt or kms:ReEncryptFrom on all keys",
        evaluate: (p) =>
            statements(p.inputs.policy).some(
                (s) =>
                    s.Effect === "Allow" &&
                    list(s.Action).some((a) => /^kms:(Decrypt|ReEncryptFrom|\*)$|^\*$/.test(String(a))) &&
                    list(s.Resource).includes("*"),
            )
                ? "NON_COMPLIANT"
                : "COMPLIANT",
    },

    // SQS (the workers' queues): FSBP SQS.1, SQS.3, and the managed rule on dead-letter queues
    {
        id: "sqs-queue-encrypted",
        sources: ["FSBP SQS.1 (awsdocs/aws-security-hub-user-guide, doc_source/sqs-controls.md)"],
        types: [T.queue],
        condition: "NON_COMPLIANT unless the queue is encrypted at rest (a KMS key, or SQS-managed SSE)",
        evaluate: (q) => (q.inputs.kmsMasterKeyId || q.inputs.sqsManagedSseEnabled === true ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "sqs-queue-no-public-access",
        sources: ["FSBP SQS.3"],
        types: [T.queue],
        condition: "NON_COMPLIANT if the queue's access policy allows anyone (principal * without a condition fixing the account or source)",
        evaluate: (q, all) =>
            all
                .ofType(T.queuePolicy)
                .filter((p) => p.inputs.queueUrl === q.outputs.url)
                .some((p) => statements(p.inputs.policy).some(publicStatement))
                ? "NON_COMPLIANT"
                : "COMPLIANT",
    },
    {
        id: "sqs-queue-dlq-check",
        sources: ["AWS Config managed rule (https://docs.aws.amazon.com/config/latest/developerguide/sqs-queue-dlq-check.html)", "Control Tower CT.SQS.PR.1"],
        types: [T.queue],
        condition:
            "NON_COMPLIANT unless the queue redrives to a dead-letter queue; a dead-letter queue itself, which declares who may redrive to it (RedriveAllowPolicy), is exempt, as Control Tower's CT.SQS.PR.1 reads it",
        evaluate: (q) => {
            if (json(q.inputs.redriveAllowPolicy)?.redrivePermission !== undefined) {
                return "COMPLIANT";
            }
            const redrive = json(q.inputs.redrivePolicy);
            return redrive?.deadLetterTargetArn && Number(redrive.maxReceiveCount) >= 1 ? "COMPLIANT" : ["NON_COMPLIANT", "no redrive policy"];
        },
    },

    // Step Functions (the restart after a rotation): FSBP StepFunctions.1
    {
        id: "step-functions-state-machine-logging-enabled",
        sources: ["FSBP StepFunctions.1"],
        types: [T.stateMachine],
        condition: "NON_COMPLIANT unless logging is on (level ALL, ERROR or FATAL) to a CloudWatch Logs group (FSBP sets no logLevel)",
        evaluate: (m) =>
            ["ALL", "ERROR", "FATAL"].includes(m.inputs.loggingConfiguration?.level) && m.inputs.loggingConfiguration?.logDestination
                ? "COMPLIANT"
                : ["NON_COMPLIANT", `level ${m.inputs.loggingConfiguration?.level ?? "OFF"}`],
    },

    // S3 (the access-log bucket): Operational-Best-Practices-for-Amazon-S3.yaml and FSBP S3.*
    {
        id: "s3-bucket-level-public-access-prohibited",
        sources: ["FSBP S3.8", "S3 pack"],
        types: [T.bucket],
        condition: "NON_COMPLIANT unless the bucket blocks public ACLs and policies (all four settings)",
        evaluate: (b, all) =>
            all
                .referring(T.publicAccessBlock, "bucket", b)
                .some((p) => p.inputs.blockPublicAcls && p.inputs.blockPublicPolicy && p.inputs.ignorePublicAcls && p.inputs.restrictPublicBuckets)
                ? "COMPLIANT"
                : "NON_COMPLIANT",
    },
    {
        id: "s3-bucket-public-read-prohibited",
        sources: ["FSBP S3.2", "S3 pack"],
        types: [T.bucket],
        condition: "NON_COMPLIANT if the policy or ACLs allow public read",
        evaluate: (b, all) => (grantsPublicly(b, all, /^s3:(Get|List|\*)/) ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "s3-bucket-public-write-prohibited",
        sources: ["FSBP S3.3", "S3 pack"],
        types: [T.bucket],
        condition: "NON_COMPLIANT if the policy or ACLs allow public write",
        evaluate: (b, all) => (grantsPublicly(b, all, /^s3:(Put|Delete|\*)/) ? "NON_COMPLIANT" : "COMPLIANT"),
    },
    {
        id: "s3-bucket-ssl-requests-only",
        sources: ["FSBP S3.5", "S3 pack"],
        types: [T.bucket],
        condition: "NON_COMPLIANT unless the policy denies requests with aws:SecureTransport false",
        evaluate: (b, all) =>
            all
                .referring(T.bucketPolicy, "bucket", b)
                .some((p) => statements(p.inputs.policy).some((s) => s.Effect === "Deny" && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false"))
                ? "COMPLIANT"
                : "NON_COMPLIANT",
    },
    {
        id: "s3-bucket-blacklisted-actions-prohibited",
        sources: ["FSBP S3.6", "S3 pack"],
        types: [T.bucket],
        condition:
            "NON_COMPLIANT if the policy allows other principals s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration or s3:PutObjectAcl",
        evaluate: (b, all) => {
            const blocked = ["s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:PutEncryptionConfiguration", "s3:PutObjectAcl", "s3:*", "*"];
            return all
                .referring(T.bucketPolicy, "bucket", b)
                .some((p) => statements(p.inputs.policy).some((s) => s.Effect === "Allow" && list(s.Action).some((a) => blocked.includes(String(a)))))
                ? "NON_COMPLIANT"
                : "COMPLIANT";
        },
    },
    {
        id: "s3-bucket-server-side-encryption-enabled",
        sources: ["S3 pack (FSBP S3.4, retired: S3 encrypts by default)"],
        types: [T.bucket],
        condition: "NON_COMPLIANT if the bucket has no default encryption",
        evaluate: (b, all) => (all.referring(T.bucketEncryption, "bucket", b).length > 0 ? "COMPLIANT" : "NON_COMPLIANT"),
    },
    {
        id: "s3-bucket-acl-prohibited",
        sources: ["FSBP S3.12"],
        types: [T.bucket],
        condition: "NON_COMPLIANT if ACLs grant access (ownership other than BucketOwnerEnforced)",
        evaluate: (b, all) =>
            all.referring(T.ownership, "bucket", b).some((o) => o.inputs.rule?.objectOwnership === "BucketOwnerEnforced") ? "COMPLIANT" : "NON_COMPLIANT",
    },
    {
        id: "s3-lifecycle-policy-check",
        sources: ["FSBP S3.13"],
        types: [T.bucket],
        condition: "NON_COMPLIANT if the bucket has no enabled lifecycle rule",
        evaluate: (b, all) =>
            all.referring(T.bucketLifecycle, "bucket", b).some((l) => (list(l.inputs.rules) as any[]).some((r) => r.status === "Enabled"))
                ? "COMPLIANT"
                : "NON_COMPLIANT",
    },
];

/** Every rule's verdict on every resource it applies to. */
export function evaluateRules(resources: readonly Recorded[], rules: readonly Rule[] = RULES): Finding[] {
    const all = new Recording(resources);
    return rules.flatMap((rule) =>
        rule.types.flatMap((type) =>
            all.ofType(type).map((r): Finding => {
                const verdict = rule.evaluate(r, all);
                const [compliance, reason] = Array.isArray(verdict) ? verdict : [verdict, undefined];
                return { rule: rule.id, resource: `${r.type.split(":").pop()} ${r.name}`, compliance, reason };
            }),
        ),
    );
}

/** The rules with at least one NON_COMPLIANT resource, sorted. */
export function failingRules(findings: readonly Finding[]): string[] {
    return [...new Set(findings.filter((f) => f.compliance === "NON_COMPLIANT").map((f) => f.rule))].sort();
}

/** The rules `settings` relax, each with the setting that does. */
export function relaxedRules(settings: Settings, rules: readonly Rule[] = RULES): Map<string, string> {
    return new Map(
        rules.flatMap((r) => {
            const setting = r.relaxedBy?.(settings);
            return setting ? [[r.id, setting] as [string, string]] : [];
        }),
    );
}
