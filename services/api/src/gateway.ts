import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import pino, { type Logger } from "pino";
import { Pool, errors as undiciErrors, type Dispatcher } from "undici";
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

/** Headers that describe one connection, not the message: never forwarded (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set([
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "host",
]);

/**
 * The public API gateway: `GET /health`, and every path under a route forwarded to its upstream over a
 * keep-alive pool. Built on node:http and undici's `dispatch()`: the upstream's chunks go straight into
 * the client's response, with no framework router, stream pipeline or promise per request on the hot path
 * (see bench/ for what that buys against undici's higher-level `stream()` and nginx).
 */
export class Gateway {
    readonly server: http.Server;
    private readonly routes: Route[];
    private readonly pools = new Map<string, Pool>();
    private readonly bodyLimit: number;
    private readonly log: Logger;
    private closing = false;

    constructor(options: GatewayOptions) {
        const timeoutMs = options.timeoutMs ?? 10_000;
        this.routes = options.routes;
        this.bodyLimit = options.bodyLimit ?? 1024 * 1024;
        this.log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info", base: { service: "api" } });
        for (const route of options.routes) {
            if (!this.pools.has(route.origin)) {
                this.pools.set(route.origin, new Pool(route.origin, {
                    connections: options.connections ?? 128,
                    headersTimeout: timeoutMs,
                    bodyTimeout: timeoutMs,
                }));
            }
        }
        this.server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => this.handle(req, res));
        this.server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
        // Requests that are not HTTP at all never reach `handle`: answer them in the same JSON shape.
        this.server.on("clientError", (err: Error & { code?: string }, socket) => {
            if (!socket.writable || err.code === "ECONNRESET") {
                socket.destroy();
                return;
            }
            const body = JSON.stringify(errorBody(400, "Malformed HTTP request"));
            socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
        });
    }

    /** Stops accepting, lets in-flight requests finish, then closes the upstream pools. */
    close(): Promise<void> {
        this.closing = true;
        return new Promise<void>((resolve, reject) => {
            this.server.close((err) => {
                Promise.all([...this.pools.values()].map((p) => p.close()))
                    .then(() => (err ? reject(err) : resolve()), reject);
            });
            // Busy connections close after their response (see `headers`), idle ones now.
            this.server.closeIdleConnections();
        });
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const started = process.hrtime.bigint();
        const requestId = acceptedRequestId(req.headers["x-request-id"]) ?? randomUUID();
        res.once("finish", () => {
            this.log.info({
                requestId, method: req.method, url: req.url, status: res.statusCode,
                durationMs: Number(process.hrtime.bigint() - started) / 1e6,
            }, "request");
        });

        const url = req.url ?? "/";
        const queryAt = url.indexOf("?");
        const path = queryAt === -1 ? url : url.slice(0, queryAt);
        if (!path.startsWith("/")) {
            return this.sendError(res, 400, `Request target ${JSON.stringify(url)} is not a path`, requestId);
        }
        if (path === "/health") {
            if (req.method !== "GET" && req.method !== "HEAD") {
                res.setHeader("allow", "GET, HEAD");
                return this.sendError(res, 405, `${req.method} is not allowed on /health; allowed: GET, HEAD`, requestId);
            }
            return this.sendJson(res, 200, { status: "ok", service: "api" }, requestId);
        }
        const route = matchRoute(this.routes, path);
        if (!route) {
            return this.sendError(res, 404, `No route for ${req.method} ${path}`, requestId);
        }
        const length = Number(req.headers["content-length"] ?? 0);
        if (length > this.bodyLimit) {
            // The unread body would otherwise be parsed as the next request.
            res.shouldKeepAlive = false;
            return this.sendError(res, 413, `Request body of ${length} bytes is over the limit of ${this.bodyLimit}`, requestId);
        }
        this.forward(req, res, route, requestId);
    }

    private forward(req: http.IncomingMessage, res: http.ServerResponse, route: Route, requestId: string): void {
        const raw = req.rawHeaders;
        const headers: string[] = [];
        let forwardedFor = req.socket.remoteAddress ?? "";
        let hasProto = false;
        let hasHost = false;
        for (let i = 0; i < raw.length; i += 2) {
            const name = raw[i].toLowerCase();
            if (HOP_BY_HOP.has(name) || name === "x-request-id") {
                continue;
            }
            if (name === "x-forwarded-for") {
                forwardedFor = `${raw[i + 1]}, ${forwardedFor}`;
                continue;
            }
            hasProto ||= name === "x-forwarded-proto";
            hasHost ||= name === "x-forwarded-host";
            headers.push(raw[i], raw[i + 1]);
        }
        headers.push("x-request-id", requestId, "x-forwarded-for", forwardedFor);
        if (!hasProto) {
            headers.push("x-forwarded-proto", "http");
        }
        if (!hasHost && req.headers.host) {
            headers.push("x-forwarded-host", req.headers.host);
        }
        const hasBody = req.method !== "GET" && req.method !== "HEAD" &&
            (req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined);

        this.pools.get(route.origin)!.dispatch(
            { path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : null },
            new ProxyHandler(this, res, route, requestId),
        );
    }

    /** Called by ProxyHandler when the upstream failed. */
    upstreamFailed(res: http.ServerResponse, route: Route, requestId: string, err: Error & { code?: string }): void {
        if (res.headersSent) {
            // The upstream failed mid-body: the client must not take a truncated body for a whole one.
            this.log.warn({ requestId, err: err.message, upstream: route.origin }, "upstream failed mid-response");
            res.destroy(err);
            return;
        }
        const status = isTimeout(err) ? 504 : 502;
        this.log.warn({ requestId, err: err.message, code: err.code, upstream: route.origin, status }, "upstream failed");
        this.sendError(res, status, status === 504
            ? `${route.prefix} did not answer in time`
            : `${route.prefix} is unavailable`, requestId);
    }

    /** Adds the headers every response carries to a raw header list. */
    commonHeaders(out: string[], requestId: string): string[] {
        out.push("x-request-id", requestId);
        if (this.closing) {
            // Tells the client to hang up, so that its keep-alive connection does not hold the shutdown open.
            out.push("connection", "close");
        }
        return out;
    }

    private sendJson(res: http.ServerResponse, status: number, body: unknown, requestId: string): void {
        const text = JSON.stringify(body);
        res.writeHead(status, this.commonHeaders([
            "content-type", "application/json; charset=utf-8",
            "content-length", String(Buffer.byteLength(text)),
        ], requestId));
        res.end(text);
    }

    private sendError(res: http.ServerResponse, status: number, message: string, requestId: string): void {
        this.sendJson(res, status, errorBody(status, message, requestId), requestId);
    }
}

function isTimeout(err: Error): boolean {
    return err instanceof undiciErrors.HeadersTimeoutError ||
        err instanceof undiciErrors.BodyTimeoutError ||
        err instanceof undiciErrors.ConnectTimeoutError;
}

/**
 * Writes one upstream response into the client's response as it arrives, with backpressure both ways, and
 * aborts the upstream request when the client goes away.
 */
class ProxyHandler implements Dispatcher.DispatchHandler {
    private controller?: Dispatcher.DispatchController;

    constructor(
        private readonly gateway: Gateway,
        private readonly res: http.ServerResponse,
        private readonly route: Route,
        private readonly requestId: string,
    ) {
        res.once("close", () => {
            if (!res.writableFinished) {
                this.controller?.abort(new Error("client went away"));
            }
        });
    }

    onRequestStart(controller: Dispatcher.DispatchController): void {
        this.controller = controller;
    }

    onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
        const out: string[] = [];
        for (const name in headers) {
            const value = headers[name];
            if (value === undefined || HOP_BY_HOP.has(name) || name === "x-request-id") {
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
        this.res.writeHead(statusCode, this.gateway.commonHeaders(out, this.requestId));
    }

    onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
        if (!this.res.write(chunk)) {
            controller.pause();
            this.res.once("drain", () => controller.resume());
        }
    }

    onResponseEnd(): void {
        this.res.end();
    }

    onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
        this.gateway.upstreamFailed(this.res, this.route, this.requestId, err);
    }
}
