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
 */

import { DEFAULT_DATABASE_ENV, type DatabaseEnvNames, type DatabaseSsl } from "./kit/src/databaseEnv";

export type ServiceKind = "public" | "backend";
export type Platform = "linux/amd64" | "linux/arm64";

export interface ServiceDeclaration {
    /**
     * The folder under `services/` and the base of every AWS name of the service. Lowercase letters,
     * digits and hyphens, starting with a letter, at most 16 characters (target-group names stop at 32).
     */
    name: string;
    /** `public`: behind the ALB. `backend`: private, reached by name from its callers. */
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
     * `backend` only: path prefixes the gateway forwards to this service, with everything under them.
     * @example ["/users"]
     */
    routes?: string[];
    /**
     * `public` only: this service is the API gateway. It receives the route table of every backend that
     * declares `routes` (environment variable `ROUTES`) and is admitted by their security groups.
     * @default false
     */
    gateway?: boolean;
    /**
     * The CPU architecture the image is built for; the task's runtime platform matches it.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /**
     * The service keeps data in the stack's PostgreSQL database. It then gets the connection through its
     * environment: host, port and database name as plain variables, user and password through the task
     * definition's `secrets` (the JSON keys `username` and `password` of the secret RDS manages), and
     * `DB_SSL`. `true` uses the ToDo workshop's names (`DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER`,
     * `DB_PASSWORD`); `env` renames any of them for code that reads names of its own. Services built on
     * `services/kit` read the defaults (see `services/kit/src/databaseEnv.ts`).
     * @default no database
     * @example true
     * @example { env: { host: "POSTGRES_HOST", password: "POSTGRES_PASSWORD" } }
     */
    database?: true | { env?: Partial<DatabaseEnvNames> };
}

/** A catalogue entry with every default applied and the call graph worked out. */
export interface CatalogService {
    readonly name: string;
    readonly kind: ServiceKind;
    readonly port: number;
    readonly healthPath: string;
    /** `public` only; empty means the default route. */
    readonly pathPatterns: readonly string[];
    readonly routes: readonly string[];
    readonly gateway: boolean;
    readonly platform: Platform;
    /** The folder that holds the service's code and Dockerfile, relative to the repository root. */
    readonly directory: string;
    /** Names of the services this one calls. */
    readonly calls: readonly string[];
    /** Names of the services that call this one: the only sources its security group admits. */
    readonly callers: readonly string[];
    /** Set when the service uses the database: the names of its connection variables, defaults applied. */
    readonly database?: { readonly env: Readonly<DatabaseEnvNames> };
}

/** The services Berth ships. Add yours here, next to its folder `services/<name>/`. */
export const declarations: ServiceDeclaration[] = [
    { name: "api", kind: "public", gateway: true },
    { name: "users", kind: "backend", routes: ["/users"], database: true },
    { name: "products", kind: "backend", routes: ["/products"], database: true },
];

const NAME = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
const ROUTE = /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables Berth sets itself, which a database variable must not shadow. */
const RESERVED_ENV = ["PORT", "HOST", "ROUTES", "DATABASE_URL", "DB_SSL", "DB_POOL_MAX"];

function databaseEnvNames(d: ServiceDeclaration, where: string): Readonly<DatabaseEnvNames> | undefined {
    if (d.database === undefined) {
        return undefined;
    }
    const env = { ...DEFAULT_DATABASE_ENV, ...(d.database === true ? {} : d.database.env) };
    for (const [key, name] of Object.entries(env)) {
        if (!ENV_NAME.test(name) || RESERVED_ENV.includes(name)) {
            throw new Error(`${where}: "database.env.${key}" is "${name}"; it must be an environment variable name (letters, digits, underscores) other than ${RESERVED_ENV.join(", ")}`);
        }
    }
    if (new Set(Object.values(env)).size !== Object.keys(env).length) {
        throw new Error(`${where}: "database.env" gives two settings the same variable name: ${JSON.stringify(env)}`);
    }
    return env;
}

/** Applies defaults and checks the declarations; throws an error that names the entry and the field. */
export function resolveCatalog(decls: readonly ServiceDeclaration[]): CatalogService[] {
    if (decls.length === 0) {
        throw new Error("services/catalog.ts: the catalogue declares no service");
    }
    const seen = new Set<string>();
    const routeOwners = new Map<string, string>();
    let defaultRouteOwner: string | undefined;

    for (const d of decls) {
        const where = `services/catalog.ts: service "${d.name}"`;
        if (!NAME.test(d.name)) {
            throw new Error(`${where}: "name" must be 1-16 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`);
        }
        if (seen.has(d.name)) {
            throw new Error(`${where}: "name" is declared twice`);
        }
        seen.add(d.name);
        if (d.port !== undefined && (!Number.isInteger(d.port) || d.port < 1024 || d.port > 65535)) {
            throw new Error(`${where}: "port" is ${d.port}; allowed: a whole number from 1024 to 65535 (tasks run as a non-root user)`);
        }
        if (d.healthPath !== undefined && !d.healthPath.startsWith("/")) {
            throw new Error(`${where}: "healthPath" is "${d.healthPath}"; it must start with "/"`);
        }
        if (d.kind === "backend") {
            if (d.pathPatterns || d.gateway) {
                throw new Error(`${where}: "pathPatterns" and "gateway" are for public services; a backend is reached through the gateway by its "routes"`);
            }
        } else if (d.routes) {
            throw new Error(`${where}: "routes" is for backends; a public service is reached through the ALB by its "pathPatterns"`);
        }
        for (const route of d.routes ?? []) {
            if (!ROUTE.test(route)) {
                throw new Error(`${where}: route "${route}" must be a path such as "/users" (no trailing slash, no wildcard)`);
            }
            const owner = routeOwners.get(route);
            if (owner) {
                throw new Error(`${where}: route "${route}" is already routed to "${owner}"`);
            }
            routeOwners.set(route, d.name);
        }
        if (d.kind === "public" && (d.pathPatterns ?? []).length === 0) {
            if (defaultRouteOwner) {
                throw new Error(`${where}: only one public service may take the ALB's default route, and "${defaultRouteOwner}" has it; give this one "pathPatterns"`);
            }
            defaultRouteOwner = d.name;
        }
    }

    const gateways = decls.filter((d) => d.gateway).map((d) => d.name);
    const routed = decls.filter((d) => (d.routes ?? []).length > 0).map((d) => d.name);
    if (routed.length > 0 && gateways.length === 0) {
        throw new Error(`services/catalog.ts: ${routed.map((n) => `"${n}"`).join(", ")} declare routes, but no public service is the gateway ("gateway: true")`);
    }

    return decls.map((d) => {
        const env = databaseEnvNames(d, `services/catalog.ts: service "${d.name}"`);
        return {
            name: d.name,
            kind: d.kind,
            port: d.port ?? 8080,
            healthPath: d.healthPath ?? "/health",
            pathPatterns: d.pathPatterns ?? [],
            routes: d.routes ?? [],
            gateway: d.gateway ?? false,
            platform: d.platform ?? "linux/amd64",
            directory: `services/${d.name}`,
            calls: d.gateway ? routed : [],
            callers: routed.includes(d.name) ? gateways : [],
            database: env && { env },
        };
    });
}

/** The catalogue every consumer reads. */
export const catalog: readonly CatalogService[] = resolveCatalog(declarations);

/**
 * The environment variables a service gets from the catalogue, given where each service can be reached
 * (`http://users:8080` through ECS Service Connect, `http://127.0.0.1:<port>` in the local run).
 *
 * The gateway's `ROUTES` is a JSON object from path prefix to base URL, e.g.
 * `{"/users":"http://users:8080","/products":"http://products:8080"}`.
 */
export function serviceEnvironment(
    service: CatalogService,
    services: readonly CatalogService[],
    addressOf: (callee: CatalogService) => string,
): Record<string, string> {
    const env: Record<string, string> = { PORT: String(service.port) };
    if (service.gateway) {
        const routes: Record<string, string> = {};
        for (const callee of services.filter((s) => service.calls.includes(s.name))) {
            for (const route of callee.routes) {
                routes[route] = addressOf(callee);
            }
        }
        env.ROUTES = JSON.stringify(routes);
    }
    return env;
}

/** Where the database is and who connects: plain strings locally, `pulumi.Output`s in the program. */
export interface DatabaseConnection<V> {
    host: V;
    port: V;
    name: V;
    /** Only where no secret store exists (the local run, the container test); in AWS see `databaseSecrets`. */
    user?: V;
    /** Likewise. */
    password?: V;
}

/**
 * The plain environment of a service that uses the database: the connection under the names the service
 * declared, and `DB_SSL` (`verify-full` in AWS, where RDS forces TLS; `disable` on loopback).
 * Empty for a service without the database.
 */
export function databaseEnvironment<V>(service: CatalogService, connection: DatabaseConnection<V>, ssl: DatabaseSsl): Record<string, V | string> {
    if (!service.database) {
        return {};
    }
    const { env } = service.database;
    const vars: Record<string, V | string> = { [env.host]: connection.host, [env.port]: connection.port, [env.name]: connection.name, DB_SSL: ssl };
    if (connection.user !== undefined) {
        vars[env.user] = connection.user;
    }
    if (connection.password !== undefined) {
        vars[env.password] = connection.password;
    }
    return vars;
}

/**
 * The credentials of a service that uses the database, as the task definition's `secrets` take them: each
 * variable name with the JSON key of the RDS-managed secret it comes from
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
 */
export function databaseSecrets(service: CatalogService): Array<{ name: string; jsonKey: "username" | "password" }> {
    return service.database
        ? [{ name: service.database.env.user, jsonKey: "username" }, { name: service.database.env.password, jsonKey: "password" }]
        : [];
}

/**
 * The container health check, as ECS and `docker run --health-cmd` take it. It uses the image's own `node`
 * (slim images ship neither curl nor wget) and answers within the check's timeout whatever the service does.
 */
export function healthCheckCommand(service: CatalogService): string[] {
    const url = `http://127.0.0.1:${service.port}${service.healthPath}`;
    const script =
        `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(4000)})` +
        `.then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
    return ["CMD", "node", "-e", script];
}
