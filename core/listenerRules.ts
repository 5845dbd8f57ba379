/** The ALB listener rules' priorities and limits, and what a rule's JWT validation checks: pure, for the catalogue and the components. */

/** The last priority an ALB rule may have: the default route's rule takes it so that every other rule wins. */
export const DEFAULT_ROUTE_PRIORITY = 50000;

/** Where priorities derived from a name fall; below it, room for priorities a team declares by hand. */
export const DERIVED_PRIORITIES = { from: 1000, to: DEFAULT_ROUTE_PRIORITY - 1 } as const;

/**
 * Condition values an ALB rule takes over all its conditions ("Condition values per rule", not adjustable:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
 */
export const MAX_RULE_VALUES = 5;

/**
 * Rules an ALB holds besides its listeners' default rules ("Rules per Application Load Balancer", 100, not
 * adjustable: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
 */
export const MAX_RULES_PER_LOAD_BALANCER = 100;

/**
 * What the ALB's `jwt-validation` action checks before it forwards: the signature against the issuer's JWKS
 * (RS256 only), `iss` and `exp` always, and here `aud` as one more claim; a valid token reaches the target as
 * it came (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-verify-jwt.html).
 * The action runs on HTTPS listeners only, as the same guide's console steps state.
 */
export interface JwtValidation {
    /** The `iss` a token must carry. */
    issuer: string;
    /** The issuer's JWKS, an https URL the ALB can reach (at most 10 keys, 150 KB). */
    jwksUrl: string;
    /**
     * The `aud` a token must carry, as one string.
     * @default not checked
     */
    audience?: string;
}

/**
 * The priority of a service's test listener rule: just before its production rule, so that it sees the same
 * requests in the same order relative to every other service's rule, and takes those with the test header.
 */
export function testRulePriority(priority: number): number {
    return priority - 1;
}

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
