/**
 * What the acceptance run reads of the account (the production rule's target groups, the resources still
 * tagged with the stack) and how a step fails; `acceptanceRun.ts` holds the plan.
 */
import {
    DescribeListenersCommand,
    DescribeLoadBalancersCommand,
    DescribeRulesCommand,
    DescribeTargetHealthCommand,
    type DescribeListenersCommandOutput,
    type DescribeLoadBalancersCommandOutput,
    type DescribeRulesCommandOutput,
    type DescribeTargetHealthCommandOutput,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetResourcesCommand, type GetResourcesCommandOutput } from "@aws-sdk/client-resource-groups-tagging-api";

/** The ELBv2 calls the run makes (an `ElasticLoadBalancingV2Client` has them all). */
export interface ElbClient {
    send(command: DescribeLoadBalancersCommand): Promise<DescribeLoadBalancersCommandOutput>;
    send(command: DescribeListenersCommand): Promise<DescribeListenersCommandOutput>;
    send(command: DescribeRulesCommand): Promise<DescribeRulesCommandOutput>;
    send(command: DescribeTargetHealthCommand): Promise<DescribeTargetHealthCommandOutput>;
}

/** The Resource Groups Tagging API call the run makes. */
export interface TaggingClient {
    send(command: GetResourcesCommand): Promise<GetResourcesCommandOutput>;
}

/** The strategy of the shifting releases: all traffic moves at once, so one target group serves after each. */
export const SHIFT_STRATEGY = "blueGreen";

/** A step that went wrong: its message is the step's detail. */
export class StepFailure extends Error {}

/** Ends the step with `message` as its detail. */
export function fail(message: string): never {
    throw new StepFailure(message);
}

/** Which target groups the production rule of a public service forwards to, with their weights and healthy targets. */
export interface Serving {
    targetGroupArn: string;
    weight: number;
    healthy: number;
}

/**
 * Reads the production rule of the service through ELBv2: the load balancer whose DNS name the URL has, its
 * listener (HTTPS if there is one), the rule at the service's priority, its forward weights and each group's
 * healthy targets.
 */
export async function productionForward(elb: ElbClient, url: string, priority: number): Promise<Serving[]> {
    const host = new URL(url).hostname.toLowerCase();
    let marker: string | undefined;
    let arn: string | undefined;
    do {
        const page = await elb.send(new DescribeLoadBalancersCommand({ Marker: marker }));
        arn = page.LoadBalancers?.find((lb) => lb.DNSName?.toLowerCase() === host)?.LoadBalancerArn;
        marker = page.NextMarker;
    } while (!arn && marker);
    if (!arn) {
        return fail(`no load balancer has the DNS name ${host} (a URL on a domain: the run reads the ALB's rules by its DNS name)`);
    }
    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? [];
    const listener = listeners.find((l) => l.Protocol === "HTTPS") ?? listeners.find((l) => l.Protocol === "HTTP");
    if (!listener?.ListenerArn) {
        return fail(`the load balancer ${arn} has no HTTP(S) listener`);
    }
    const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules ?? [];
    const rule = rules.find((r) => r.Priority === String(priority));
    const forward = rule?.Actions?.find((a) => a.Type === "forward");
    // A forward to one group may come as TargetGroupArn alone, without ForwardConfig
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html).
    const groups = forward?.ForwardConfig?.TargetGroups ?? (forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
    if (groups.length === 0) {
        return fail(`the listener ${listener.ListenerArn} has no forwarding rule at priority ${priority}`);
    }
    const out: Serving[] = [];
    for (const group of groups) {
        const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }));
        out.push({
            targetGroupArn: group.TargetGroupArn!,
            weight: group.Weight ?? 1,
            healthy: (health.TargetHealthDescriptions ?? []).filter((t) => t.TargetHealth?.State === "healthy").length,
        });
    }
    return out;
}

/** The one group taking all production traffic with healthy targets, or what is wrong. */
export function servingGroup(forward: readonly Serving[]): string {
    const weighted = forward.filter((g) => g.weight > 0);
    if (weighted.length !== 1) {
        return fail(
            `the production rule splits traffic over ${weighted.length} target groups (${forward.map((g) => `${shortArn(g.targetGroupArn)}: ${g.weight}`).join(", ")}); expected all of it on one after a ${SHIFT_STRATEGY} release`,
        );
    }
    if (weighted[0].healthy === 0) {
        return fail(`the production rule forwards to ${shortArn(weighted[0].targetGroupArn)}, which has no healthy target`);
    }
    return weighted[0].targetGroupArn;
}

export const shortArn = (arn: string) => arn.replace(/^.*:targetgroup\//, "");

/**
 * Task definition revisions stay registered on purpose (`skipDestroy`, components/service/taskDefinition.ts: the
 * circuit breaker rolls back to them); they cost nothing and are not counted as left over.
 */
export const KEPT_ON_PURPOSE = /^arn:aws[a-z-]*:ecs:[^:]+:\d+:task-definition\//;

/** Every ARN the Tagging API lists with both tags, over all pages. */
export async function taggedResources(tagging: TaggingClient, project: string, stack: string): Promise<string[]> {
    const arns: string[] = [];
    let token: string | undefined;
    do {
        const page = await tagging.send(
            new GetResourcesCommand({
                TagFilters: [
                    { Key: "project", Values: [project] },
                    { Key: "stack", Values: [stack] },
                ],
                PaginationToken: token,
            }),
        );
        arns.push(...(page.ResourceTagMappingList ?? []).map((r) => r.ResourceARN!).filter(Boolean));
        token = page.PaginationToken || undefined;
    } while (token);
    return arns;
}
