import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import { MANAGED_RULE_GROUPS } from "../../core/managedRuleGroups";

export interface WebAclArgs {
    /** The ALB to protect. */
    resourceArn: pulumi.Input<string>;
    /**
     * Requests one client address may make in 5 minutes before the web ACL blocks it for a while.
     * @default 2000
     */
    rateLimit?: number;
}

/**
 * An AWS WAF web ACL on the ALB (alb-waf-enabled).
 *
 * Creates: a regional web ACL that allows by default and runs a rate-based rule per client address, then
 * the AWS managed rule groups above, with CloudWatch metrics and sampled requests on every rule; and its
 * association with the ALB. The Common rule set's `SizeRestrictions_BODY` blocks bodies over 8 KB
 * (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html); the
 * services take bodies up to 64 KiB (the gateway 1 MiB), so that one rule only counts.
 */
export class WebAcl extends pulumi.ComponentResource {
    public readonly arn: pulumi.Output<string>;

    constructor(name: string, args: WebAclArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:waf:WebAcl", name, {}, opts);
        const rateLimit = args.rateLimit ?? 2000;
        // AWS WAF's bounds for a rate-based rule's limit.
        if (!Number.isInteger(rateLimit) || rateLimit < 10 || rateLimit > 2_000_000_000) {
            throw new Error(`WebAcl "${name}": "rateLimit" must be 10 to 2000000000 requests per 5 minutes, got ${rateLimit}`);
        }
        const metrics = (metric: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${name}-${metric}` });
        const acl = new aws.wafv2.WebAcl(
            childName(name, "waf"),
            {
                scope: "REGIONAL",
                description: `Protects the ALB of ${name}`,
                defaultAction: { allow: {} },
                rules: [
                    {
                        name: "rate-limit-per-address",
                        priority: 0,
                        action: { block: {} },
                        statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
                        visibilityConfig: metrics("rate-limit"),
                    },
                    ...MANAGED_RULE_GROUPS.map((group, i) => ({
                        name: group,
                        priority: i + 1,
                        overrideAction: { none: {} },
                        statement: {
                            managedRuleGroupStatement: {
                                vendorName: "AWS",
                                name: group,
                                ruleActionOverrides:
                                    group === "AWSManagedRulesCommonRuleSet" ? [{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }] : undefined,
                            },
                        },
                        visibilityConfig: metrics(group),
                    })),
                ],
                visibilityConfig: metrics("web-acl"),
            },
            { parent: this },
        );
        new aws.wafv2.WebAclAssociation(
            childName(name, "waf-alb"),
            {
                resourceArn: args.resourceArn,
                webAclArn: acl.arn,
            },
            { parent: this },
        );
        this.arn = acl.arn;
        this.registerOutputs({ arn: this.arn });
    }
}
