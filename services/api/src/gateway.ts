import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { SpanKind, type Span } from "@opentelemetry/api";
import pino, { type Logger } from "pino";
import type { Dispatcher } from "undici";
import { acceptedRequestId, clientErrorResponse, errorBody, MAX_REQUEST_TARGET, rawError } from "@berth/kit/errors";
import { ConnectionTracker, KEEP_ALIVE_TIMEOUT_MS } from "@berth/kit/http";
import { contextWith, endWithResponse, REQUEST_ID_ATTRIBUTE, ROOT_CONTEXT, type Tracing } from "@berth/kit/tracing";
import type { Authenticator } from "./auth";
import { BodyBuffers, type BodyLimits } from "./bodies";
import { Clients, CONNECTION, ConnectionGuard, lastForwardedFor, openFileLimit, type Client, type GuardedSocket } from "./clients";
import { Exchange, type ExchangeHost } from "./exchange";
import {
    hasUnreadBody,
    hostCount,
    passedResponseHeaders,
    REQUEST_DROP,
    TRACED_REQUEST_DROP,
    upstreamHeaders,
    type ForwardingPolicy,
    type Identity,
} from "./headers";
import { DEFAULT_TIMEOUT_MS, type GatewayOptions } from "./options";
import { normalisePath, PathError } from "./paths";
import { hasNestedRoutes, matchRoute, readsAsAnotherRoute, type Route } from "./routes";
import { Pools, Upstream } from "./upstreams";

export { DEFAULT_TIMEOUT_MS, type GatewayOptions } from "./options";

/** Longest request target; longer ones answer 414 (node:http's 16 KiB header limit comes after). */
const MAX_URL_LENGTH = MAX_REQUEST_TARGET;

/**
 * The public API gateway: `GET /health`, and every path under a route forwarded to one of its origins
 * over keep-alive pools. Built on node:http and undici's `dispatch()`: the upstream's chunks go straight
 * into the client's response, with no framework router or stream pipeline on the hot path (see bench/).
 *
 * A request's life: limits (method, header count, URL) -> route -> credential (when the route asks for
 * one) -> body, read whole within `bodyLimit` and `timeoutMs` (so no slow client ever holds an upstream
 * connection, and an idempotent request can be sent again) -> one upstream attempt, and at most one
 * retry, within `timeoutMs` including the wait for a connection -> the response streamed back.
 */
export class Gateway implements ExchangeHost {
    readonly server: http.Server;
    readonly tracker: ConnectionTracker;
    readonly timeoutMs: number;
    private readonly upstreams = new Map<Route, Upstream>();
    private readonly pools: Pools;
    private readonly bodies: BodyBuffers;
    private readonly clientRequests: number;
    /** Some route lies under another: paths that a backend could read as the other route are refused. */
    private readonly nestedRoutes: boolean;
    readonly clients = new Clients();
    readonly guard: ConnectionGuard;
    private readonly maxHeaders: number;
    private readonly stuckAfterMs: number;
    private readonly trustProxy: boolean;
    private readonly auth?: Authenticator;
    readonly log: Logger;
    readonly tracing?: Tracing;
    private readonly forwarding: ForwardingPolicy;
    /** Each traced request's SERVER span, found again when the request is forwarded. */
    private readonly serverSpans = new WeakMap<http.ServerResponse, Span>();
    private closing = false;

    constructor(private readonly options: GatewayOptions) {
        if (!options.auth && options.routes.some((r) => r.auth !== "none")) {
            throw new Error(
                `routes ${options.routes
                    .filter((r) => r.auth !== "none")
                    .map((r) => r.prefix)
                    .join(", ")} require authentication, but the gateway has no authenticator`,
            );
        }
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        this.bodies = new BodyBuffers(bodyLimits(options, this.timeoutMs), this.clients);
        const connections = options.connections ?? 128;
        this.clientRequests = options.clientRequests ?? 64;
        this.nestedRoutes = hasNestedRoutes(options.routes);
        this.maxHeaders = options.maxHeaders ?? 100;
        this.stuckAfterMs = options.stuckAfterMs ?? 3 * this.timeoutMs;
        this.trustProxy = options.trustProxy ?? false;
        this.auth = options.auth;
        this.log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info", base: { service: "api" } });
        this.tracing = options.tracing;
        this.forwarding = { trustProxy: this.trustProxy, drop: this.tracing ? TRACED_REQUEST_DROP : REQUEST_DROP };
        this.pools = new Pools({ connections, timeoutMs: this.timeoutMs });
        for (const route of options.routes) {
            this.upstreams.set(route, new Upstream(route, this.pools));
        }
        this.server = this.createServer(this.bodies.limits.bodyTimeoutMs);
        // Below the file descriptors the process may open, with room for upstream connections and logs.
        const files = openFileLimit();
        this.guard = new ConnectionGuard(
            this.server,
            {
                maxConnections: options.maxConnections ?? Math.min(10_000, files === undefined ? 10_000 : files - Math.min(1024, Math.floor(files / 2))),
                clientConnections: this.trustProxy ? 0 : (options.clientConnections ?? 256),
            },
            this.clients,
            this.log,
        );
        this.tracker = new ConnectionTracker(this.server);
        this.answerOutsideHandler();
    }

    private createServer(bodyTimeoutMs: number): http.Server {
        const server = http.createServer(
            {
                keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
                // node:http answers a missing Host with an empty 400; the gateway answers it in JSON itself.
                requireHostHeader: false,
                // How often node:http looks for request heads past `headersTimeout` (30 s by default).
                connectionsCheckingInterval: Math.min(1000, this.timeoutMs),
            },
            (req, res) => this.handle(req, res, false),
        );
        // A request head must arrive within `timeoutMs` (idle keep-alive connections are not affected:
        // `keepAliveTimeout` covers them), and the whole request well before node:http's 300 s.
        server.headersTimeout = this.timeoutMs;
        server.requestTimeout = this.timeoutMs + bodyTimeoutMs;
        // Every header counts toward `maxHeaders`: node:http's default (2000) would drop the rest silently.
        server.maxHeadersCount = 0;
        return server;
    }

    /** What node:http does not hand to `handle`: expectations, CONNECT, and requests it cannot parse. */
    private answerOutsideHandler(): void {
        // The gateway answers `Expect: 100-continue` itself, once it knows it will take the body.
        this.server.on("checkContinue", (req, res) => this.handle(req, res, true));
        this.server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) => {
            res.shouldKeepAlive = false;
            this.sendError(res, 417, `Expectation ${JSON.stringify(req.headers.expect)} is not supported; allowed: 100-continue`, this.requestIdOf(req));
        });
        this.server.on("connect", (req: http.IncomingMessage, socket: Socket) => {
            socket.on("error", () => undefined);
            socket.end(
                rawError(405, `${req.method} is not allowed; the gateway forwards HTTP requests only`, this.requestIdOf(req), {
                    allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
                }),
            );
        });
        // Requests that are not HTTP at all, or too large to parse, never reach `handle`.
        this.server.on("clientError", (err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
            if (!socket.writable || err.code === "ECONNRESET") {
                socket.destroy();
                return;
            }
            socket.end(clientErrorResponse(err, this.requestIdOf(undefined)));
        });
    }

    /**
     * Stops accepting and answers 503 on `/health`; resolves once in-flight requests are done and every
     * connection is closed. Idle and stalled client connections are closed by the tracker (see
     * `shutDown` in the kit), which also cuts what is left at its deadline.
     */
    async close(): Promise<void> {
        this.closing = true;
        await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
        await this.pools.close();
    }

    /** Route prefixes whose requests have waited past `stuckAfterMs` without any getting a connection. */
    stuckRoutes(): string[] {
        const now = Date.now();
        return [...this.upstreams.values()].filter((u) => u.stuckFor(now) > this.stuckAfterMs).map((u) => u.route.prefix);
    }

    private requestIdOf(req: http.IncomingMessage | undefined): string {
        return (req && acceptedRequestId(req.headers["x-request-id"])) ?? randomUUID();
    }

    /** Who sent the request, for the per-client budgets (see `clients.ts`). */
    private clientOf(req: http.IncomingMessage): Client {
        const peer = (req.socket as GuardedSocket)[CONNECTION]?.peer ?? this.clients.get("unknown");
        if (!this.trustProxy) {
            return peer;
        }
        const forwarded = lastForwardedFor(req);
        return forwarded === undefined ? peer : this.clients.get(forwarded);
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): void {
        const started = process.hrtime.bigint();
        const requestId = this.requestIdOf(req);
        this.observe(req, res, requestId, started);
        if (!this.withinLimits(req, res, requestId)) {
            return;
        }
        const path = this.routedPath(req, res, requestId);
        if (path === undefined) {
            return;
        }
        if (path === "/health") {
            return this.health(req, res, requestId);
        }
        const route = matchRoute(this.options.routes, path);
        if (this.nestedRoutes && readsAsAnotherRoute(this.options.routes, path, route)) {
            return this.refuse(
                res,
                400,
                `Request path ${JSON.stringify(path)} reads as another route when its case or its ";" parameters are ignored, as some backends do; allowed: the route's own spelling`,
                requestId,
            );
        }
        if (!route) {
            return this.refuse(res, 404, `No route for ${req.method} ${path}`, requestId);
        }
        try {
            this.admit(req, res, route, requestId, expectsContinue);
        } catch (err) {
            this.failed(res, requestId, err as Error);
        }
    }

    /** Traces the request, marks its connection busy until the response finishes, and logs the response. */
    private observe(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, started: bigint): void {
        if (this.tracing) {
            this.traceRequest(req, res, requestId);
        }
        const connection = (req.socket as GuardedSocket)[CONNECTION];
        if (connection) {
            connection.served = connection.busy = true;
        }
        res.once("finish", () => {
            if (connection) {
                connection.busy = false;
            }
            this.log.info(
                {
                    requestId,
                    method: req.method,
                    url: req.url,
                    status: res.statusCode,
                    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
                },
                "request",
            );
        });
    }

    /** The method, header count, Host fields and target length; false once the request is refused. */
    private withinLimits(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): boolean {
        if (req.method === "TRACE") {
            res.setHeader("allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
            this.refuse(res, 405, "TRACE is not allowed", requestId);
            return false;
        }
        if (req.rawHeaders.length / 2 > this.maxHeaders) {
            this.refuse(res, 431, `The request has ${req.rawHeaders.length / 2} header fields; allowed: at most ${this.maxHeaders}`, requestId);
            return false;
        }
        const hosts = hostCount(req.rawHeaders);
        // RFC 9112, 3.2: a server answers 400 to an HTTP/1.1 request without Host, or with more than one.
        if (hosts > 1 || (hosts === 0 && req.httpVersion === "1.1")) {
            this.refuse(res, 400, hosts > 1 ? `The request has ${hosts} Host header fields; allowed: one` : "The request has no Host header field", requestId);
            return false;
        }
        const url = req.url ?? "/";
        if (url.length > MAX_URL_LENGTH) {
            this.refuse(res, 414, `The request target has ${url.length} characters; allowed: at most ${MAX_URL_LENGTH}`, requestId);
            return false;
        }
        return true;
    }

    /**
     * The request's path, normalised, with `req.url` rewritten to it so that the backend gets the path the
     * route was matched on; undefined once the request is refused.
     */
    private routedPath(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): string | undefined {
        const url = req.url ?? "/";
        const queryAt = url.indexOf("?");
        const path = queryAt === -1 ? url : url.slice(0, queryAt);
        if (!path.startsWith("/")) {
            this.refuse(res, 400, `Request target ${JSON.stringify(url)} is not a path`, requestId);
            return undefined;
        }
        try {
            const normal = normalisePath(path);
            if (normal !== path) {
                req.url = queryAt === -1 ? normal : normal + url.slice(queryAt);
            }
            return normal;
        } catch (err) {
            if (err instanceof PathError) {
                this.refuse(res, 400, err.message, requestId);
                return undefined;
            }
            throw err;
        }
    }

    /** Starts the request's SERVER span, a new trace, and ends it when the response closes. */
    private traceRequest(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): void {
        const url = req.url ?? "/";
        const queryAt = url.indexOf("?");
        const path = queryAt === -1 ? url : url.slice(0, queryAt);
        // Probes every few seconds from the ALB and ECS: traces of them would drown the requests' (and be billed).
        if (path === "/health") {
            return;
        }
        const span = this.tracing!.tracer.startSpan(
            req.method ?? "HTTP",
            {
                kind: SpanKind.SERVER,
                attributes: {
                    "http.request.method": req.method,
                    "url.path": path,
                    "url.scheme": "http",
                    [REQUEST_ID_ATTRIBUTE]: requestId,
                },
            },
            ROOT_CONTEXT,
        );
        this.serverSpans.set(res, span);
        endWithResponse(span, res);
    }

    /** A bug, not a fault of the client or the upstream: 500, logged. */
    private failed(res: http.ServerResponse, requestId: string, err: Error): void {
        this.log.error({ requestId, err: err.message, stack: err.stack }, "request failed");
        if (!res.headersSent && !res.destroyed) {
            this.refuse(res, 500, "Internal error", requestId);
        } else {
            res.destroy();
        }
    }

    private health(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): void {
        if (req.method !== "GET" && req.method !== "HEAD") {
            res.setHeader("allow", "GET, HEAD");
            return this.refuse(res, 405, `${req.method} is not allowed on /health; allowed: GET, HEAD`, requestId);
        }
        if (this.closing) {
            return this.sendJson(res, 503, { status: "closing", service: "api" }, requestId);
        }
        const stuck = this.stuckRoutes();
        if (this.upstreams.size > 0 && stuck.length === this.upstreams.size) {
            return this.sendJson(res, 503, { status: "stuck", service: "api", stuck }, requestId);
        }
        this.sendJson(res, 200, { status: "ok", service: "api", ...(this.options.commit ? { commit: this.options.commit } : {}) }, requestId);
    }

    /**
     * Credential, then body, then the upstream. Synchronous for a public route without a body, the hot
     * path: no promise per request.
     */
    private admit(req: http.IncomingMessage, res: http.ServerResponse, route: Route, requestId: string, expectsContinue: boolean): void {
        if (route.auth === "none") {
            return this.receive(req, res, route, requestId, expectsContinue);
        }
        this.auth!.check(route.auth, req.headers)
            .then((verdict) => {
                if (res.destroyed) {
                    return;
                }
                if (!verdict.ok) {
                    if (verdict.challenge) {
                        res.setHeader("www-authenticate", verdict.challenge);
                    }
                    return this.refuse(res, verdict.status, verdict.message, requestId);
                }
                this.receive(req, res, route, requestId, expectsContinue, verdict);
            })
            .catch((err: Error) => this.failed(res, requestId, err));
    }

    private receive(req: http.IncomingMessage, res: http.ServerResponse, route: Route, requestId: string, expectsContinue: boolean, identity?: Identity): void {
        const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
        const { bodyLimit } = this.bodies.limits;
        if (declared !== undefined && declared > bodyLimit) {
            return this.refuse(res, 413, `Request body of ${declared} bytes is over the limit of ${bodyLimit}`, requestId);
        }
        if (req.headers["transfer-encoding"] === undefined && !declared) {
            return this.forward(req, res, route, requestId, identity, null);
        }
        if (expectsContinue) {
            res.writeContinue();
        }
        this.bodies
            .read(req, res, this.clientOf(req), (status, message) => this.refuse(res, status, message, requestId))
            .then((read) => {
                if (read !== undefined) {
                    // GET and HEAD bodies have no meaning (RFC 9110, 9.3.1): read to keep the connection in step, not sent.
                    this.forward(req, res, route, requestId, identity, req.method === "GET" || req.method === "HEAD" ? null : read);
                }
            })
            .catch((err: Error) => this.failed(res, requestId, err));
    }

    private forward(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        route: Route,
        requestId: string,
        identity: Identity | undefined,
        body: Buffer | null,
    ): void {
        const client = this.clientOf(req);
        if (client.requests >= this.clientRequests) {
            res.setHeader("retry-after", "1");
            return this.refuse(res, 429, `You have ${client.requests} requests in flight; allowed: at most ${this.clientRequests} at once`, requestId);
        }
        const span = this.tracing && this.serverSpans.get(res);
        if (span) {
            span.updateName(`${req.method} ${route.prefix}`);
            span.setAttribute("http.route", route.prefix);
        }
        new Exchange(
            this,
            req,
            res,
            this.upstreams.get(route)!,
            client,
            requestId,
            {
                path: req.url!,
                method: req.method as Dispatcher.HttpMethod,
                headers: upstreamHeaders(req, route, requestId, this.forwarding, identity),
                body,
            },
            span && contextWith(span),
            span?.isRecording(),
        ).start();
    }

    /** The client's response headers from the upstream's, and the ones every response carries. */
    responseHeaders(headers: IncomingHttpHeaders, requestId: string): string[] {
        return this.commonHeaders(passedResponseHeaders(headers), requestId);
    }

    /** Adds the headers every response carries to a raw header list. */
    private commonHeaders(out: string[], requestId: string): string[] {
        out.push("x-request-id", requestId);
        if (this.closing) {
            // Tells the client to hang up, so that its keep-alive connection does not hold the shutdown open.
            out.push("connection", "close");
        }
        return out;
    }

    private sendJson(res: http.ServerResponse, status: number, body: unknown, requestId: string): void {
        const text = JSON.stringify(body);
        res.writeHead(
            status,
            this.commonHeaders(["content-type", "application/json; charset=utf-8", "content-length", String(Buffer.byteLength(text))], requestId),
        );
        res.end(text);
    }

    sendError(res: http.ServerResponse, status: number, message: string, requestId: string): void {
        this.sendJson(res, status, errorBody(status, message, requestId), requestId);
    }

    /**
     * An answer given before the request body (if any) was read: the connection closes after it, since
     * the unread body would otherwise be parsed as the next request.
     */
    private refuse(res: http.ServerResponse, status: number, message: string, requestId: string): void {
        if (res.headersSent || res.destroyed) {
            return;
        }
        // Past a size or time limit the client is not one to keep a connection open for.
        if (hasUnreadBody(res.req) || [408, 413, 414, 431].includes(status)) {
            res.shouldKeepAlive = false;
        }
        this.sendError(res, status, message, requestId);
    }
}

/** The body limits of `options`, with their defaults (see `GatewayOptions`). */
function bodyLimits(options: GatewayOptions, timeoutMs: number): BodyLimits {
    const bufferLimit = options.bufferLimit ?? 64 * 1024 * 1024;
    return {
        bodyLimit: options.bodyLimit ?? 1024 * 1024,
        bufferLimit,
        clientBufferLimit: options.clientBufferLimit ?? Math.floor(bufferLimit / 8),
        smallBody: options.smallBody ?? 64 * 1024,
        largeBufferLimit: bufferLimit - (options.smallBodyReserve ?? Math.floor(bufferLimit / 8)),
        bodyTimeoutMs: options.bodyTimeoutMs ?? 3 * timeoutMs,
        timeoutMs,
        minBodyBytes: Math.ceil(((options.minBodyRate ?? 1024) * timeoutMs) / 1000),
    };
}
