/** What each service of the catalogue gets in its environment, wherever it runs, and its container health check. */
import { DATABASE_TLS_VARIABLE } from "@berth/kit/contract";
import { UPSTREAM_TIMEOUT_MS } from "../core/rollout";
import type { CatalogService } from "./types";

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
