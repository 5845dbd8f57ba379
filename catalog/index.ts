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
import { DEFAULT_ROUTE_PRIORITY, MAX_RULE_VALUES, MAX_RULES_PER_LOAD_BALANCER, rulePriority, testRulePriority } from "../core/listenerRules";
import {
    DATABASE_SECRET_VARIABLE,
    DATABASE_TLS_VARIABLE,
    DEFAULT_DATABASE_ENV as DEFAULT_DATABASE_VARIABLES,
    type DatabaseEnvNames as DatabaseVariables,
    AUTH_MODES,
    type AuthMode,
} from "@berth/kit/contract";
import type { Platform } from "../core/platform";
import { UPSTREAM_TIMEOUT_MS } from "../core/rollout";
import { SERVICE_KINDS, type ServiceKind } from "../core/serviceKind";

export { SERVICE_KINDS, type ServiceKind };
import { misplacedParameters, parseRolloutChoice, type ParsedChoice, type RolloutChoice } from "../core/rolloutStrategy";
import { resolveJobs, type CatalogJob, type JobDeclaration } from "./jobs";

export type { DatabaseEnvNames as DatabaseVariables } from "@berth/kit/contract";
export type { CatalogJob, JobDeclaration } from "./jobs";
import { messagingProblems } from "./messaging";
/**
 * Who may call a backend's routes through the gateway: anyone (`none`), a bearer of a JWT the gateway
 * verifies (`jwt`), or a holder of an API key (`apiKey`). Where the keys come from: the gateway's
 * `AUTH_*` environment variables (docs/gateway.md, "Authentication").
 */
export { AUTH_MODES, type AuthMode };

export interface ServiceDeclaration {
    /**
     * The folder under `services/` and the base of every AWS name of the service. Lowercase letters,
     * digits and hyphens, starting with a letter, at most 16 characters (target-group names stop at 32).
     */
    name: string;
    /**
     * `public`: behind the ALB. `backend`: private, reached by name from its callers. `worker`: no port,
     * consumes the topics it `subscribes` to from its own queue.
     */
    kind: ServiceKind;
    /**
     * The port the container listens on (the service reads it from `PORT`).
     * @default 8080
     */
    port?: number;
    /**
     * The path that answers 200 when the service is up, used by the ALB and the container health check.
     * @default "/health"
     */
    healthPath?: string;
    /**
     * `public` only: the ALB path patterns routed to the service. Omitted: the listener's default route.
     * @example ["/admin", "/admin/*"]
     */
    pathPatterns?: string[];
    /**
     * `public` only: the DNS label the service answers on under the stack's `domain`: `admin` answers on
     * `admin.<domain>` (the ALB rule matches that host, and its `pathPatterns` if any), and the stack's
     * certificate covers it. Without `pathPatterns`, the service takes every path of its host.
     * @example "admin"
     */
    subdomain?: string;
    /**
     * `public` with `pathPatterns` or a `subdomain` only: the listener rule's priority, 1-49999 (lower wins where patterns
     * overlap). It must never change once deployed, and no two services may share one.
     * @default derived from the name (1000-49999), stable whatever else the catalogue holds
     */
    priority?: number;
    /**
     * `backend` only: path prefixes the gateway forwards to this service, with everything under them.
     * @example ["/users"]
     */
    routes?: string[];
    /**
     * `backend` only: what the gateway requires before it forwards a request to one of `routes`. The
     * verified identity reaches the backend in `x-auth-subject` (and `x-auth-method`), headers the gateway
     * removes from every client request.
     * @default "none"
     */
    auth?: AuthMode;
    /**
     * `public` only: this service is the API gateway. It receives the route table of every backend that
     * declares `routes` (environment variable `ROUTES`) and is admitted by their security groups.
     * @default false
     */
    gateway?: boolean;
    /**
     * Backends this service calls directly (the gateway calls the backends with `routes` anyway). Each one
     * admits this service on its port, is deployed before it, and is given to it as `<NAME>_URL`
     * (`http://<name>:<port>` through Service Connect).
     * @example ["users"]
     * @default []
     */
    calls?: string[];
    /**
     * The CPU architecture the image is built for; the task's runtime platform matches it.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /**
     * The non-root `uid:gid` the service's image runs as (its Dockerfile's `USER`); ECS runs every container
     * of the task as it. The container test checks it against the built image.
     * @default "10001:10001"
     */
    user?: string;
    /**
     * Where the image is built from, relative to the repository root. A service in another language brings
     * its own Dockerfile and context; a `<dockerfile>.dockerignore` beside the Dockerfile keeps everything
     * else out of the context.
     * @default { context: ".", dockerfile: "services/<name>/Dockerfile" }
     */
    build?: { context?: string; dockerfile?: string };
    /**
     * The container health check ECS runs in the service's image, in ECS's form: `CMD` and the executable with
     * its arguments, or `CMD-SHELL` and a shell command
     * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html). The default calls
     * `healthPath` with the image's `node`; an image without `node` (a service in another language) names its
     * own, e.g. `["CMD", "/app/healthcheck"]`.
     * @default ["CMD", "node", "-e", "<fetch of healthPath>"]
     */
    healthCheck?: string[];
    /**
     * `backend` only: the command of the readiness gate, a container of the task that starts in the service's
     * image once its health check passes and exits at once, so that Service Connect routes to the task only
     * then (components/service/fargateService.ts). An image without `node` names a command it has, e.g. `["/app/server",
     * "--version"]`, or `false` goes without the gate.
     * @default ["node", "-e", "0"]
     */
    readinessGate?: string[] | false;
    /**
     * The service keeps its data in the stack's PostgreSQL database. It gets the host, port and database
     * name as environment variables and the user and password as secrets, under the names given here (the
     * ToDo workshop's `DB_HOST`, `DB_USER`, `DB_PASSWORD` style). Declaring it on any service makes the
     * stack create the database; its security group admits only the services that declare it.
     * @example true
     * @example { env: { host: "PGHOST", password: "PGPASSWORD" } }
     * @default undefined: no database
     */
    database?: true | { env?: Partial<DatabaseVariables> };
    /**
     * How a new version takes over: `rolling` (ECS replaces tasks), `canary`, `linear` or `blueGreen` (ECS runs
     * both versions and moves the traffic: see docs/releases.md, "Rollout strategies"). Parameters left out come from
     * the stack's preset; `berth:services.<name>.rollout` overrides this per stack.
     * @example "canary"
     * @example { strategy: "linear", stepPercent: 25, stepBakeMinutes: 2 }
     * @default "rolling"
     */
    rollout?: RolloutChoice;
    /**
     * The topics this service publishes events to (an SNS topic each in AWS). Its tasks may publish to exactly
     * these, and find them in `BERTH_TOPICS` (see docs/workers.md).
     * @example ["product-changed"]
     * @default []
     */
    publishes?: string[];
    /**
     * `worker` only, and required: the topics whose events reach the worker's queue (`BERTH_QUEUE_URL`). Each
     * must be published by a service of the catalogue.
     * @example ["product-changed"]
     */
    subscribes?: string[];
}

/** A catalogue entry with every default applied and the call graph worked out. */
export interface CatalogService {
    readonly name: string;
    readonly kind: ServiceKind;
    readonly port: number;
    readonly healthPath: string;
    /** `public` only; empty means the default route. */
    readonly pathPatterns: readonly string[];
    /** `public` only: the DNS label under the stack's domain the service answers on. */
    readonly subdomain?: string;
    /** `public` with path patterns or a subdomain: the listener rule's priority; else undefined. */
    readonly priority?: number;
    readonly routes: readonly string[];
    readonly auth: AuthMode;
    readonly gateway: boolean;
    readonly platform: Platform;
    /** The non-root `uid:gid` the image runs as. */
    readonly user: string;
    /** The folder that holds the service's code, relative to the repository root. */
    readonly directory: string;
    /** The image's build context and Dockerfile, relative to the repository root. */
    readonly build: { readonly context: string; readonly dockerfile: string };
    /** Names of the services this one calls: the gateway's routed backends and the declared `calls`. */
    readonly calls: readonly string[];
    /** Where the service reads its database connection from; undefined when it declares no database. */
    readonly database?: { readonly env: Readonly<DatabaseVariables> };
    /** The declared rollout, checked; the stack's preset fills in what it leaves out (config/services.ts). */
    readonly rollout?: ParsedChoice;
    /** The declared container health check; undefined for the default (`healthCheckCommand`). */
    readonly healthCheck?: readonly string[];
    /** Backends: the declared readiness gate command, or false; undefined for the default. */
    readonly readinessGate?: readonly string[] | false;
    /** The topics the service publishes to. */
    readonly publishes: readonly string[];
    /** Workers: the topics that feed their queue; empty for the other kinds. */
    readonly subscribes: readonly string[];
}

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

/** Where a service runs, for `serviceEnvironment`. */
export interface Placement {
    /**
     * Where a callee answers: `http://users:8080` through Service Connect, or in the local run
     * `http://127.0.0.1:<port>`, one address per instance.
     */
    addressOf: (callee: CatalogService) => string | readonly string[];
    /**
     * The port this service listens on.
     * @default the catalogue's port
     */
    port?: number;
    /**
     * The gateway sits behind the ALB, the only peer its security group admits, so it keeps the
     * `X-Forwarded-Proto` and `-Port` the ALB sets (`TRUST_PROXY`). The local run has no load balancer.
     * @default true
     */
    behindLoadBalancer?: boolean;
}

/** The environment variable that gives a caller a callee's address: `users` -> `USERS_URL`. */
export function urlVariable(callee: string): string {
    return `${callee.toUpperCase().replace(/-/g, "_")}_URL`;
}

/**
 * The environment variables a service gets from the catalogue: the one place that sets `PORT`, the
 * gateway's `ROUTES`, `TIMEOUT_MS` and `TRUST_PROXY`, and a `<NAME>_URL` per declared callee (its first
 * address where the local run has several instances).
 *
 * The gateway's `ROUTES` is a JSON object from path prefix to the backend: its address (one string), its
 * addresses (a list), or `{"origins": ..., "auth": "jwt" | "apiKey"}` when the backend declares `auth`,
 * e.g. `{"/users":"http://users:8080","/products":{"origins":"http://products:8080","auth":"jwt"}}`. Its
 * `TIMEOUT_MS` comes from the same constant as Service Connect's per-request timeout (core/rollout.ts),
 * so the gateway gives up first and answers its own 504.
 */
export function serviceEnvironment(service: CatalogService, services: readonly CatalogService[], placement: Placement): Record<string, string> {
    // A worker listens on no port.
    const env: Record<string, string> = service.kind === "worker" ? {} : { PORT: String(placement.port ?? service.port) };
    const callees = services.filter((s) => service.calls.includes(s.name));
    if (service.gateway) {
        const routes: Record<string, unknown> = {};
        for (const callee of callees) {
            const address = placement.addressOf(callee);
            const origins = typeof address === "string" ? address : address.length === 1 ? address[0] : [...address];
            for (const route of callee.routes) {
                routes[route] = callee.auth === "none" ? origins : { origins, auth: callee.auth };
            }
        }
        env.ROUTES = JSON.stringify(routes);
        env.TIMEOUT_MS = String(UPSTREAM_TIMEOUT_MS);
        env.TRUST_PROXY = String(placement.behindLoadBalancer ?? true);
    }
    for (const callee of callees.filter((c) => !(service.gateway && c.routes.length > 0))) {
        const address = placement.addressOf(callee);
        env[urlVariable(callee.name)] = typeof address === "string" ? address : address[0];
    }
    return env;
}

/** Where the database is and who connects, where no secret store exists: the local run, the container test. */
export interface DatabaseConnection {
    host: string;
    port: string;
    name: string;
    user?: string;
    password?: string;
}

/**
 * The environment of a service that uses the database, outside AWS: the connection under the names the
 * service declared, and `DB_SSL=disable` (a server on loopback). Empty for a service without the database.
 * In AWS the program gives host, port and name the same way and the credentials through `secrets` (see
 * `Database.clientFor` in components/data/database.ts).
 */
export function databaseEnvironment(service: CatalogService, connection: DatabaseConnection): Record<string, string> {
    if (!service.database) {
        return {};
    }
    const { env } = service.database;
    const vars: Record<string, string> = {
        [env.host]: connection.host,
        [env.port]: connection.port,
        [env.name]: connection.name,
        [DATABASE_TLS_VARIABLE]: "disable",
    };
    if (connection.user !== undefined) {
        vars[env.user] = connection.user;
    }
    if (connection.password !== undefined) {
        vars[env.password] = connection.password;
    }
    return vars;
}

/**
 * The container health check, as ECS and `docker run --health-cmd` take it: the declared one, or by default
 * a call of `healthPath` with the image's own `node` (slim images ship neither curl nor wget), answered
 * within the check's timeout whatever the service does.
 */
export function healthCheckCommand(service: CatalogService): string[] {
    if (service.healthCheck) {
        return [...service.healthCheck];
    }
    const url = `http://127.0.0.1:${service.port}${service.healthPath}`;
    const script = `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(4000)})` + `.then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
    return ["CMD", "node", "-e", script];
}
