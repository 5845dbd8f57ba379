import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "./naming";
import { DEREGISTRATION_DELAY, TARGET_GROUP_HEALTH_CHECK } from "./rollout";

/** The last priority an ALB rule may have: the default route's rule takes it so that every other rule wins. */
export const DEFAULT_ROUTE_PRIORITY = 50000;

/** Where priorities derived from a name fall; below it, room for priorities a team declares by hand. */
export const DERIVED_PRIORITIES = { from: 1000, to: DEFAULT_ROUTE_PRIORITY - 1 } as const;

/**
 * A listener rule priority derived from the service's name alone (FNV-1a), so that adding or removing
 * another service never moves this one's rule: ALB priorities are unique per listener, and a shifted
 * priority makes the next update race into `PriorityInUse`. The catalogue detects two names that collide.
 */
export function rulePriority(name: string): number {
    let hash = 0x811c9dc5;
    for (const char of Buffer.from(name, "utf8")) {
        hash ^= char;
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return DERIVED_PRIORITIES.from + (hash % (DERIVED_PRIORITIES.to - DERIVED_PRIORITIES.from + 1));
}

export interface AlbRouteArgs {
    /** The VPC of the target group. */
    vpcId: pulumi.Input<string>;
    /** The listener to add the rule to. */
    listenerArn: pulumi.Input<string>;
    /** The ALB's security group: it gets an egress rule to the service's port. */
    loadBalancerSecurityGroupId: pulumi.Input<string>;
    /** The service's security group, the egress rule's destination. */
    serviceSecurityGroupId: pulumi.Input<string>;
    /** The container port. */
    port: number;
    /** The path the ALB's health check requests; it must answer 200. */
    healthPath: string;
    /** ALB path patterns (at most 5). Empty, with no `hostNames`: the default route, a catch-all rule with the last priority. */
    pathPatterns: readonly string[];
    /**
     * Host names the rule matches (the `Host` header), e.g. `["admin.example.com"]`; with `pathPatterns`, both
     * must match. An ALB rule takes at most 5 values over all its conditions.
     * @default []
     */
    hostNames?: readonly string[];
    /** The rule's priority, 1-49999, unique on the listener; ignored for the default route. */
    priority: number;
}

/** What `createAlbRoute` made. */
export interface AlbRouteParts {
    targetGroup: aws.lb.TargetGroup;
    rule: aws.lb.ListenerRule;
    egress: aws.vpc.SecurityGroupEgressRule;
}

/**
 * A public service's way in from the ALB: an IP target group with fast health checks and a short
 * deregistration delay (`rollout.ts`), the listener rule forwarding its path patterns (or everything) to it,
 * and the ALB's egress rule to the service's port.
 */
export function createAlbRoute(name: string, args: AlbRouteArgs, parent: pulumi.Resource): AlbRouteParts {
    const targetGroup = new aws.lb.TargetGroup(childName(name, "tg"), {
        vpcId: args.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port: args.port,
        deregistrationDelay: DEREGISTRATION_DELAY,
        healthCheck: {
            enabled: true,
            protocol: "HTTP",
            port: "traffic-port",
            path: args.healthPath,
            matcher: "200",
            ...TARGET_GROUP_HEALTH_CHECK,
        },
    }, { parent });
    const egress = new aws.vpc.SecurityGroupEgressRule(childName(name, "alb-out"), {
        securityGroupId: args.loadBalancerSecurityGroupId,
        description: `To ${name} on ${args.port}`,
        ipProtocol: "tcp",
        fromPort: args.port,
        toPort: args.port,
        referencedSecurityGroupId: args.serviceSecurityGroupId,
    }, { parent });
    const rule = new aws.lb.ListenerRule(childName(name, "rule"), {
        listenerArn: args.listenerArn,
        priority: isDefaultRoute(args) ? DEFAULT_ROUTE_PRIORITY : args.priority,
        conditions: ruleConditions(args),
        actions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
    }, { parent });
    return { targetGroup, rule, egress };
}

function isDefaultRoute(args: Pick<AlbRouteArgs, "pathPatterns" | "hostNames">): boolean {
    return args.pathPatterns.length === 0 && (args.hostNames ?? []).length === 0;
}

/** The rule's conditions: its host names and its path patterns, or every path for the default route. */
export function ruleConditions(args: Pick<AlbRouteArgs, "pathPatterns" | "hostNames">): aws.types.input.lb.ListenerRuleCondition[] {
    if (isDefaultRoute(args)) {
        return [{ pathPattern: { values: ["/*"] } }];
    }
    const hosts = args.hostNames ?? [];
    return [
        ...(hosts.length > 0 ? [{ hostHeader: { values: [...hosts] } }] : []),
        ...(args.pathPatterns.length > 0 ? [{ pathPattern: { values: [...args.pathPatterns] } }] : []),
    ];
}
