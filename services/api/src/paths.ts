/**
 * The request path the gateway routes on, in one spelling. A backend decodes `%61` to `a` and may fold
 * dot segments or repeated slashes before it routes; if the gateway matched the raw text instead,
 * `/svc/%61dmin/secret` would pass `/svc`'s rules and reach `/svc/admin`'s handler. So the gateway decodes
 * what RFC 3986 (6.2.2.2) says is equivalent, refuses what could move a segment boundary, and forwards
 * exactly the path it matched.
 */

/** A request path the gateway refuses (400), with the reason the client sees. */
export class PathError extends Error {}

/** Any of these calls for the slow path: percent-escapes, dot segments, empty segments. */
const NEEDS_WORK = /%|\/\.|\/\//;
const ESCAPE = /%(?:([0-9A-Fa-f]{2})|)/g;
/** RFC 3986, 2.3: characters whose escaped and plain spellings are the same path. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/**
 * The path in its normal form: escapes of unreserved characters decoded (`%61` -> `a`), the other escapes
 * in upper case; the same string when there was nothing to do. Throws `PathError` for an invalid escape,
 * an escaped `/` or `\` (a backend may decode it into a segment boundary), a `.` or `..` segment
 * (clients resolve them before sending), or an empty segment inside the path (`//`, which some servers
 * fold into one slash).
 */
export function normalisePath(path: string): string {
    if (!NEEDS_WORK.test(path)) {
        return path;
    }
    const decoded = path.replace(ESCAPE, (escape: string, hex: string | undefined) => {
        if (hex === undefined) {
            throw new PathError(`Request path ${JSON.stringify(path)} has an invalid percent-encoding`);
        }
        const char = String.fromCharCode(parseInt(hex, 16));
        if (char === "/" || char === "\\") {
            throw new PathError(`Request path ${JSON.stringify(path)} has an encoded ${JSON.stringify(char)}; allowed: plain path segments`);
        }
        return UNRESERVED.test(char) ? char : escape.toUpperCase();
    });
    const segments = decoded.split("/");
    for (let i = 1; i < segments.length; i++) {
        const segment = segments[i];
        if (segment === "." || segment === "..") {
            throw new PathError(`Request path ${JSON.stringify(path)} has a ${JSON.stringify(segment)} segment; allowed: a resolved path`);
        }
        if (segment === "" && i < segments.length - 1) {
            throw new PathError(`Request path ${JSON.stringify(path)} has an empty segment ("//"); allowed: one slash between segments`);
        }
    }
    return decoded;
}
