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

export type ServiceKind = "public" | "backend";
export type Platform = "linux/amd64" | "linux/arm64";
/**
 * Who may call a backend's routes through the gateway: anyone (`none`), a bearer of a JWT the gateway
 * verifies (`jwt`), or a holder of an API key (`apiKey`). Where the keys come from: the gateway's
 * `AUTH_*` environment variables (README, "Authentication").
 */
export type AuthMode = "none" | "jwt" | "apiKey";
export const AUTH_MODES: readonly AuthMode[] = ["none", "jwt", "apiKey"];

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
     * The CPU architecture the image is built for; the task's runtime platform matches it.
     * @default "linux/amd64"
     */
    platform?: Platform;
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
    readonly auth: AuthMode;
    readonly gateway: boolean;
    readonly platform: Platform;
    /** The folder that holds the service's code and Dockerfile, relative to the repository root. */
    readonly directory: string;
    /** Names of the services this one calls. */
    readonly calls: readonly string[];
    /** Names of the services that call this one: the only sources its security group admits. */
    readonly callers: readonly string[];
}

/** The services Berth ships. Add yours here, next to its folder `services/<name>/`. */
export const declarations: ServiceDeclaration[] = [
    { name: "api", kind: "public", gateway: true },
    { name: "users", kind: "backend", routes: ["/users"] },
    { name: "products", kind: "backend", routes: ["/products"] },
];

const NAME = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
const ROUTE = /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

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
        if (d.auth !== undefined && !AUTH_MODES.includes(d.auth)) {
            throw new Error(`${where}: "auth" is ${JSON.stringify(d.auth)}; allowed: ${AUTH_MODES.join(", ")}`);
        }
        if (d.kind === "backend") {
            if (d.pathPatterns || d.gateway) {
                throw new Error(`${where}: "pathPatterns" and "gateway" are for public services; a backend is reached through the gateway by its "routes"`);
            }
        } else if (d.routes) {
            throw new Error(`${where}: "routes" is for backends; a public service is reached through the ALB by its "pathPatterns"`);
        } else if (d.auth) {
            throw new Error(`${where}: "auth" is for backends: it guards their "routes" at the gateway`);
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

    return decls.map((d) => ({
        name: d.name,
        kind: d.kind,
        port: d.port ?? 8080,
        healthPath: d.healthPath ?? "/health",
        pathPatterns: d.pathPatterns ?? [],
        routes: d.routes ?? [],
        auth: d.auth ?? "none",
        gateway: d.gateway ?? false,
        platform: d.platform ?? "linux/amd64",
        directory: `services/${d.name}`,
        calls: d.gateway ? routed : [],
        callers: routed.includes(d.name) ? gateways : [],
    }));
}

/** The catalogue every consumer reads. */
export const catalog: readonly CatalogService[] = resolveCatalog(declarations);

/** Where the gateway runs. */
export interface EnvironmentOptions {
    /**
     * The gateway sits behind the ALB, the only peer its security group admits, so it keeps the
     * `X-Forwarded-Proto` and `-Port` the ALB sets (`TRUST_PROXY`). The local run has no load balancer.
     * @default true
     */
    behindLoadBalancer?: boolean;
}

/**
 * The environment variables a service gets from the catalogue, given where each service can be reached:
 * `http://users:8080` through ECS Service Connect, or in the local run `http://127.0.0.1:<port>`, one
 * address per instance.
 *
 * The gateway's `ROUTES` is a JSON object from path prefix to the backend: its address (one string), its
 * addresses (a list), or `{"origins": ..., "auth": "jwt" | "apiKey"}` when the backend declares `auth`,
 * e.g. `{"/users":"http://users:8080","/products":{"origins":"http://products:8080","auth":"jwt"}}`.
 */
export function serviceEnvironment(
    service: CatalogService,
    services: readonly CatalogService[],
    addressOf: (callee: CatalogService) => string | readonly string[],
    options: EnvironmentOptions = {},
): Record<string, string> {
    const env: Record<string, string> = { PORT: String(service.port) };
    if (service.gateway) {
        const routes: Record<string, unknown> = {};
        for (const callee of services.filter((s) => service.calls.includes(s.name))) {
            const address = addressOf(callee);
            const origins = typeof address === "string" ? address : address.length === 1 ? address[0] : [...address];
            for (const route of callee.routes) {
                routes[route] = callee.auth === "none" ? origins : { origins, auth: callee.auth };
            }
        }
        env.ROUTES = JSON.stringify(routes);
        env.TRUST_PROXY = String(options.behindLoadBalancer ?? true);
    }
    return env;
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
