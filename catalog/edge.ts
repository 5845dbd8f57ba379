/** `berth:edge`: the gateway service, or the ALB's own listener rules in its place, and what each needs of the catalogue. */
import { DEFAULT_ROUTE_PRIORITY, MAX_RULE_VALUES, MAX_RULES_PER_LOAD_BALANCER, rulePriority, testRulePriority } from "../core/listenerRules";
import type { CatalogService } from "./types";

/**
 * What routes requests from the ALB to the backends' `routes`: the gateway service (`gateway`), or the ALB's own
 * listener rules (`alb`), with no gateway deployed.
 */
export const EDGES = ["gateway", "alb"] as const;
export type Edge = (typeof EDGES)[number];

/** What the ALB needs to know of the stack to take the gateway's place. */
export interface AlbEdgeContext {
    /** The stack has an HTTPS listener (a certificate, or a domain with its hosted zone). */
    https: boolean;
    /** The stack gives the ALB the JWT issuer and JWKS (`berth:edgeJwt`). */
    jwt: boolean;
}

/** The ALB path patterns of a gateway route: the prefix itself and everything under it. */
export function routePatterns(route: string): string[] {
    return [route, `${route}/*`];
}

/**
 * Why the ALB cannot take the gateway's place for this catalogue, one reason per service (empty: it can). The
 * ALB routes by path and verifies JWTs, so an API-key route, a JWT route on a stack without HTTPS, and a
 * routed backend that another service also calls through Service Connect stay with the gateway; so does a
 * route table that does not fit in ALB rules (5 condition values per rule, 100 rules per load balancer).
 * Each reason ends with `allowed: ...`, to follow the setting's key and value.
 */
export function albEdgeProblems(services: readonly CatalogService[], context: AlbEdgeContext): string[] {
    const problems: string[] = [];
    const routed = services.filter((s) => s.kind === "backend" && s.routes.length > 0);
    for (const s of routed) {
        if (s.auth === "apiKey") {
            problems.push(
                `service "${s.name}" requires an API key on ${s.routes.join(", ")}, which only the gateway checks (the ALB verifies JWTs alone); allowed: "gateway" for this catalogue, or "auth" none or jwt on "${s.name}"`,
            );
        } else if (s.auth === "jwt" && !context.https) {
            problems.push(
                `service "${s.name}" requires a JWT on ${s.routes.join(", ")}, and the ALB verifies JWTs on HTTPS listeners only while this stack serves HTTP only; allowed: "gateway", or "alb" with berth:domain and berth:hostedZoneId (or berth:certificateArn)`,
            );
        } else if (s.auth === "jwt" && !context.jwt) {
            problems.push(
                `service "${s.name}" requires a JWT on ${s.routes.join(", ")}, and berth:edgeJwt is not set; allowed: "gateway", or "alb" with berth:edgeJwt naming the issuer and its JWKS URL`,
            );
        }
        // The test rule adds its header to the patterns (components/edge/albRoute.ts).
        const values = s.routes.length * routePatterns("/").length;
        if (values + 1 > MAX_RULE_VALUES) {
            problems.push(
                `service "${s.name}" has ${s.routes.length} routes, ${values} ALB path patterns, and one ALB rule takes at most ${MAX_RULE_VALUES} condition values, the test header among them; allowed: "gateway", or "alb" with at most ${Math.floor((MAX_RULE_VALUES - 1) / routePatterns("/").length)} routes per backend`,
            );
        }
        const callers = services.filter((c) => !c.gateway && c.calls.includes(s.name)).map((c) => c.name);
        if (callers.length > 0) {
            problems.push(
                `service "${s.name}" is routed and also called by ${callers.join(", ")} through Service Connect, and behind the ALB it has no Service Connect name; allowed: "gateway" for this catalogue, or "alb" with "${s.name}" called by no other service`,
            );
        }
    }
    const publicRules = services.filter((s) => s.kind === "public" && !s.gateway).length + routed.length;
    if (problems.length === 0 && 2 * publicRules > MAX_RULES_PER_LOAD_BALANCER) {
        problems.push(
            `the ALB would hold ${2 * publicRules} rules (a rule and a test rule per service), above its ${MAX_RULES_PER_LOAD_BALANCER}; allowed: "gateway"`,
        );
    }
    if (problems.length === 0) {
        const taken = new Map<number, string>();
        const clashes = new Set<string>();
        for (const s of albEdgeCatalog(services).filter((x) => x.kind === "public")) {
            const own = s.priority ?? DEFAULT_ROUTE_PRIORITY;
            for (const p of [own, testRulePriority(own)]) {
                const other = taken.get(p);
                if (other !== undefined && other !== s.name && !clashes.has(`${other} ${s.name}`)) {
                    clashes.add(`${other} ${s.name}`);
                    problems.push(
                        `services "${other}" and "${s.name}" would share listener rule priority ${p} behind the ALB (a backend's priority derives from its name); allowed: "gateway", or "alb" with another "priority" on "${other}" if it is a public service, or another name for one of them`,
                    );
                }
                taken.set(p, s.name);
            }
        }
    }
    return problems;
}

/**
 * The catalogue as the stack deploys it with `berth:edge` `alb`: no gateway, and each backend the gateway
 * routed a public service of its own, on the ALB path patterns of its routes (`/users` and `/users/*`) with
 * the listener rule priority derived from its name, so that it has what every public service has (target
 * groups, test rule, alarms, request-count scaling, dashboard widgets). Its `auth` stays, for the ALB's JWT
 * check. Call it only on a catalogue `albEdgeProblems` accepts.
 */
export function albEdgeCatalog(services: readonly CatalogService[]): CatalogService[] {
    const gateways = new Set(services.filter((s) => s.gateway).map((s) => s.name));
    return services
        .filter((s) => !s.gateway)
        .map((s): CatalogService => {
            const calls = s.calls.filter((c) => !gateways.has(c));
            if (s.kind !== "backend" || s.routes.length === 0) {
                return { ...s, calls };
            }
            return {
                ...s,
                kind: "public",
                pathPatterns: s.routes.flatMap(routePatterns),
                priority: rulePriority(s.name),
                readinessGate: undefined,
                calls,
            };
        });
}

/** The catalogue the stack deploys behind the given edge. */
export function deployedCatalog(services: readonly CatalogService[], edge: Edge): readonly CatalogService[] {
    return edge === "alb" ? albEdgeCatalog(services) : services;
}
