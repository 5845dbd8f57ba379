/**
 * The service catalogue: the one list of the services Berth ships.
 *
 * The infrastructure (`index.ts`), the local runner (`npm start`) and the tests all read it, so adding a
 * service takes one folder under `services/` and one entry in `declarations` below.
 *
 * The two kinds keep AWS Copilot's vocabulary:
 * - `public` is a Load Balanced Web Service: its tasks sit behind the public ALB, on path patterns or the
 *   listener's default route.
 * - `backend` is a Backend Service: private, reachable only by name through service discovery, and only
 *   from the services that call it.
 * - `worker` is a Worker Service: no port, it consumes its queue, which the topics it `subscribes` to feed
 *   (any service may declare the topics it `publishes`; see catalog/messaging.ts and docs/workers.md).
 */
import * as path from "path";
import {
    AUTH_MODES,
    DATABASE_SECRET_VARIABLE,
    DATABASE_TLS_VARIABLE,
    DEFAULT_DATABASE_ENV as DEFAULT_DATABASE_VARIABLES,
    type AuthMode,
} from "@berth/kit/contract";
import { DEFAULT_ROUTE_PRIORITY, MAX_RULE_VALUES, rulePriority, testRulePriority } from "../core/listenerRules";
import { misplacedParameters, parseRolloutChoice, type RolloutChoice } from "../core/rolloutStrategy";
import { SERVICE_KINDS, type ServiceKind } from "../core/serviceKind";
import { resolveJobs, type CatalogJob, type JobDeclaration } from "./jobs";
import { messagingProblems } from "./messaging";
import type { CatalogService, ServiceDeclaration } from "./types";

export type { DatabaseEnvNames as DatabaseVariables } from "@berth/kit/contract";
export * from "./edge";
export * from "./environment";
export type { CatalogJob, JobDeclaration } from "./jobs";
export type { CatalogService, ServiceDeclaration } from "./types";
export { SERVICE_KINDS, type ServiceKind };

/**
 * Who may call a backend's routes through the gateway: anyone (`none`), a bearer of a JWT the gateway
 * verifies (`jwt`), or a holder of an API key (`apiKey`). Where the keys come from: the gateway's
 * `AUTH_*` environment variables (docs/gateway.md, "Authentication").
 */
export { AUTH_MODES, type AuthMode };

/** The services Berth ships. Add yours here, next to its folder `services/<name>/`. */
export const declarations: ServiceDeclaration[] = [
    { name: "api", kind: "public", gateway: true },
    { name: "users", kind: "backend", routes: ["/users"], database: true },
    { name: "products", kind: "backend", routes: ["/products"], database: true, publishes: ["product-changed"] },
    // Keeps an audit of the products created and deleted (docs/workers.md).
    { name: "product-events", kind: "worker", subscribes: ["product-changed"] },
];

const NAME = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
/** An environment variable name as POSIX shells and ECS take it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Variables Berth sets itself, which a database variable must not shadow: on every service (`PORT`, `HOST`),
 * on the gateway (`ROUTES`), on every database user (`DB_SSL`, `DB_SECRET_ARN`), and locally (`DATABASE_URL`, `DB_POOL_MAX`).
 */
const RESERVED_VARIABLES: readonly string[] = ["PORT", "HOST", "ROUTES", "DATABASE_URL", "DB_POOL_MAX", DATABASE_TLS_VARIABLE, DATABASE_SECRET_VARIABLE];

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ROUTE = /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

/**
 * A catalogue that Berth cannot deploy, with every problem found: each names the service and the field, in
 * the same form as a stack configuration's `ConfigError`.
 */
export class CatalogError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid service catalogue (catalog/index.ts):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "CatalogError";
    }
}

/** Applies defaults and checks the declarations; throws a CatalogError listing every problem at once. */
export function resolveCatalog(decls: readonly ServiceDeclaration[]): CatalogService[] {
    if (decls.length === 0) {
        throw new CatalogError(["the catalogue declares no service"]);
    }
    const problems = [...decls.flatMap((d) => declarationProblems(d)), ...catalogueProblems(decls)];
    const routed = decls.filter((d) => (d.routes ?? []).length > 0).map((d) => d.name);
    const services = decls.map((d) => resolveService(d, routed));
    problems.push(...priorityClashes(services));
    const { blocked } = orderOf(services);
    if (blocked.length > 0) {
        problems.push(cycleProblem(findCycle(blocked)));
    }
    if (problems.length > 0) {
        throw new CatalogError(problems);
    }
    return services;
}

/** What is wrong with one declaration taken alone. */
function declarationProblems(d: ServiceDeclaration): string[] {
    const where = `service "${d.name}"`;
    const problems: string[] = [];
    const report = (message: string) => problems.push(`${where}: ${message}`);
    if (!NAME.test(d.name)) {
        report('"name" must be 1-16 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen');
    }
    if (d.port !== undefined && (!Number.isInteger(d.port) || d.port < 1024 || d.port > 65535)) {
        report(`"port" is ${d.port}; allowed: a whole number from 1024 to 65535 (tasks run as a non-root user)`);
    }
    if (d.healthPath !== undefined && !d.healthPath.startsWith("/")) {
        report(`"healthPath" is "${d.healthPath}"; it must start with "/"`);
    }
    if (d.auth !== undefined && !AUTH_MODES.includes(d.auth)) {
        report(`"auth" is ${JSON.stringify(d.auth)}; allowed: ${AUTH_MODES.join(", ")}`);
    }
    if (d.user !== undefined && (!/^[0-9]+(:[0-9]+)?$/.test(d.user) || /^0(:|$)/.test(d.user))) {
        report(`"user" is "${d.user}"; allowed: a non-root numeric uid or uid:gid such as "10001:10001"`);
    }
    for (const [key, value] of Object.entries(d.build ?? {})) {
        if (path.isAbsolute(value) || path.posix.normalize(value).startsWith("..")) {
            report(`"build.${key}" is "${value}"; allowed: a path inside the repository, relative to its root`);
        }
    }
    if (!(SERVICE_KINDS as readonly string[]).includes(d.kind)) {
        report(`"kind" is ${JSON.stringify(d.kind)}; allowed: ${SERVICE_KINDS.join(", ")}`);
    }
    workerProblems(d).forEach(report);
    kindProblems(d).forEach(report);
    ruleProblems(d).forEach(report);
    for (const route of d.routes ?? []) {
        if (!ROUTE.test(route)) {
            report(`route "${route}" must be a path such as "/users" (no trailing slash, no wildcard)`);
        }
    }
    [...databaseProblems(d.database), ...rolloutProblems(d.rollout), ...probeProblems(d)].forEach(report);
    return problems;
}

/** Fields that belong to the other kind of service. */
function kindProblems(d: ServiceDeclaration): string[] {
    if (d.kind === "backend") {
        return d.pathPatterns || d.gateway || d.priority !== undefined || d.subdomain !== undefined
            ? ['"pathPatterns", "subdomain", "priority" and "gateway" are for public services; a backend is reached through the gateway by its "routes"']
            : [];
    }
    return [
        ...(d.routes ? ['"routes" is for backends; a public service is reached through the ALB by its "pathPatterns"'] : []),
        ...(d.auth ? ['"auth" is for backends: it guards their "routes" at the gateway'] : []),
    ];
}

/** A public service's listener rule: its subdomain, its priority, and the values it holds. */
function ruleProblems(d: ServiceDeclaration): string[] {
    const problems: string[] = [];
    if (d.subdomain !== undefined && !LABEL.test(d.subdomain)) {
        problems.push(`"subdomain" is "${d.subdomain}"; allowed: one DNS label such as "admin" (lowercase letters, digits, inner hyphens)`);
    }
    const ownRule = (d.pathPatterns ?? []).length > 0 || d.subdomain !== undefined;
    // Each public service's test rule (components/edge/albRoute.ts) sits one priority before its rule.
    if (d.priority !== undefined && (!Number.isInteger(d.priority) || testRulePriority(d.priority) < 1 || d.priority >= DEFAULT_ROUTE_PRIORITY || !ownRule)) {
        problems.push(
            `"priority" is ${d.priority}; allowed: a whole number from 2 to ${DEFAULT_ROUTE_PRIORITY - 1} (its test rule takes the one before), with "pathPatterns" or "subdomain"`,
        );
    }
    const values = (d.pathPatterns ?? []).length + (d.subdomain !== undefined ? 1 : 0);
    if (d.kind === "public" && values + 1 > MAX_RULE_VALUES) {
        problems.push(
            `"pathPatterns" and "subdomain" hold ${values} values; allowed: at most ${MAX_RULE_VALUES - 1}, since the service's test rule adds the test header and an ALB rule takes at most ${MAX_RULE_VALUES} values`,
        );
    }
    return problems;
}

/** What is wrong between declarations: names, routes, the default route, calls and the gateway. */
function catalogueProblems(decls: readonly ServiceDeclaration[]): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    const routeOwners = new Map<string, string>();
    let defaultRouteOwner: string | undefined;
    for (const d of decls) {
        const where = `service "${d.name}"`;
        if (seen.has(d.name)) {
            problems.push(`${where}: "name" is declared twice`);
        }
        seen.add(d.name);
        for (const route of (d.routes ?? []).filter((r) => ROUTE.test(r))) {
            const owner = routeOwners.get(route);
            if (owner) {
                problems.push(`${where}: route "${route}" is already routed to "${owner}"`);
            } else {
                routeOwners.set(route, d.name);
            }
        }
        if (d.kind === "public" && (d.pathPatterns ?? []).length === 0 && d.subdomain === undefined) {
            if (defaultRouteOwner) {
                problems.push(
                    `${where}: only one public service may take the ALB's default route, and "${defaultRouteOwner}" has it; give this one "pathPatterns"`,
                );
            } else {
                defaultRouteOwner = d.name;
            }
        }
        const backends = decls.filter((t) => t.kind === "backend" && t.name !== d.name).map((t) => t.name);
        for (const callee of d.calls ?? []) {
            const target = decls.find((t) => t.name === callee);
            if (!target || target.kind !== "backend" || callee === d.name) {
                problems.push(`${where}: "calls" names "${callee}"; allowed: another backend of the catalogue (${backends.join(", ")})`);
            }
        }
    }
    problems.push(...messagingProblems(decls));
    const routed = decls.filter((d) => (d.routes ?? []).length > 0).map((d) => d.name);
    if (routed.length > 0 && !decls.some((d) => d.gateway)) {
        problems.push(`${routed.map((n) => `"${n}"`).join(", ")} declare routes, but no public service is the gateway ("gateway: true")`);
    }
    return problems;
}

/** One declaration with Berth's defaults applied; `routed` are the backends the gateway calls. */
function resolveService(d: ServiceDeclaration, routed: readonly string[]): CatalogService {
    return {
        name: d.name,
        kind: d.kind,
        port: d.port ?? 8080,
        healthPath: d.healthPath ?? "/health",
        pathPatterns: d.pathPatterns ?? [],
        subdomain: d.subdomain,
        priority: d.kind === "public" && ((d.pathPatterns ?? []).length > 0 || d.subdomain !== undefined) ? (d.priority ?? rulePriority(d.name)) : undefined,
        routes: d.routes ?? [],
        auth: d.auth ?? "none",
        gateway: d.gateway ?? false,
        platform: d.platform ?? "linux/amd64",
        user: d.user ?? "10001:10001",
        directory: `services/${d.name}`,
        build: {
            context: d.build?.context ?? ".",
            dockerfile: d.build?.dockerfile ?? `services/${d.name}/Dockerfile`,
        },
        calls: [...new Set([...(d.gateway ? routed : []), ...(d.calls ?? [])])],
        database: d.database === undefined ? undefined : { env: { ...DEFAULT_DATABASE_VARIABLES, ...(d.database === true ? {} : d.database.env) } },
        rollout: d.rollout === undefined ? undefined : parseRolloutChoice(d.rollout).choice,
        healthCheck: d.healthCheck,
        readinessGate: d.readinessGate,
        publishes: [...(d.publishes ?? [])],
        subscribes: [...(d.subscribes ?? [])],
    };
}

/** Every public service holds two priorities on the listener: its rule's, and its test rule's just before. */
function priorityClashes(services: readonly CatalogService[]): string[] {
    const problems: string[] = [];
    const priorities = new Map<number, string>();
    for (const s of services.filter((x) => x.kind === "public")) {
        const own = s.priority ?? DEFAULT_ROUTE_PRIORITY;
        for (const [priority, what] of [
            [own, `"${s.name}"`],
            [testRulePriority(own), `"${s.name}" (its test rule)`],
        ] as const) {
            const other = priorities.get(priority);
            if (other) {
                problems.push(
                    `services ${other} and ${what} both have listener rule priority ${priority}; declare another "priority" on the one added last (a rule takes its priority and the one before)`,
                );
            } else {
                priorities.set(priority, what);
            }
        }
    }
    return problems;
}

/**
 * What a worker cannot have: it listens on no port, so nothing routes to it, nothing calls it and no HTTP
 * health check reaches it; no traffic moves between its versions, so it rolls out `rolling` only. The
 * database and calls to backends are for the other kinds.
 */
const NOT_FOR_WORKERS = [
    "port",
    "healthPath",
    "pathPatterns",
    "subdomain",
    "priority",
    "routes",
    "auth",
    "gateway",
    "readinessGate",
    "calls",
    "database",
] as const;

function workerProblems(d: ServiceDeclaration): string[] {
    if (d.kind !== "worker") {
        return [];
    }
    const problems: string[] = [];
    const given = NOT_FOR_WORKERS.filter((key) => d[key] !== undefined);
    if (given.length > 0) {
        problems.push(
            `"${given[0]}" is ${JSON.stringify(d[given[0]])}; allowed: nothing on a worker, which listens on no port and only consumes its queue (${NOT_FOR_WORKERS.map((k) => `"${k}"`).join(", ")} are for the other kinds)`,
        );
    }
    if (d.rollout !== undefined) {
        const strategy = typeof d.rollout === "string" ? d.rollout : (d.rollout.strategy ?? "rolling");
        if (strategy !== "rolling") {
            problems.push(`"rollout" is ${JSON.stringify(d.rollout)}; allowed: "rolling" for a worker, which takes no traffic to shift`);
        }
    }
    return problems;
}

/** A declared health check in ECS's form, and a readiness gate only where there is one (backends). */
function probeProblems(d: ServiceDeclaration): string[] {
    const problems: string[] = [];
    const strings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x.length > 0);
    if (d.healthCheck !== undefined && (!strings(d.healthCheck) || d.healthCheck.length < 2 || !["CMD", "CMD-SHELL"].includes(d.healthCheck[0]))) {
        problems.push(
            `"healthCheck" is ${JSON.stringify(d.healthCheck)}; allowed: ["CMD", executable, ...arguments] or ["CMD-SHELL", "shell command"], as ECS takes it`,
        );
    }
    if (d.readinessGate !== undefined && d.kind !== "backend") {
        problems.push("\"readinessGate\" is for backends; a public service's readiness is the ALB's health check");
    } else if (d.readinessGate !== undefined && d.readinessGate !== false && !strings(d.readinessGate)) {
        problems.push(
            `"readinessGate" is ${JSON.stringify(d.readinessGate)}; allowed: a command as a list of strings, such as ["/app/server", "--version"], or false`,
        );
    }
    return problems;
}

/** A declared rollout: every field, and no parameter of another strategy than the one declared. */
function rolloutProblems(rollout: RolloutChoice | undefined): string[] {
    if (rollout === undefined) {
        return [];
    }
    const { choice, problems } = parseRolloutChoice(rollout);
    const all = choice ? misplacedParameters(choice.strategy ?? "rolling", choice.parameters) : problems;
    return all.map((p) => `"${p.field ? `rollout.${p.field}` : "rollout"}" is ${JSON.stringify(p.value)}; allowed: ${p.allowed}`);
}

function databaseProblems(database: ServiceDeclaration["database"]): string[] {
    if (database === undefined || database === true) {
        return [];
    }
    const problems: string[] = [];
    for (const [key, value] of Object.entries(database.env ?? {})) {
        if (!(key in DEFAULT_DATABASE_VARIABLES)) {
            problems.push(`"database.env.${key}" is not a connection field; allowed: ${Object.keys(DEFAULT_DATABASE_VARIABLES).join(", ")}`);
        } else if (typeof value !== "string" || !ENV_NAME.test(value)) {
            problems.push(`"database.env.${key}" is ${JSON.stringify(value)}; allowed: an environment variable name such as "DB_HOST"`);
        }
    }
    const names = Object.values({ ...DEFAULT_DATABASE_VARIABLES, ...database.env });
    const taken = names.find((n) => RESERVED_VARIABLES.includes(n));
    if (taken !== undefined) {
        problems.push(`"database.env" uses "${taken}", which Berth sets itself (${RESERVED_VARIABLES.join(", ")})`);
    }
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
        problems.push(`"database.env" gives "${twice}" to two connection fields; each needs its own variable`);
    }
    return problems;
}

/**
 * The order to deploy the services in: every service after the services it calls, at any depth (Service
 * Connect clients only reach endpoints that existed when they started). Services that do not depend on each
 * other keep their catalogue order. Throws an error naming the services of a cycle.
 */
export function deployOrder(services: readonly CatalogService[]): CatalogService[] {
    const { order, blocked } = orderOf(services);
    if (blocked.length > 0) {
        throw new Error(`catalog/index.ts: ${cycleProblem(findCycle(blocked))}`);
    }
    return order;
}

/** The services in deploy order as far as it goes, and those left waiting for one another. */
function orderOf(services: readonly CatalogService[]): { order: CatalogService[]; blocked: CatalogService[] } {
    const byName = new Map(services.map((s) => [s.name, s]));
    const done = new Set<string>();
    const order: CatalogService[] = [];
    for (;;) {
        const next = services.find((s) => !done.has(s.name) && s.calls.every((c) => done.has(c) || !byName.has(c)));
        if (!next) {
            return { order, blocked: services.filter((s) => !done.has(s.name)) };
        }
        done.add(next.name);
        order.push(next);
    }
}

function cycleProblem(cycle: readonly string[]): string {
    return `calls form a cycle: ${cycle.join(" -> ")}; a service cannot be deployed after itself`;
}

/** A cycle among services that all wait for one another: walk calls until a service repeats. */
function findCycle(blocked: readonly CatalogService[]): string[] {
    const byName = new Map(blocked.map((s) => [s.name, s]));
    const path: string[] = [];
    let current: CatalogService | undefined = blocked[0];
    while (current && !path.includes(current.name)) {
        path.push(current.name);
        current = current.calls.map((c) => byName.get(c)).find((c) => c !== undefined);
    }
    return current ? [...path.slice(path.indexOf(current.name)), current.name] : path;
}

/** The catalogue every consumer reads. */
export const catalog: readonly CatalogService[] = resolveCatalog(declarations);

/**
 * The jobs Berth ships: tasks run on a schedule (AWS Copilot's Scheduled Job; catalog/jobs.ts, docs/jobs.md).
 * `retention` deletes the users service's audit trail past its retention (services/users/src/events.ts).
 */
export const jobDeclarations: JobDeclaration[] = [
    { name: "retention", kind: "job", schedule: "cron(0 3 * * ? *)", timeout: "30m", retries: 2, database: true },
];

/** The jobs every consumer reads: the stack, `npm start`, `berth job run`. */
export const jobs: readonly CatalogJob[] = resolveJobs(
    jobDeclarations,
    catalog.map((s) => s.name),
);
