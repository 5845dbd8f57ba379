/**
 * The gateway's route table: path prefixes to upstream base URLs, from the `ROUTES` environment variable
 * that the service catalogue produces.
 */

export interface Route {
    /** A path prefix such as `/users`: it matches `/users`, `/users/1` and `/users?x=1`, not `/usersx`. */
    prefix: string;
    /** The upstream's origin, e.g. `http://users:8080`. */
    origin: string;
}

/** Parses `ROUTES` (`{"/users":"http://users:8080"}`); throws an error that says what is wrong. */
export function parseRoutes(text: string | undefined): Route[] {
    if (text === undefined || text.trim() === "") {
        throw new Error('ROUTES is not set; allowed: a JSON object such as {"/users":"http://users:8080"}');
    }
    let table: unknown;
    try {
        table = JSON.parse(text);
    } catch {
        throw new Error(`ROUTES is not JSON: ${JSON.stringify(text)}`);
    }
    if (typeof table !== "object" || table === null || Array.isArray(table)) {
        throw new Error(`ROUTES must be a JSON object of path prefix to URL, got ${JSON.stringify(text)}`);
    }
    const routes: Route[] = [];
    for (const [prefix, target] of Object.entries(table)) {
        if (!/^\/[A-Za-z0-9._~\/-]*[^/]$/.test(prefix)) {
            throw new Error(`ROUTES: prefix ${JSON.stringify(prefix)} must be a path such as "/users", without a trailing slash`);
        }
        let url: URL;
        try {
            url = new URL(String(target));
        } catch {
            throw new Error(`ROUTES: ${prefix} points to ${JSON.stringify(target)}, which is not a URL`);
        }
        if (url.protocol !== "http:" || url.pathname !== "/" || url.search !== "") {
            throw new Error(`ROUTES: ${prefix} points to ${JSON.stringify(target)}; allowed: an http origin such as http://users:8080`);
        }
        routes.push({ prefix, origin: url.origin });
    }
    // Longest prefix first, so that "/users/admin" wins over "/users".
    return routes.sort((a, b) => b.prefix.length - a.prefix.length);
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
