import type * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { API_KEY_HEADER, IDENTITY_HEADERS, IDENTITY_PREFIX } from "./auth";
import type { Route } from "./routes";

/** Headers that describe one connection, not the message (RFC 9110, 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
]);
/**
 * Request headers the gateway sets or re-frames itself: the host is the upstream's, the body is sent
 * whole with its own length, and an expectation is answered by the gateway.
 */
export const REQUEST_DROP: ReadonlySet<string> = new Set([...HOP_BY_HOP, "host", "content-length", "expect", "x-request-id"]);
/**
 * With tracing on, the gateway starts each trace: a `traceparent` from the internet would let any client
 * choose the trace id and the sampling decision the backends follow, so the client's trace context stops here.
 */
export const TRACED_REQUEST_DROP: ReadonlySet<string> = new Set([...REQUEST_DROP, "traceparent", "tracestate"]);
const RESPONSE_DROP = new Set([...HOP_BY_HOP, "x-request-id"]);

/** Who a verified request comes from. */
export interface Identity {
    subject: string;
    method: string;
}

/** What the upstream request's headers depend on besides the request. */
export interface ForwardingPolicy {
    /** The peer is a load balancer whose `X-Forwarded-Proto` and `X-Forwarded-Port` are kept. */
    trustProxy: boolean;
    /** The client's headers never forwarded (`REQUEST_DROP` or `TRACED_REQUEST_DROP`). */
    drop: ReadonlySet<string>;
}

/**
 * The gateway's own headers first (request id, forwarded, identity), so that no limit on the number
 * of headers downstream can drop them; then the client's, without hop-by-hop headers, those named in
 * `Connection`, and any the client may not set (forwarded, identity, the credential the gateway
 * consumed).
 */
export function upstreamHeaders(req: http.IncomingMessage, route: Route, requestId: string, policy: ForwardingPolicy, identity?: Identity): string[] {
    const out = ["x-request-id", requestId, ...forwardedHeaders(req, policy.trustProxy)];
    if (identity) {
        out.push(IDENTITY_HEADERS.subject, identity.subject, IDENTITY_HEADERS.method, identity.method);
    }
    const raw = req.rawHeaders;
    const named = connectionTokens(req.headers.connection);
    const credential = route.auth === "jwt" ? "authorization" : route.auth === "apiKey" ? API_KEY_HEADER : undefined;
    for (let i = 0; i < raw.length; i += 2) {
        let name = raw[i].toLowerCase();
        // Servers that map header names to CGI variables (HTTP_X_AUTH_SUBJECT) cannot tell `x_auth_subject`
        // from `x-auth-subject`: an underscore spelling of a header the gateway sets or drops is dropped too.
        if (name.includes("_")) {
            name = name.replace(/_/g, "-");
        }
        if (
            policy.drop.has(name) ||
            name.startsWith("x-forwarded-") ||
            name.startsWith(IDENTITY_PREFIX) ||
            name === credential ||
            (named !== undefined && named.has(name))
        ) {
            continue;
        }
        out.push(raw[i], raw[i + 1]);
    }
    return out;
}

/** `X-Forwarded-For` (the client's chain plus the peer), `-Host`, `-Proto` and `-Port`, as a raw header list. */
function forwardedHeaders(req: http.IncomingMessage, trustProxy: boolean): string[] {
    const raw = req.rawHeaders;
    const chain: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 15 && raw[i].toLowerCase() === "x-forwarded-for") {
            chain.push(raw[i + 1]);
        }
    }
    chain.push(req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "unknown");
    const out = ["x-forwarded-for", chain.join(", ")];
    if (req.headers.host) {
        out.push("x-forwarded-host", req.headers.host);
    }
    const proto = trustProxy ? single(req.headers["x-forwarded-proto"]) : undefined;
    out.push("x-forwarded-proto", proto === "https" || proto === "http" ? proto : "http");
    const port = trustProxy ? single(req.headers["x-forwarded-port"]) : undefined;
    out.push("x-forwarded-port", port && /^\d{1,5}$/.test(port) ? port : String(req.socket.localPort ?? ""));
    return out;
}

/** The upstream's response headers the client gets, as a raw header list: without hop-by-hop ones. */
export function passedResponseHeaders(headers: IncomingHttpHeaders): string[] {
    const named = connectionTokens(headers.connection);
    const out: string[] = [];
    for (const name in headers) {
        const value = headers[name];
        if (value === undefined || RESPONSE_DROP.has(name) || (named !== undefined && named.has(name))) {
            continue;
        }
        if (Array.isArray(value)) {
            for (const v of value) {
                out.push(name, v);
            }
        } else {
            out.push(name, value);
        }
    }
    return out;
}

/** How many Host header fields a request has (node:http keeps only the first in `headers`). */
export function hostCount(raw: string[]): number {
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 4 && raw[i].toLowerCase() === "host") {
            hosts++;
        }
    }
    return hosts;
}

/** node:http sets `complete` only after the handler runs, even for a request without a body. */
export function hasUnreadBody(req: http.IncomingMessage): boolean {
    return !req.complete && (req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0);
}

function single(value: string | string[] | undefined): string | undefined {
    return Array.isArray(value) ? value[value.length - 1] : value?.split(",").pop()?.trim();
}

/** The header names listed in a `Connection` header, lowercased; undefined when there are none. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
    if (value === undefined) {
        return undefined;
    }
    const tokens = (Array.isArray(value) ? value.join(",") : value)
        .split(",")
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean);
    return tokens.length > 0 ? new Set(tokens) : undefined;
}
