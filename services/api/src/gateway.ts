import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { SpanKind, SpanStatusCode, type Context, type Span } from "@opentelemetry/api";
import pino, { type Logger } from "pino";
import { errors as undiciErrors, type Dispatcher } from "undici";
import { acceptedRequestId, clientErrorResponse, errorBody, MAX_REQUEST_TARGET, rawError } from "@berth/kit/errors";
import { ConnectionTracker, KEEP_ALIVE_TIMEOUT_MS } from "@berth/kit/http";
import { contextWith, endWithResponse, rawHeaderSetter, REQUEST_ID_ATTRIBUTE, ROOT_CONTEXT, type Tracing } from "@berth/kit/tracing";
import { API_KEY_HEADER, IDENTITY_HEADERS, IDENTITY_PREFIX, type Authenticator } from "./auth";
import { Clients, CONNECTION, ConnectionGuard, lastForwardedFor, openFileLimit, type Client, type GuardedSocket } from "./clients";
import { normalisePath, PathError } from "./paths";
import { hasNestedRoutes, matchRoute, readsAsAnotherRoute, type Route } from "./routes";
import { Pools, Upstream } from "./upstreams";

/** How long a request may wait for its upstream's response head, by default (`TIMEOUT_MS`). */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface GatewayOptions {
    routes: Route[];
    /**
     * How long a request may wait for an upstream connection plus the upstream's response headers, and
     * then each piece of the response body, before the gateway answers 504. Also how long a request head
     * may take to arrive (408), the window over which `minBodyRate` is measured, and how long a client may
     * leave a response unread before its connection is closed.
     * @default 10000
     */
    timeoutMs?: number;
    /**
     * Largest request body in bytes, whatever its framing (Content-Length or chunked); a larger one
     * answers 413.
     * @default 1048576
     */
    bodyLimit?: number;
    /**
     * Most bytes of request bodies held at once, over all requests being read: bodies are read whole
     * before they are sent on, and many large slow uploads must not exhaust the task's memory. A body
     * that would go over answers 503 with `Retry-After`.
     * @default 67108864 (64 MiB)
     */
    bufferLimit?: number;
    /**
     * Most bytes of request bodies one client holds at once; a body that would go over answers 429 with
     * `Retry-After`, so that one client cannot fill `bufferLimit` for everyone.
     * @default bufferLimit / 8 (8 MiB: eight bodies of the largest size)
     */
    clientBufferLimit?: number;
    /**
     * A body up to this size is small: small bodies may use all of `bufferLimit`, larger ones all but
     * `smallBodyReserve`, so that large bodies in flight never crowd a small one out.
     * @default 65536 (the backends' own body limit)
     */
    smallBody?: number;
    /**
     * Bytes of `bufferLimit` that only small bodies may use.
     * @default bufferLimit / 8
     */
    smallBodyReserve?: number;
    /**
     * How long a whole request body may take to arrive, from the end of its head; past it, 408.
     * @default 3 * timeoutMs
     */
    bodyTimeoutMs?: number;
    /**
     * Slowest a body may arrive, in bytes per second, measured over each `timeoutMs`: a body that brings
     * less in one such window (and is not complete) answers 408. A byte now and then no longer keeps a
     * body, and its share of the buffer, alive.
     * @default 1024
     */
    minBodyRate?: number;
    /**
     * Client connections open at once. Over it, the oldest connection that never finished a request
     * head is closed (else the oldest idle one), so that a flood of half-open connections cannot use up
     * the process's file descriptors.
     * @default 10000, or less so as to leave 1024 of the process's open files (half, under a low limit)
     * to upstream connections and the rest
     */
    maxConnections?: number;
    /**
     * Client connections open at once from one peer address, shed like `maxConnections`. Not applied
     * when `trustProxy` is set: the peer is then the load balancer, whose connections carry everyone's
     * requests.
     * @default 256
     */
    clientConnections?: number;
    /**
     * Requests of one client being forwarded or answered at once; more answer 429 with `Retry-After`,
     * so that one client (a slow reader, say) cannot hold every upstream connection.
     * @default 64 (half the default `connections`)
     */
    clientRequests?: number;
    /**
     * Keep-alive connections per upstream origin; requests beyond them wait (within `timeoutMs`).
     * @default 128
     */
    connections?: number;
    /**
     * Most header fields a request may carry; more answer 431. Backends cut header lists silently
     * (node:http keeps the first 2000), so the gateway refuses instead.
     * @default 100
     */
    maxHeaders?: number;
    /**
     * `/health` answers 503 once every route has had requests waiting this long without any getting an
     * upstream connection: the task can no longer serve, and ECS or the ALB should replace it.
     * @default 3 * timeoutMs
     */
    stuckAfterMs?: number;
    /**
     * The peer is a load balancer that sets `X-Forwarded-Proto` and `X-Forwarded-Port` itself (the ALB):
     * keep those, and take the last `X-Forwarded-For` entry (which it appends) as the client's address.
     * Otherwise the gateway sets them from its own connection, and the client is the peer.
     * @default false
     */
    trustProxy?: boolean;
    /** Verifies credentials on routes whose `auth` is not "none"; required when there are such routes. */
    auth?: Authenticator;
    logger?: Logger;
    /**
     * Traces every request: a SERVER span that starts a trace (a client's own `traceparent` is not trusted
     * and not passed on), and a CLIENT span per upstream attempt, whose context the backend receives as
     * `traceparent`.
     * @default none: no span, no header, nothing on the hot path
     */
    tracing?: Tracing;
    /**
     * The commit the gateway's image is built from (its task's `BERTH_COMMIT`): `/health` says it, so that
     * a probe through the public URL tells which version answers.
     * @default none: `/health` names no commit
     */
    commit?: string;
}

/** Headers that describe one connection, not the message (RFC 9110, 7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade",
]);
/**
 * Request headers the gateway sets or re-frames itself: the host is the upstream's, the body is sent
 * whole with its own length, and an expectation is answered by the gateway.
 */
const REQUEST_DROP = new Set([...HOP_BY_HOP, "host", "content-length", "expect", "x-request-id"]);
/**
 * With tracing on, the gateway starts each trace: a `traceparent` from the internet would let any client
 * choose the trace id and the sampling decision the backends follow, so the client's trace context stops here.
 */
const TRACED_REQUEST_DROP = new Set([...REQUEST_DROP, "traceparent", "tracestate"]);
const RESPONSE_DROP = new Set([...HOP_BY_HOP, "x-request-id"]);

/** Who a verified request comes from. */
interface Identity {
    subject: string;
    method: string;
}

/** RFC 9110, 9.2.2: methods whose repetition has the effect of one request. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/** Errors raised before a connection existed: nothing was sent, so any method may be retried. */
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** Errors of a connection that broke before any response byte: the request may or may not have run. */
const BROKEN_ERRORS = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

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
export class Gateway {
    readonly server: http.Server;
    readonly tracker: ConnectionTracker;
    readonly timeoutMs: number;
    private readonly upstreams = new Map<Route, Upstream>();
    private readonly pools: Pools;
    private readonly bodyLimit: number;
    private readonly bufferLimit: number;
    private readonly clientBufferLimit: number;
    private readonly smallBody: number;
    /** What bodies larger than `smallBody` may hold together: `bufferLimit` less the small bodies' reserve. */
    private readonly largeBufferLimit: number;
    private readonly bodyTimeoutMs: number;
    /** Bytes a body must bring in each `timeoutMs` (see `minBodyRate`). */
    private readonly minBodyBytes: number;
    private readonly clientRequests: number;
    /** Some route lies under another: paths that a backend could read as the other route are refused. */
    private readonly nestedRoutes: boolean;
    /** Bytes of request bodies held now, until each is sent on or dropped. */
    private buffered = 0;
    /** Of `buffered`, the bytes of bodies larger than `smallBody`. */
    private bufferedLarge = 0;
    readonly clients = new Clients();
    readonly guard: ConnectionGuard;
    private readonly maxHeaders: number;
    private readonly stuckAfterMs: number;
    private readonly trustProxy: boolean;
    private readonly auth?: Authenticator;
    readonly log: Logger;
    readonly tracing?: Tracing;
    private readonly requestDrop: Set<string>;
    /** Each traced request's SERVER span, found again when the request is forwarded. */
    private readonly serverSpans = new WeakMap<http.ServerResponse, Span>();
    private closing = false;

    constructor(private readonly options: GatewayOptions) {
        if (!options.auth && options.routes.some((r) => r.auth !== "none")) {
            throw new Error(`routes ${options.routes.filter((r) => r.auth !== "none").map((r) => r.prefix).join(", ")} require authentication, but the gateway has no authenticator`);
        }
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        this.bodyLimit = options.bodyLimit ?? 1024 * 1024;
        this.bufferLimit = options.bufferLimit ?? 64 * 1024 * 1024;
        this.clientBufferLimit = options.clientBufferLimit ?? Math.floor(this.bufferLimit / 8);
        this.smallBody = options.smallBody ?? 64 * 1024;
        this.largeBufferLimit = this.bufferLimit - (options.smallBodyReserve ?? Math.floor(this.bufferLimit / 8));
        this.bodyTimeoutMs = options.bodyTimeoutMs ?? 3 * this.timeoutMs;
        this.minBodyBytes = Math.ceil((options.minBodyRate ?? 1024) * this.timeoutMs / 1000);
        const connections = options.connections ?? 128;
        this.clientRequests = options.clientRequests ?? 64;
        this.nestedRoutes = hasNestedRoutes(options.routes);
        this.maxHeaders = options.maxHeaders ?? 100;
        this.stuckAfterMs = options.stuckAfterMs ?? 3 * this.timeoutMs;
        this.trustProxy = options.trustProxy ?? false;
        this.auth = options.auth;
        this.log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info", base: { service: "api" } });
        this.tracing = options.tracing;
        this.requestDrop = this.tracing ? TRACED_REQUEST_DROP : REQUEST_DROP;
        this.pools = new Pools({ connections, timeoutMs: this.timeoutMs });
        for (const route of options.routes) {
            this.upstreams.set(route, new Upstream(route, this.pools));
        }

        this.server = http.createServer({
            keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
            // node:http answers a missing Host with an empty 400; the gateway answers it in JSON itself.
            requireHostHeader: false,
            // How often node:http looks for request heads past `headersTimeout` (30 s by default).
            connectionsCheckingInterval: Math.min(1000, this.timeoutMs),
        }, (req, res) => this.handle(req, res, false));
        // A request head must arrive within `timeoutMs` (idle keep-alive connections are not affected:
        // `keepAliveTimeout` covers them), and the whole request well before node:http's 300 s.
        this.server.headersTimeout = this.timeoutMs;
        this.server.requestTimeout = this.timeoutMs + this.bodyTimeoutMs;
        // Every header counts toward `maxHeaders`: node:http's default (2000) would drop the rest silently.
        this.server.maxHeadersCount = 0;
        // Below the file descriptors the process may open, with room for upstream connections and logs.
        const files = openFileLimit();
        this.guard = new ConnectionGuard(this.server, {
            maxConnections: options.maxConnections ?? Math.min(10_000, files === undefined ? 10_000 : files - Math.min(1024, Math.floor(files / 2))),
            clientConnections: this.trustProxy ? 0 : options.clientConnections ?? 256,
        }, this.clients, this.log);
        this.tracker = new ConnectionTracker(this.server);
        // The gateway answers `Expect: 100-continue` itself, once it knows it will take the body.
        this.server.on("checkContinue", (req, res) => this.handle(req, res, true));
        this.server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) => {
            res.shouldKeepAlive = false;
            this.sendError(res, 417, `Expectation ${JSON.stringify(req.headers.expect)} is not supported; allowed: 100-continue`, this.requestIdOf(req));
        });
        this.server.on("connect", (req: http.IncomingMessage, socket: Socket) => {
            socket.on("error", () => undefined);
            socket.end(rawError(405, `${req.method} is not allowed; the gateway forwards HTTP requests only`, this.requestIdOf(req), { allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" }));
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
            this.log.info({
                requestId, method: req.method, url: req.url, status: res.statusCode,
                durationMs: Number(process.hrtime.bigint() - started) / 1e6,
            }, "request");
        });

        if (req.method === "TRACE") {
            res.setHeader("allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
            return this.refuse(res, 405, "TRACE is not allowed", requestId);
        }
        if (req.rawHeaders.length / 2 > this.maxHeaders) {
            return this.refuse(res, 431, `The request has ${req.rawHeaders.length / 2} header fields; allowed: at most ${this.maxHeaders}`, requestId);
        }
        const hosts = hostCount(req.rawHeaders);
        // RFC 9112, 3.2: a server answers 400 to an HTTP/1.1 request without Host, or with more than one.
        if (hosts > 1 || (hosts === 0 && req.httpVersion === "1.1")) {
            return this.refuse(res, 400, hosts > 1 ? `The request has ${hosts} Host header fields; allowed: one` : "The request has no Host header field", requestId);
        }
        const url = req.url ?? "/";
        if (url.length > MAX_URL_LENGTH) {
            return this.refuse(res, 414, `The request target has ${url.length} characters; allowed: at most ${MAX_URL_LENGTH}`, requestId);
        }
        const queryAt = url.indexOf("?");
        let path = queryAt === -1 ? url : url.slice(0, queryAt);
        if (!path.startsWith("/")) {
            return this.refuse(res, 400, `Request target ${JSON.stringify(url)} is not a path`, requestId);
        }
        try {
            const normal = normalisePath(path);
            if (normal !== path) {
                // The backend gets the path the route was matched on.
                path = normal;
                req.url = queryAt === -1 ? normal : normal + url.slice(queryAt);
            }
        } catch (err) {
            if (err instanceof PathError) {
                return this.refuse(res, 400, err.message, requestId);
            }
            throw err;
        }
        if (path === "/health") {
            return this.health(req, res, requestId);
        }
        const route = matchRoute(this.options.routes, path);
        if (this.nestedRoutes && readsAsAnotherRoute(this.options.routes, path, route)) {
            return this.refuse(res, 400, `Request path ${JSON.stringify(path)} reads as another route when its case or its ";" parameters are ignored, as some backends do; allowed: the route's own spelling`, requestId);
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

    /** Starts the request's SERVER span, a new trace, and ends it when the response closes. */
    private traceRequest(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): void {
        const url = req.url ?? "/";
        const queryAt = url.indexOf("?");
        const path = queryAt === -1 ? url : url.slice(0, queryAt);
        // Probes every few seconds from the ALB and ECS: traces of them would drown the requests' (and be billed).
        if (path === "/health") {
            return;
        }
        const span = this.tracing!.tracer.startSpan(req.method ?? "HTTP", {
            kind: SpanKind.SERVER,
            attributes: {
                "http.request.method": req.method,
                "url.path": path,
                "url.scheme": "http",
                [REQUEST_ID_ATTRIBUTE]: requestId,
            },
        }, ROOT_CONTEXT);
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
        this.auth!.check(route.auth, req.headers).then((verdict) => {
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
        }).catch((err: Error) => this.failed(res, requestId, err));
    }

    private receive(req: http.IncomingMessage, res: http.ServerResponse, route: Route, requestId: string, expectsContinue: boolean, identity?: Identity): void {
        const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
        if (declared !== undefined && declared > this.bodyLimit) {
            return this.refuse(res, 413, `Request body of ${declared} bytes is over the limit of ${this.bodyLimit}`, requestId);
        }
        if (req.headers["transfer-encoding"] === undefined && !declared) {
            return this.forward(req, res, route, requestId, identity, null);
        }
        if (expectsContinue) {
            res.writeContinue();
        }
        this.readBody(req, res, requestId).then((read) => {
            if (read !== undefined) {
                // GET and HEAD bodies have no meaning (RFC 9110, 9.3.1): read to keep the connection in step, not sent.
                this.forward(req, res, route, requestId, identity, req.method === "GET" || req.method === "HEAD" ? null : read);
            }
        }).catch((err: Error) => this.failed(res, requestId, err));
    }

    private forward(req: http.IncomingMessage, res: http.ServerResponse, route: Route, requestId: string, identity: Identity | undefined, body: Buffer | null): void {
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
        new Exchange(this, req, res, this.upstreams.get(route)!, client, requestId, {
            path: req.url!,
            method: req.method as Dispatcher.HttpMethod,
            headers: this.upstreamHeaders(req, route, requestId, identity),
            body,
        }, span && contextWith(span), span?.isRecording()).start();
    }

    /**
     * The whole request body, within `bodyLimit`, the buffer budgets (the gateway's, the client's, large
     * bodies'), `bodyTimeoutMs` in all and `minBodyBytes` in each `timeoutMs`; or undefined once the client
     * has been answered (413, 408, 429, 503) or has gone away.
     */
    private readBody(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<Buffer | undefined> {
        const client = this.clientOf(req);
        const declared = Number(req.headers["content-length"] ?? NaN);
        return new Promise((resolve) => {
            const chunks: Buffer[] = [];
            let size = 0;
            /** Bytes of this body counted in `bufferedLarge`: all of it once it is larger than `smallBody`. */
            let large = 0;
            let windowStart = 0;
            let settled = false;
            const settle = (value: Buffer | undefined) => {
                if (settled) {
                    return;
                }
                settled = true;
                clearTimeout(window);
                clearTimeout(deadline);
                req.off("data", onData).off("end", onEnd).off("error", onGone);
                res.off("close", onGone);
                // The body leaves the budgets once it is handed to undici, which writes it at once.
                this.buffered -= size;
                this.bufferedLarge -= large;
                client.bodyBytes -= size;
                this.clients.release(client);
                resolve(value);
            };
            const refuse = (status: number, message: string) => {
                settle(undefined);
                if (status === 429 || status === 503) {
                    res.setHeader("retry-after", "1");
                }
                // Keep reading what the client still sends, so that it can read the answer.
                req.resume();
                this.refuse(res, status, message, requestId);
            };
            const onData = (chunk: Buffer) => {
                const grown = size + chunk.length;
                if (grown > this.bodyLimit) {
                    return refuse(413, `Request body is over the limit of ${this.bodyLimit} bytes`);
                }
                const growsLarge = grown > this.smallBody ? grown - large : 0;
                if (this.buffered + chunk.length > this.bufferLimit || this.bufferedLarge + growsLarge > this.largeBufferLimit) {
                    return refuse(503, "The gateway holds too many request bodies at once; retry shortly");
                }
                if (client.bodyBytes + chunk.length > this.clientBufferLimit) {
                    return refuse(429, `Your request bodies being sent hold over ${this.clientBufferLimit} bytes of the gateway; retry once they are through`);
                }
                size = grown;
                large += growsLarge;
                this.buffered += chunk.length;
                this.bufferedLarge += growsLarge;
                client.bodyBytes += chunk.length;
                chunks.push(chunk);
            };
            const onEnd = () => settle(Buffer.concat(chunks, size));
            const onGone = () => settle(undefined);
            // Each `timeoutMs`, the body must have brought `minBodyBytes` (or the rest of a shorter one).
            const window = setTimeout(function check(this: Gateway) {
                const owed = Math.min(this.minBodyBytes, Number.isNaN(declared) ? Infinity : declared - windowStart);
                if (size - windowStart < owed) {
                    return refuse(408, size === windowStart
                        ? `The request body stalled: nothing arrived for ${this.timeoutMs} ms`
                        : `The request body arrives too slowly: ${size - windowStart} bytes in ${this.timeoutMs} ms; allowed: at least ${this.minBodyBytes}`);
                }
                windowStart = size;
                window.refresh();
            }.bind(this), this.timeoutMs);
            const deadline = setTimeout(() => {
                refuse(408, `The request body did not arrive within ${this.bodyTimeoutMs} ms`);
            }, this.bodyTimeoutMs);
            req.on("data", onData).on("end", onEnd).on("error", onGone);
            res.on("close", onGone);
        });
    }

    /**
     * The gateway's own headers first (request id, forwarded, identity), so that no limit on the number
     * of headers downstream can drop them; then the client's, without hop-by-hop headers, those named in
     * `Connection`, and any the client may not set (forwarded, identity, the credential the gateway
     * consumed).
     */
    private upstreamHeaders(req: http.IncomingMessage, route: Route, requestId: string, identity?: Identity): string[] {
        const raw = req.rawHeaders;
        const named = connectionTokens(req.headers.connection);
        const out = ["x-request-id", requestId];
        const chain: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
            if (raw[i].length === 15 && raw[i].toLowerCase() === "x-forwarded-for") {
                chain.push(raw[i + 1]);
            }
        }
        chain.push(req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "unknown");
        out.push("x-forwarded-for", chain.join(", "));
        if (req.headers.host) {
            out.push("x-forwarded-host", req.headers.host);
        }
        const proto = this.trustProxy ? single(req.headers["x-forwarded-proto"]) : undefined;
        out.push("x-forwarded-proto", proto === "https" || proto === "http" ? proto : "http");
        const port = this.trustProxy ? single(req.headers["x-forwarded-port"]) : undefined;
        out.push("x-forwarded-port", port && /^\d{1,5}$/.test(port) ? port : String(req.socket.localPort ?? ""));
        if (identity) {
            out.push(IDENTITY_HEADERS.subject, identity.subject, IDENTITY_HEADERS.method, identity.method);
        }
        const credential = route.auth === "jwt" ? "authorization" : route.auth === "apiKey" ? API_KEY_HEADER : undefined;
        for (let i = 0; i < raw.length; i += 2) {
            let name = raw[i].toLowerCase();
            // Servers that map header names to CGI variables (HTTP_X_AUTH_SUBJECT) cannot tell `x_auth_subject`
            // from `x-auth-subject`: an underscore spelling of a header the gateway sets or drops is dropped too.
            if (name.includes("_")) {
                name = name.replace(/_/g, "-");
            }
            if (this.requestDrop.has(name) || name.startsWith("x-forwarded-") || name.startsWith(IDENTITY_PREFIX) ||
                name === credential || (named !== undefined && named.has(name))) {
                continue;
            }
            out.push(raw[i], raw[i + 1]);
        }
        return out;
    }

    /** The client's response headers from the upstream's, and the ones every response carries. */
    responseHeaders(headers: IncomingHttpHeaders, requestId: string): string[] {
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
        return this.commonHeaders(out, requestId);
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
        res.writeHead(status, this.commonHeaders([
            "content-type", "application/json; charset=utf-8",
            "content-length", String(Buffer.byteLength(text)),
        ], requestId));
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

/** How many Host header fields a request has (node:http keeps only the first in `headers`). */
function hostCount(raw: string[]): number {
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 4 && raw[i].toLowerCase() === "host") {
            hosts++;
        }
    }
    return hosts;
}

/** node:http sets `complete` only after the handler runs, even for a request without a body. */
function hasUnreadBody(req: http.IncomingMessage): boolean {
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
    const tokens = (Array.isArray(value) ? value.join(",") : value).split(",").map((t) => t.trim().toLowerCase()).filter(Boolean);
    return tokens.length > 0 ? new Set(tokens) : undefined;
}

function isTimeout(err: Error): boolean {
    return err instanceof undiciErrors.HeadersTimeoutError ||
        err instanceof undiciErrors.BodyTimeoutError ||
        err instanceof undiciErrors.ConnectTimeoutError;
}

/** An origin's host and port, parsed once: span attributes of every attempt on it. */
const ADDRESSES = new Map<string, { origin: string; hostname: string; port: number }>();

function addressOf(origin: string): { origin: string; hostname: string; port: number } {
    let address = ADDRESSES.get(origin);
    if (!address) {
        const url = new URL(origin);
        address = { origin: url.origin, hostname: url.hostname, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)) };
        ADDRESSES.set(origin, address);
    }
    return address;
}

interface Outgoing {
    path: string;
    method: Dispatcher.HttpMethod;
    headers: string[];
    body: Buffer | null;
}

/**
 * One client request on its way upstream: at most two attempts, within one deadline that includes the
 * wait for a connection. Whatever the request holds (its place in a pool's queue, its upstream
 * connection) is given back as soon as the client goes away or the deadline passes.
 */
class Exchange {
    private attempt?: Attempt;
    private attempts = 0;
    /** The client's response head is written: no retry, no error answer any more. */
    private responding = false;
    /** Answered with an error, or the client went away: every later event is ignored. */
    private over = false;
    private deadline?: NodeJS.Timeout;
    /** Runs while the client does not read the response (see `data`). */
    private stalled?: NodeJS.Timeout;

    constructor(
        readonly gateway: Gateway,
        private readonly req: http.IncomingMessage,
        readonly res: http.ServerResponse,
        private readonly upstream: Upstream,
        /** Who sent the request: it counts toward the client's `clientRequests` until the response closes. */
        private readonly client: Client,
        readonly requestId: string,
        private readonly outgoing: Outgoing,
        /** The request's SERVER span's context when tracing: each attempt gets a CLIENT span under it. */
        private readonly traceContext?: Context,
        /** Whether the sampler kept the request's trace: only then do attempts get spans. */
        private readonly sampled = false,
    ) {}

    start(): void {
        this.deadline = setTimeout(() => this.timedOut(), this.gateway.timeoutMs);
        this.client.requests++;
        this.res.once("close", () => {
            this.client.requests--;
            this.gateway.clients.release(this.client);
            clearTimeout(this.stalled);
            if (!this.res.writableFinished) {
                this.giveUp(new Error("client went away"));
            }
        });
        this.send();
    }

    private send(avoid?: number): void {
        const origin = this.upstream.pick(avoid);
        this.attempts++;
        let span: Span | undefined;
        let headers = this.outgoing.headers;
        if (this.traceContext) {
            // A request the sampler dropped gets no client span, only the server span's traceparent (not
            // sampled), so that the backend drops it too instead of starting a trace of its own.
            span = this.sampled ? this.clientSpan(origin) : undefined;
            headers = this.tracedHeaders(span ? contextWith(span, this.traceContext) : this.traceContext);
        }
        this.attempt = new Attempt(this, this.upstream, origin, span);
        this.upstream.queued();
        this.upstream.pool(origin).dispatch({ ...this.outgoing, headers }, this.attempt);
    }

    /** A CLIENT span for one attempt on one origin, the parent of the backend's SERVER span. */
    private clientSpan(origin: number): Span {
        const base = this.upstream.origins[origin];
        const address = addressOf(base);
        const queryAt = this.outgoing.path.indexOf("?");
        return this.gateway.tracing!.tracer.startSpan(this.outgoing.method, {
            kind: SpanKind.CLIENT,
            attributes: {
                "http.request.method": this.outgoing.method,
                "server.address": address.hostname,
                "server.port": address.port,
                // Without the query, which may carry what a trace store should not keep.
                "url.full": `${address.origin}${queryAt === -1 ? this.outgoing.path : this.outgoing.path.slice(0, queryAt)}`,
                [REQUEST_ID_ATTRIBUTE]: this.requestId,
                ...(this.attempts > 1 ? { "http.request.resend_count": this.attempts - 1 } : {}),
            },
        }, this.traceContext);
    }

    /** The outgoing headers with the attempt's `traceparent` (a copy: a retry carries its own). */
    private tracedHeaders(context: Context): string[] {
        const headers = [...this.outgoing.headers];
        this.gateway.tracing!.propagator.inject(context, headers, rawHeaderSetter);
        return headers;
    }

    private timedOut(): void {
        if (this.responding || this.over) {
            return;
        }
        this.log("warn", { upstream: this.origin(this.attempt), timeoutMs: this.gateway.timeoutMs, status: 504 }, "upstream did not answer in time");
        this.giveUp(new Error("deadline"));
        this.gateway.sendError(this.res, 504, `${this.upstream.route.prefix} did not answer in time`, this.requestId);
    }

    private giveUp(reason: Error): void {
        this.over = true;
        clearTimeout(this.deadline);
        this.attempt?.cancel(reason);
    }

    /** The upstream's response head: pass it on, or try once more on a 503 to an idempotent request. */
    responseStart(attempt: Attempt, status: number, headers: IncomingHttpHeaders): boolean {
        if (status === 503 && this.mayRetry(false)) {
            this.retry(attempt, "503");
            return false;
        }
        this.responding = true;
        clearTimeout(this.deadline);
        this.res.writeHead(status, this.gateway.responseHeaders(headers, this.requestId));
        return true;
    }

    /** An attempt failed: retry once when that is safe, else answer 502/504 or cut a started response. */
    failed(attempt: Attempt, err: Error & { code?: string }): void {
        if (this.responding) {
            // The upstream failed mid-body: the client must not take a truncated body for a whole one.
            this.log("warn", { err: err.message, upstream: this.origin(attempt) }, "upstream failed mid-response");
            this.res.destroy(err);
            return;
        }
        const code = err.code ?? "";
        if (CONNECT_ERRORS.has(code)) {
            this.upstream.eject(attempt.origin);
        }
        if ((CONNECT_ERRORS.has(code) && this.mayRetry(true)) || (BROKEN_ERRORS.has(code) && this.mayRetry(false))) {
            this.retry(attempt, code);
            return;
        }
        this.over = true;
        clearTimeout(this.deadline);
        const status = isTimeout(err) ? 504 : 502;
        this.log("warn", { err: err.message, code, upstream: this.origin(attempt), status, attempts: this.attempts }, "upstream failed");
        this.gateway.sendError(this.res, status, status === 504
            ? `${this.upstream.route.prefix} did not answer in time`
            : `${this.upstream.route.prefix} is unavailable`, this.requestId);
    }

    /** Once per request; any method when nothing was sent, idempotent ones otherwise. */
    private mayRetry(nothingSent: boolean): boolean {
        return !this.over && this.attempts < 2 && (nothingSent || IDEMPOTENT.has(this.outgoing.method));
    }

    private retry(attempt: Attempt, reason: string): void {
        attempt.cancel(new Error("retrying"));
        this.log("warn", { upstream: this.origin(attempt), reason, method: this.outgoing.method }, "retrying upstream request");
        this.send(attempt.origin);
    }

    /**
     * Passes a piece of the response on; while the client does not take it, the upstream is paused, for at
     * most `timeoutMs`: a client that reads too slowly (or not at all) must not hold an upstream
     * connection for as long as it likes.
     */
    data(controller: Dispatcher.DispatchController, chunk: Buffer): void {
        if (!this.res.write(chunk)) {
            controller.pause();
            this.stalled = setTimeout(() => {
                this.log("warn", { timeoutMs: this.gateway.timeoutMs }, "client did not read the response in time; connection closed");
                this.res.destroy();
            }, this.gateway.timeoutMs);
            this.res.once("drain", () => {
                clearTimeout(this.stalled);
                controller.resume();
            });
        }
    }

    end(): void {
        this.res.end();
    }

    isCurrent(attempt: Attempt): boolean {
        return this.attempt === attempt && !this.over;
    }

    private origin(attempt?: Attempt): string | undefined {
        return attempt && this.upstream.origins[attempt.origin];
    }

    private log(level: "warn", fields: object, msg: string): void {
        this.gateway.log[level]({ requestId: this.requestId, method: this.req.method, url: this.req.url, ...fields }, msg);
    }
}

/**
 * One attempt of an exchange on one origin's pool (undici's handler interface). A cancelled attempt
 * aborts its upstream request as soon as it has one, and if it is still queued, the moment a
 * connection would be given to it, so that it never sends anything.
 */
class Attempt implements Dispatcher.DispatchHandler {
    private controller?: Dispatcher.DispatchController;
    private waiting = true;
    private cancelled?: Error;

    constructor(private readonly exchange: Exchange, private readonly upstream: Upstream, readonly origin: number, private span?: Span) {}

    cancel(reason: Error): void {
        this.cancelled ??= reason;
        this.controller?.abort(reason);
        this.endSpan(reason);
    }

    /** Ends the attempt's span once: with the error that ended the attempt, if any. */
    private endSpan(err?: Error & { code?: string }): void {
        const span = this.span;
        if (!span) {
            return;
        }
        this.span = undefined;
        if (err) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
            span.setAttribute("error.type", err.code ?? err.name);
        }
        span.end();
    }

    private left(): void {
        if (this.waiting) {
            this.waiting = false;
            this.upstream.dequeued();
        }
    }

    onRequestStart(controller: Dispatcher.DispatchController): void {
        this.controller = controller;
        this.left();
        if (this.cancelled) {
            controller.abort(this.cancelled);
        }
    }

    onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
        if (this.span) {
            this.span.setAttribute("http.response.status_code", statusCode);
            if (statusCode >= 500) {
                this.span.setStatus({ code: SpanStatusCode.ERROR });
            }
        }
        if (!this.exchange.isCurrent(this) || !this.exchange.responseStart(this, statusCode, headers)) {
            controller.abort(this.cancelled ?? new Error("not wanted"));
        }
    }

    onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
        if (this.exchange.isCurrent(this)) {
            this.exchange.data(controller, chunk);
        } else {
            controller.abort(this.cancelled ?? new Error("not wanted"));
        }
    }

    onResponseEnd(): void {
        this.endSpan();
        if (this.exchange.isCurrent(this)) {
            this.exchange.end();
        }
    }

    onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
        this.endSpan(err);
        this.left();
        if (this.exchange.isCurrent(this) && !this.cancelled) {
            this.exchange.failed(this, err);
        }
    }
}
