import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { Pool, errors as undiciErrors } from "undici";
import { acceptedRequestId, errorBody } from "../../kit/src/errors";
import { KEEP_ALIVE_TIMEOUT_MS } from "../../kit/src/http";
import { matchRoute, type Route } from "./routes";

export interface GatewayOptions {
    routes: Route[];
    /**
     * How long an upstream may take to send its response headers, and then each piece of its body,
     * before the gateway answers 504.
     * @default 10000
     */
    timeoutMs?: number;
    /**
     * Largest request body in bytes, by its Content-Length; a larger one answers 413.
     * @default 1048576
     */
    bodyLimit?: number;
    /**
     * Keep-alive connections per upstream.
     * @default 128
     */
    connections?: number;
    logger?: Logger;
}

export interface Gateway {
    server: http.Server;
    /** Stops accepting, lets in-flight requests finish, closes the upstream pools. */
    close(): Promise<void>;
}

/** Headers that describe one connection, not the message: never forwarded (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set([
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "host",
]);

/**
 * The public API gateway: `GET /health`, and every path under a route forwarded to its upstream over a
 * keep-alive pool. Built on node:http and undici's `stream()`, which writes the upstream's body straight
 * into the client's response: no framework router or body copy on the hot path.
 */
export function createGateway(options: GatewayOptions): Gateway {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const bodyLimit = options.bodyLimit ?? 1024 * 1024;
    const log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info", base: { service: "api" } });
    const pools = new Map<string, Pool>();
    for (const route of options.routes) {
        if (!pools.has(route.origin)) {
            pools.set(route.origin, new Pool(route.origin, {
                connections: options.connections ?? 128,
                keepAliveTimeout: 30_000,
                headersTimeout: timeoutMs,
                bodyTimeout: timeoutMs,
            }));
        }
    }
    let closing = false;

    const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
        const started = process.hrtime.bigint();
        const requestId = acceptedRequestId(req.headers["x-request-id"]) ?? randomUUID();
        res.setHeader("x-request-id", requestId);
        if (closing) {
            res.setHeader("connection", "close");
        }
        res.once("finish", () => {
            log.info({
                requestId, method: req.method, url: req.url, status: res.statusCode,
                durationMs: Number(process.hrtime.bigint() - started) / 1e6,
            }, "request");
        });

        const url = req.url ?? "/";
        const queryAt = url.indexOf("?");
        const path = queryAt === -1 ? url : url.slice(0, queryAt);
        if (!path.startsWith("/")) {
            return sendError(res, 400, `Request target ${JSON.stringify(url)} is not a path`, requestId);
        }
        if (path === "/health") {
            if (req.method !== "GET" && req.method !== "HEAD") {
                res.setHeader("allow", "GET, HEAD");
                return sendError(res, 405, `${req.method} is not allowed on /health; allowed: GET, HEAD`, requestId);
            }
            return sendJson(res, 200, { status: "ok", service: "api" });
        }
        const route = matchRoute(options.routes, path);
        if (!route) {
            return sendError(res, 404, `No route for ${req.method} ${path}`, requestId);
        }
        const length = Number(req.headers["content-length"] ?? 0);
        if (length > bodyLimit) {
            res.setHeader("connection", "close");
            return sendError(res, 413, `Request body of ${length} bytes is over the limit of ${bodyLimit}`, requestId);
        }
        forward(req, res, route, pools.get(route.origin)!, requestId, log);
    });
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;

    return {
        server,
        close: () => new Promise<void>((resolve, reject) => {
            closing = true;
            server.close((err) => {
                Promise.all([...pools.values()].map((p) => p.close())).then(() => (err ? reject(err) : resolve()), reject);
            });
            // Idle keep-alive connections would hold close() open; busy ones close after their response.
            server.closeIdleConnections();
        }),
    };
}

function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: Route,
    pool: Pool,
    requestId: string,
    log: Logger,
): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) {
            headers[name] = value;
        }
    }
    headers["x-request-id"] = requestId;
    const client = req.socket.remoteAddress ?? "";
    headers["x-forwarded-for"] = req.headers["x-forwarded-for"] ? `${req.headers["x-forwarded-for"]}, ${client}` : client;
    headers["x-forwarded-proto"] ??= "http";
    if (req.headers.host) {
        headers["x-forwarded-host"] ??= req.headers.host;
    }
    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;

    pool.stream({
        path: req.url!,
        method: req.method as "GET",
        headers,
        body: hasBody && req.method !== "GET" && req.method !== "HEAD" ? req : null,
        opaque: res,
    }, ({ statusCode, headers: upstreamHeaders, opaque }) => {
        const out = opaque as http.ServerResponse;
        for (const [name, value] of Object.entries(upstreamHeaders)) {
            if (value !== undefined && !HOP_BY_HOP.has(name) && name !== "x-request-id") {
                out.setHeader(name, value);
            }
        }
        out.statusCode = statusCode;
        return out as Writable;
    }).catch((err: NodeJS.ErrnoException) => {
        if (res.headersSent) {
            // The upstream failed mid-body: the client must not take a truncated body for a whole one.
            log.warn({ requestId, err: err.message, upstream: route.origin }, "upstream failed mid-response");
            res.destroy(err);
            return;
        }
        const status = isTimeout(err) ? 504 : 502;
        log.warn({ requestId, err: err.message, code: err.code, upstream: route.origin, status }, "upstream failed");
        sendError(res, status, status === 504
            ? `${route.prefix} did not answer in time`
            : `${route.prefix} is unavailable`, requestId);
    });
}

function isTimeout(err: NodeJS.ErrnoException): boolean {
    return err instanceof undiciErrors.HeadersTimeoutError ||
        err instanceof undiciErrors.BodyTimeoutError ||
        err instanceof undiciErrors.ConnectTimeoutError;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
}

function sendError(res: http.ServerResponse, status: number, message: string, requestId: string): void {
    sendJson(res, status, errorBody(status, message, requestId));
}
