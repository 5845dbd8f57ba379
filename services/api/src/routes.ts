/**
 * The gateway's route table: path prefixes to upstream origins, from the `ROUTES` environment variable
 * that the service catalogue produces.
 */

/** Who may use a route: anyone, a bearer of a valid JWT, or a holder of an API key. */
import { AUTH_MODES, type AuthMode } from "@berth/kit/contract";

export type { AuthMode };

export interface Route {
    /** A path prefix such as `/users`: it matches `/users`, `/users/1` and `/users?x=1`, not `/usersx`. */
    prefix: string;
    /** The upstream's origins, e.g. `["http://users:8080"]`; requests are balanced over them. */
    origins: string[];
    /** What a request must present before it is forwarded. */
    auth: AuthMode;
}

const EXAMPLE = '{"/users":"http://users:8080"}, {"/users":["http://a:8080","http://b:8080"]} or {"/users":{"origins":"http://users:8080","auth":"jwt"}}';

/**
 * Parses `ROUTES`, a JSON object from path prefix to one of:
 * - an origin: `"http://users:8080"`;
 * - several origins of the same backend: `["http://a:8080","http://b:8080"]`;
 * - `{"origins": <one or several>, "auth": "none" | "jwt" | "apiKey"}`.
 *
 * Throws an error that says what is wrong.
 */
export function parseRoutes(text: string | undefined): Route[] {
    if (text === undefined || text.trim() === "") {
        throw new Error(`ROUTES is not set; allowed: a JSON object such as ${EXAMPLE}`);
    }
    let table: unknown;
    try {
        table = JSON.parse(text);
    } catch {
        throw new Error(`ROUTES is not JSON: ${JSON.stringify(text)}`);
    }
    if (typeof table !== "object" || table === null || Array.isArray(table)) {
        throw new Error(`ROUTES must be a JSON object of path prefix to origin, got ${JSON.stringify(text)}`);
    }
    const routes: Route[] = [];
    for (const [prefix, target] of Object.entries(table)) {
        if (!/^\/[A-Za-z0-9._~\/-]*[^/]$/.test(prefix)) {
            throw new Error(`ROUTES: prefix ${JSON.stringify(prefix)} must be a path such as "/users", without a trailing slash`);
        }
        const { origins, auth } = routeTarget(prefix, target);
        routes.push({ prefix, origins: origins.map((o) => parseOrigin(prefix, o)), auth });
    }
    // Longest prefix first, so that "/users/admin" wins over "/users".
    return routes.sort((a, b) => b.prefix.length - a.prefix.length);
}

function routeTarget(prefix: string, target: unknown): { origins: unknown[]; auth: AuthMode } {
    if (typeof target === "object" && target !== null && !Array.isArray(target)) {
        const { origins, auth = "none", ...rest } = target as Record<string, unknown>;
        const unknown = Object.keys(rest);
        if (unknown.length > 0) {
            throw new Error(`ROUTES: ${prefix} has unknown field(s) ${unknown.join(", ")}; allowed: origins, auth`);
        }
        if (!(AUTH_MODES as readonly unknown[]).includes(auth)) {
            throw new Error(`ROUTES: ${prefix} has auth ${JSON.stringify(auth)}; allowed: ${AUTH_MODES.join(", ")}`);
        }
        if (origins === undefined) {
            throw new Error(`ROUTES: ${prefix} has no "origins"`);
        }
        return { origins: originList(prefix, origins), auth: auth as AuthMode };
    }
    return { origins: originList(prefix, target), auth: "none" };
}

function originList(prefix: string, value: unknown): unknown[] {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) {
        throw new Error(`ROUTES: ${prefix} lists no origin`);
    }
    return list;
}

function parseOrigin(prefix: string, target: unknown): string {
    let url: URL;
    try {
        url = new URL(String(target));
    } catch {
        throw new Error(`ROUTES: ${prefix} points to ${JSON.stringify(target)}, which is not a URL`);
    }
    if (url.protocol !== "http:" || url.pathname !== "/" || url.search !== "" || typeof target !== "string") {
        throw new Error(`ROUTES: ${prefix} points to ${JSON.stringify(target)}; allowed: an http origin such as http://users:8080`);
    }
    return url.origin;
}

/** The route of a request path (without query), or undefined. */
export function matchRoute(routes: readonly Route[], path: string): Route | undefined {
    for (const route of routes) {
        if (path.startsWith(route.prefix) && (path.length === route.prefix.length || path[route.prefix.length] === "/")) {
            return route;
        }
    }
    return undefined;
}

/** Whether some route's prefix lies under another's (`/svc` and `/svc/admin`), possibly of different auth. */
export function hasNestedRoutes(routes: readonly Route[]): boolean {
    return routes.some((outer) => routes.some((inner) => inner !== outer && matchRoute([outer], inner.prefix) !== undefined));
}

/**
 * Whether a backend that reads paths more loosely than the gateway could take `path` for another route
 * than `matched`: one that routes without regard to case (ASP.NET, some Spring set-ups), or drops `;`
 * path parameters (Java servlet containers: `/svc/admin;x/secret` is `/svc/admin/secret` there). Only
 * nested routes can be confused this way, so the gateway asks only when there are such routes.
 */
export function readsAsAnotherRoute(routes: readonly Route[], path: string, matched: Route | undefined): boolean {
    const lower = path.toLowerCase();
    if (lower !== path && matchRoute(lowerRoutes(routes), lower)?.prefix.toLowerCase() !== matched?.prefix.toLowerCase()) {
        return true;
    }
    if (path.includes(";")) {
        const plain = path.replace(/;[^/]*/g, "");
        return matchRoute(routes, plain) !== matched;
    }
    return false;
}

const LOWERED = new WeakMap<readonly Route[], Route[]>();

/** The routes with their prefixes in lower case, made once per table. */
function lowerRoutes(routes: readonly Route[]): Route[] {
    let lowered = LOWERED.get(routes);
    if (!lowered) {
        lowered = routes.map((r) => ({ ...r, prefix: r.prefix.toLowerCase() }));
        LOWERED.set(routes, lowered);
    }
    return lowered;
}
