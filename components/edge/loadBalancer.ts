import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

export interface LoadBalancerArgs {
    /** The VPC the ALB's security group belongs to. */
    vpcId: pulumi.Input<string>;
    /** Public subnets in at least two AZs. */
    subnetIds: pulumi.Input<string>[];
    /**
     * An ACM certificate in the stack's region. With one, the ALB serves HTTPS on 443 and HTTP on 80 only
     * redirects to it.
     */
    certificateArn?: pulumi.Input<string>;
    /**
     * Alias records pointing names of a Route 53 hosted zone at the ALB (an A record each; the ALB is IPv4
     * only, so no AAAA).
     * @default none
     */
    aliases?: { zoneId: pulumi.Input<string>; names: string[] };
    /**
     * Where the ALB writes its access logs (see `AccessLogBucket`); the ALB waits for `ready`.
     * @default none
     */
    accessLogs?: { bucket: pulumi.Input<string>; prefix: string; ready: pulumi.Resource[] };
    /**
     * Refuse to delete the ALB (and so `pulumi destroy`) while on.
     * @default false
     */
    deletionProtection?: boolean;
    /**
     * Seconds an idle client connection stays open.
     * @default 60
     */
    idleTimeout?: number;
    /**
     * What the ALB waits for: the Internet gateway's attachment and the public subnets' routes
     * (`Network.publicRoutes`). Creating an internet-facing ALB in a VPC without an attached gateway fails
     * with `InvalidSubnet`; the same edge makes destroy remove the ALB before the gateway.
     * @default []
     */
    publicRoutes?: pulumi.Resource[];
    /**
     * `pulumi destroy` refuses to delete the ALB (Pulumi's `protect`), before it deletes anything that
     * depends on it.
     * @default false
     */
    protect?: boolean;
}

/** The HTTPS listener's security policy: TLS 1.3 and 1.2, forward secrecy. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The body the ALB answers when no service's rule matches: the same error shape as the services'. */
export const NOT_FOUND_BODY = JSON.stringify({ error: { code: "not_found", message: "No service answers this path" } });

/**
 * The public entry point: an internet-facing Application Load Balancer.
 *
 * Creates: a security group that admits 80 (and 443 with a certificate) from anywhere and nothing else,
 * the ALB in the public subnets (dropping invalid header fields, defensive desync mitigation, access logs
 * when given a bucket), an HTTP listener and, with a certificate, an HTTPS listener to which HTTP
 * redirects, and alias records for the given names. The listener that serves traffic answers a fixed JSON 404 by default;
 * services add their own rules to it (see `FargateService`).
 */
export class LoadBalancer extends pulumi.ComponentResource {
    public readonly arn: pulumi.Output<string>;
    /** `app/<name>/<id>`: the `LoadBalancer` dimension of its metrics and half of a request-count scaling label. */
    public readonly arnSuffix: pulumi.Output<string>;
    public readonly dnsName: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    /** The listener services attach their rules to: HTTPS with a certificate, else HTTP. */
    public readonly listenerArn: pulumi.Output<string>;
    /** `https` with a certificate, else `http`. */
    public readonly scheme: "http" | "https";

    private readonly name: string;

    constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:loadBalancer:LoadBalancer", name, {}, opts);
        this.name = name;
        if (args.subnetIds.length < 2) {
            throw new Error(`LoadBalancer "${name}": "subnetIds" must list subnets in at least 2 AZs, got ${args.subnetIds.length}`);
        }
        this.scheme = args.certificateArn === undefined ? "http" : "https";

        const securityGroup = this.createSecurityGroup(args.vpcId);
        const alb = new aws.lb.LoadBalancer(
            childName(name, "alb"),
            {
                loadBalancerType: "application",
                internal: false,
                subnets: args.subnetIds,
                securityGroups: [securityGroup.id],
                dropInvalidHeaderFields: true,
                // AWS's default, said here so that alb-desync-mode-check reads it from the program too.
                desyncMitigationMode: "defensive",
                enableDeletionProtection: args.deletionProtection ?? false,
                idleTimeout: args.idleTimeout ?? 60,
                accessLogs: args.accessLogs ? { bucket: args.accessLogs.bucket, prefix: args.accessLogs.prefix, enabled: true } : undefined,
            },
            {
                parent: this,
                dependsOn: [...(args.publicRoutes ?? []), ...(args.accessLogs?.ready ?? [])],
                protect: args.protect ?? false,
            },
        );

        const listener = args.certificateArn === undefined ? this.createHttpListener(alb) : this.createHttpsListeners(alb, args.certificateArn);

        for (const [i, host] of (args.aliases?.names ?? []).entries()) {
            new aws.route53.Record(
                childName(name, "alias", i),
                {
                    zoneId: args.aliases!.zoneId,
                    name: host,
                    type: "A",
                    aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
                },
                { parent: this },
            );
        }

        this.arn = alb.arn;
        this.arnSuffix = alb.arnSuffix;
        this.dnsName = alb.dnsName;
        this.securityGroupId = securityGroup.id;
        this.listenerArn = listener.arn;
        this.registerOutputs({
            arn: this.arn,
            arnSuffix: this.arnSuffix,
            dnsName: this.dnsName,
            securityGroupId: this.securityGroupId,
            listenerArn: this.listenerArn,
        });
    }

    private createSecurityGroup(vpcId: pulumi.Input<string>): aws.ec2.SecurityGroup {
        const sg = new aws.ec2.SecurityGroup(
            childName(this.name, "alb-sg"),
            {
                vpcId,
                // Rules are separate resources (inline ones would fight them on every update). AWS's default
                // allow-all egress rule is removed at creation: each public service adds egress to its own port.
                description: "Public ALB: HTTP(S) from anywhere",
            },
            { parent: this },
        );
        const ports = this.scheme === "https" ? [80, 443] : [80];
        for (const port of ports) {
            new aws.vpc.SecurityGroupIngressRule(
                childName(this.name, `alb-in-${port}`),
                {
                    securityGroupId: sg.id,
                    description: `HTTP${port === 443 ? "S" : ""} from the internet`,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    cidrIpv4: "0.0.0.0/0",
                },
                { parent: this },
            );
        }
        return sg;
    }

    private createHttpListener(alb: aws.lb.LoadBalancer): aws.lb.Listener {
        return new aws.lb.Listener(
            childName(this.name, "http"),
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [notFound()],
            },
            { parent: this },
        );
    }

    private createHttpsListeners(alb: aws.lb.LoadBalancer, certificateArn: pulumi.Input<string>): aws.lb.Listener {
        new aws.lb.Listener(
            childName(this.name, "http"),
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [
                    {
                        type: "redirect",
                        redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" },
                    },
                ],
            },
            { parent: this },
        );
        return new aws.lb.Listener(
            childName(this.name, "https"),
            {
                loadBalancerArn: alb.arn,
                port: 443,
                protocol: "HTTPS",
                // TLS 1.3 and 1.2 only, AWS's recommended policy
                // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html).
                sslPolicy: TLS_POLICY,
                certificateArn,
                defaultActions: [notFound()],
            },
            { parent: this },
        );
    }
}

function notFound(): aws.types.input.lb.ListenerDefaultAction {
    return {
        type: "fixed-response",
        fixedResponse: { contentType: "application/json", statusCode: "404", messageBody: NOT_FOUND_BODY },
    };
}
