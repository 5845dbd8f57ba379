import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import { DEREGISTRATION_DELAY, TARGET_GROUP_HEALTH_CHECK } from "../../core/rollout";
import { TEST_TRAFFIC_HEADER, TRAFFIC_SHIFT_POLICY } from "../../core/rolloutStrategy";
import { DEFAULT_ROUTE_PRIORITY, testRulePriority, type JwtValidation } from "../../core/listenerRules";

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
    /** The rule's priority, 2-49999, unique on the listener with the one before it (the test rule's); ignored for the default route. */
    priority: number;
    /**
     * Requests must carry a JWT the ALB verifies (`jwt-validation` before the forward, on both rules); the
     * listener must be an HTTPS one.
     * @default none: every request is forwarded
     */
    jwt?: JwtValidation;
    /**
     * The managed policy (ARN) every IAM role this creates carries as its permissions boundary (`RoleBoundary`).
     * @default none
     */
    permissionsBoundary?: pulumi.Input<string>;
    /**
     * The IAM path of every role this creates: the stack's (`stackRolePath`), which the pipeline's deploy role
     * is limited to.
     * @default none: the provider's default path
     */
    rolePath?: string;
}

/** What `createAlbRoute` made. */
export interface AlbRouteParts {
    targetGroup: aws.lb.TargetGroup;
    rule: aws.lb.ListenerRule;
    egress: aws.vpc.SecurityGroupEgressRule;
    /** What ECS needs to run two versions behind the listener (see `TrafficShift`). */
    shift: TrafficShift;
}

/** The parts ECS's canary, linear and blue/green deployments of a public service work with. */
export interface TrafficShift {
    /** The second target group: each deployment registers the new version in the one not serving. */
    alternateTargetGroup: aws.lb.TargetGroup;
    /** Forwards requests that carry the test header to the new version while ECS tests it. */
    testRule: aws.lb.ListenerRule;
    /** The role ECS assumes to change the rules' weights and register targets. */
    role: aws.iam.Role;
    /** The managed policy's attachment: ECS can use the role only once it is there. */
    rolePolicy: aws.iam.RolePolicyAttachment;
}

/**
 * A public service's way in from the ALB: an IP target group with fast health checks and a short
 * deregistration delay (`rollout.ts`), the listener rule forwarding its path patterns (or everything) to it,
 * and the ALB's egress rule to the service's port; and what ECS's canary, linear and blue/green deployments
 * need (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html): an
 * alternate target group alike, a test rule on the same listener that forwards the same requests with the
 * test header (`TEST_TRAFFIC_HEADER`) to it, and the infrastructure role ECS shifts traffic with.
 *
 * Every public service has these parts, whatever its strategy: AWS's way from rolling updates to blue/green
 * for a load-balanced service is to give it the advanced configuration and run a rolling deployment first,
 * then change the strategy (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/update-rolling-to-bluegreen.html),
 * and back to rolling ECS keeps the load balancer configuration and the revision that serves
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/update-bluegreen-to-rolling.html). With the
 * parts always there, a change of strategy is a change of strategy and nothing else, in either direction.
 */
export function createAlbRoute(name: string, args: AlbRouteArgs, parent: pulumi.Resource): AlbRouteParts {
    const targetGroup = createTargetGroup(childName(name, "tg"), args, parent);
    const egress = new aws.vpc.SecurityGroupEgressRule(
        childName(name, "alb-out"),
        {
            securityGroupId: args.loadBalancerSecurityGroupId,
            description: `To ${name} on ${args.port}`,
            ipProtocol: "tcp",
            fromPort: args.port,
            toPort: args.port,
            referencedSecurityGroupId: args.serviceSecurityGroupId,
        },
        { parent },
    );
    const priority = isDefaultRoute(args) ? DEFAULT_ROUTE_PRIORITY : args.priority;
    // Same port as the primary group: the ALB's egress rule and the service's ingress rule cover both.
    const alternateTargetGroup = createTargetGroup(childName(name, "tg-alt"), args, parent);
    const rule = new aws.lb.ListenerRule(
        childName(name, "rule"),
        {
            listenerArn: args.listenerArn,
            priority,
            conditions: ruleConditions(args),
            actions: ruleActions(args.jwt, targetGroup),
        },
        { parent, ...followTargetGroups([targetGroup, alternateTargetGroup]) },
    );
    const testRule = new aws.lb.ListenerRule(
        childName(name, "test-rule"),
        {
            listenerArn: args.listenerArn,
            priority: testRulePriority(priority),
            conditions: [...ruleConditions(args), { httpHeader: { httpHeaderName: TEST_TRAFFIC_HEADER.name, values: [TEST_TRAFFIC_HEADER.value] } }],
            actions: ruleActions(args.jwt, alternateTargetGroup),
        },
        { parent, ...followTargetGroups([targetGroup, alternateTargetGroup]) },
    );
    const role = new aws.iam.Role(
        childName(name, "traffic-role"),
        {
            path: args.rolePath,
            permissionsBoundary: args.permissionsBoundary,
            description: `ECS moves ${name}'s traffic between its target groups during deployments`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ecs.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
        },
        { parent },
    );
    const rolePolicy = new aws.iam.RolePolicyAttachment(
        childName(name, "traffic-policy"),
        {
            role: role.name,
            policyArn: pulumi.interpolate`arn:${aws.getPartitionOutput({}, { parent }).partition}:iam::aws:${TRAFFIC_SHIFT_POLICY}`,
        },
        { parent },
    );
    return { targetGroup, rule, egress, shift: { alternateTargetGroup, testRule, role, rolePolicy } };
}

/**
 * The options of a listener rule that forwards to the service's target groups.
 *
 * ECS rewrites the forward action into weights over both target groups when it shifts traffic, and the live
 * weights are the only record of which group serves (aws/containers-roadmap#2853,
 * terraform-aws-modules/terraform-aws-alb#409): an update of the rule that sent Berth's first action again
 * would route production to a group that may be empty, so the actions are left as they are
 * (`ignoreChanges`). That would also leave the rule on the old groups when the groups are replaced (a new
 * port or VPC), and the replaced groups could not be deleted while a rule uses them. So a replacement of
 * either group replaces the rule too (`replaceWith`, https://www.pulumi.com/docs/iac/concepts/resources/options/replacewith/),
 * which then forwards to the new groups; delete first (`deleteBeforeReplace`), as the new rule takes the
 * old one's priority, unique on the listener. Requests fall to the listener's other rules between the two.
 */
function followTargetGroups(groups: aws.lb.TargetGroup[]): pulumi.CustomResourceOptions {
    return { ignoreChanges: ["actions"], replaceWith: groups, deleteBeforeReplace: true };
}

/**
 * The forward to the group, after the JWT check where the route asks for one: ALB performs a rule's actions in
 * their `order`, lowest first (the provider's `action.order`), and `jwt-validation` rejects an invalid token
 * before the forward is reached (hashicorp/terraform-provider-aws#45089 added the action to listener rules).
 */
export function ruleActions(jwt: JwtValidation | undefined, group: aws.lb.TargetGroup): aws.types.input.lb.ListenerRuleAction[] {
    const forward = { type: "forward", targetGroupArn: group.arn };
    if (jwt === undefined) {
        return [forward];
    }
    return [
        {
            type: "jwt-validation",
            order: 1,
            jwtValidation: {
                issuer: jwt.issuer,
                jwksEndpoint: jwt.jwksUrl,
                additionalClaims: jwt.audience === undefined ? undefined : [{ name: "aud", format: "single-string", values: [jwt.audience] }],
            },
        },
        { ...forward, order: 2 },
    ];
}

/** An IP target group with fast health checks and a short deregistration delay (`rollout.ts`). */
function createTargetGroup(logicalName: string, args: AlbRouteArgs, parent: pulumi.Resource): aws.lb.TargetGroup {
    return new aws.lb.TargetGroup(
        logicalName,
        {
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
        },
        { parent },
    );
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
