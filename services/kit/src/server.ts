import { randomUUID } from "node:crypto";
import { METHODS as NODE_METHODS } from "node:http";
import { SpanKind, type Span } from "@opentelemetry/api";
import Fastify, {
    LogController,
    type FastifyError,
    type FastifyInstance,
    type FastifyReply,
    type FastifyRequest,
    type HTTPMethods,
    type RouteShorthandOptions,
} from "fastify";
import { Database, type Migration } from "./database";
import { parseJsonBody } from "./body";
import { acceptedRequestId, clientErrorResponse, describeViolations, errorBody, HttpError } from "./errors";
import { ConnectionTracker, exitOnSignals, KEEP_ALIVE_TIMEOUT_MS, portFromEnv } from "./http";
import { exitCodeFor } from "./listen";
import {
    context,
    contextWith,
    endWithResponse,
    headerGetter,
    REQUEST_ID_ATTRIBUTE,
    ROOT_CONTEXT,
    serviceTracing,
    shutDownServiceTracing,
    type Tracing,
} from "./tracing";

/** Answers from the process alone, for the load balancer's and ECS's probes. */
const HEALTH_PATH = "/health";

export interface ServiceOptions {
    /** The service's name, on every log line. */
    name: string;
    /**
     * Largest request body in bytes; a larger one answers 413.
     * @default 65536
     */
    bodyLimit?: number;
    /**
     * Pino logger options, or false for none (tests).
     * @default JSON lines to stdout at `LOG_LEVEL` (default "info")
     */
    logger?: boolean | { level?: string; stream?: NodeJS.WritableStream };
    /**
     * The service's database pool, closed when the service closes: after the last in-flight request, since
     * Fastify runs `onClose` hooks once the server has stopped (https://fastify.dev/docs/latest/Reference/Hooks/#onclose).
     * @default none
     */
    database?: Database;
    /**
     * Where the service's spans go: a server span per request, child of the caller's `traceparent`, and a
     * span per database query (see `tracing.ts`); false for none.
     * @default the process's tracing as `OTEL_*` configures it (`serviceTracing`): none without an endpoint
     */
    tracing?: Tracing | false;
}

/**
 * A Fastify instance with what every Berth service shares: JSON logs carrying the request id, the
 * `x-request-id` header on every response, JSON errors for every failure, and `GET /health`.
 */
export function createService(options: ServiceOptions): FastifyInstance {
    const app = newFastify(options);
    takeEveryMethod(app);
    takeJsonOnly(app);
    hangUpWhenClosing(app);
    answerInJson(app);

    const tracing = options.tracing === undefined ? serviceTracing({ name: options.name }) : options.tracing || undefined;
    if (tracing) {
        traceRequests(app, tracing);
    }
    const database = options.database;
    if (database) {
        database.log ??= app.log.child({ component: "database" });
        database.tracer ??= tracing?.tracer;
        app.addHook("onClose", () => database.close());
    }

    // Answers from the process alone: a database outage must not make the load balancer or ECS replace
    // tasks that would serve again as soon as the database returns.
    routes(app, HEALTH_PATH, {
        GET: { handler: async () => ({ status: "ok", service: options.name }) },
    });
    return app;
}

/** Fastify with the services' logger, limits, request ids, body validation and error shapes. */
function newFastify(options: ServiceOptions): FastifyInstance {
    const logger =
        options.logger === undefined || options.logger === true
            ? { level: process.env.LOG_LEVEL ?? "info", base: { service: options.name } }
            : options.logger === false
              ? false
              : { level: options.logger.level ?? "info", base: { service: options.name }, stream: options.logger.stream };
    return Fastify({
        logger,
        bodyLimit: options.bodyLimit ?? 64 * 1024,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        // While shutting down, requests still arriving on open connections are served, with `Connection:
        // close` (below): a 503 would fail requests that a caller cannot tell apart from refused ones.
        return503OnClosing: false,
        requestIdHeader: false,
        // One line per request (below) instead of Fastify's two.
        logController: new LogController({ requestIdLogLabel: "requestId", disableRequestLogging: true }),
        genReqId: (req) => acceptedRequestId(req.headers["x-request-id"]) ?? randomUUID(),
        ajv: {
            customOptions: {
                // A body schema describes the whole body: unknown fields are an error, not silently dropped.
                removeAdditional: false,
                // JSON types as declared: "100" is no integer and null no 0 (Fastify coerces by default).
                // Path parameters are strings, so routes parse them themselves (see `collection`'s ids).
                coerceTypes: false,
                // Every wrong field in one answer, not only the first.
                allErrors: true,
            },
        },
        schemaErrorFormatter: (errors, where) => new Error(describeViolations(errors, where)),
        // A missing Host is answered below, in JSON, not with node:http's empty 400.
        http: { requireHostHeader: false },
        // Errors of Fastify's router (an invalid percent-encoding in the path, a path parameter over 100
        // characters), in Berth's error shape rather than Fastify's.
        frameworkErrors: (error, req, reply) => {
            const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
            const message =
                error.code === "FST_ERR_BAD_URL" ? `Request path ${JSON.stringify(req.url.split("?")[0])} has an invalid percent-encoding` : error.message;
            (reply as FastifyReply)
                .code(status)
                .header("x-request-id", req.id)
                .send(errorBody(status, message, req.id));
        },
        // Requests node:http cannot parse, in Berth's error shape with a request id.
        clientErrorHandler: (err: Error & { code?: string }, socket) => {
            if (err.code !== "ECONNRESET" && socket.writable) {
                socket.end(clientErrorResponse(err, randomUUID()));
            } else {
                socket.destroy();
            }
        },
    });
}

/**
 * Every method node:http parses reaches the router, so that a known path answers 405 with `Allow` to any
 * method it does not take, not 404.
 */
function takeEveryMethod(app: FastifyInstance): void {
    for (const method of NODE_METHODS) {
        if (!app.supportedMethods.includes(method) && method !== "CONNECT") {
            app.addHttpMethod(method, { hasBody: true });
        }
    }
}

/** JSON bodies are checked as a whole (see `parseJsonBody`); no other type is taken (415), text included. */
function takeJsonOnly(app: FastifyInstance): void {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
        try {
            done(null, parseJsonBody(body as Buffer));
        } catch (err) {
            done(err as Error, undefined);
        }
    });
}

/**
 * Once closing, every response tells its client to hang up, so that keep-alive connections do not hold the
 * shutdown open until their idle timeout.
 */
function hangUpWhenClosing(app: FastifyInstance): void {
    let closing = false;
    app.addHook("preClose", (done) => {
        closing = true;
        done();
    });
    app.addHook("onSend", (req, reply, payload, done) => {
        if (closing) {
            reply.header("connection", "close");
        }
        done(null, payload);
    });
}

/** The request id on every response, one log line per request, and every error in Berth's JSON shape. */
function answerInJson(app: FastifyInstance): void {
    app.addHook("onRequest", (req, reply, done) => {
        reply.header("x-request-id", req.id);
        done(requestHeadProblem(req));
    });
    app.addHook("onResponse", (req, reply, done) => {
        req.log.info({ method: req.method, url: req.url, status: reply.statusCode, durationMs: reply.elapsedTime }, "request");
        done();
    });
    app.setErrorHandler((error: FastifyError | HttpError, req, reply) => {
        if (error instanceof HttpError) {
            const log = error.statusCode >= 500 ? req.log.warn.bind(req.log) : req.log.info.bind(req.log);
            log({ status: error.statusCode, reason: error.detail ?? error.message }, "request refused");
            return reply
                .code(error.statusCode)
                .headers(error.headers)
                .send(errorBody(error.statusCode, error.message, req.id));
        }
        const status = error.validation ? 400 : error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
        if (status >= 500) {
            req.log.error({ err: error }, "request failed");
            return reply.code(status).send(errorBody(status, "Internal error", req.id));
        }
        const message =
            error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
                ? `Content-Type ${JSON.stringify(req.headers["content-type"] ?? "")} is not supported; allowed: application/json`
                : error.message;
        req.log.info({ status, reason: message }, "request refused");
        return reply.code(status).send(errorBody(status, message, req.id));
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody(404, `No route for ${req.method} ${req.url.split("?")[0]}`, req.id)));
}

/**
 * What is wrong with a request's head before its body is read, as an `HttpError`: a Host field missing
 * or repeated (RFC 9112, 3.2: 400), a body in a content coding the services do not decode (RFC 9110,
 * 15.5.16: 415).
 */
function requestHeadProblem(req: FastifyRequest): HttpError | undefined {
    const raw = req.raw.rawHeaders;
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 4 && raw[i].toLowerCase() === "host") {
            hosts++;
        }
    }
    if (hosts > 1 || (hosts === 0 && req.raw.httpVersion === "1.1")) {
        return new HttpError(400, hosts > 1 ? `The request has ${hosts} Host header fields; allowed: one` : "The request has no Host header field");
    }
    const coding = req.headers["content-encoding"];
    if (coding !== undefined && coding.trim().toLowerCase() !== "identity") {
        return new HttpError(415, `Content-Encoding ${JSON.stringify(coding)} is not supported; allowed: identity (none)`);
    }
    return undefined;
}

const SPAN = Symbol("span");

/**
 * A SERVER span per request, the child of the caller's W3C `traceparent` (the gateway's client span), with
 * the request id; the handler runs in its context, so that database spans find it as their parent. The span
 * ends when the response closes: finished, or cut off (then it is an error).
 */
function traceRequests(app: FastifyInstance, tracing: Tracing): void {
    const { tracer, propagator } = tracing;
    app.addHook("onRequest", (req, reply, done) => {
        const route = req.routeOptions.url;
        // Probes every few seconds from the ALB and ECS: traces of them would drown the requests' (and be billed).
        if (route === HEALTH_PATH) {
            return done();
        }
        const span = tracer.startSpan(
            route ? `${req.method} ${route}` : req.method,
            {
                kind: SpanKind.SERVER,
                attributes: {
                    "http.request.method": req.method,
                    "url.path": req.url.split("?")[0],
                    "url.scheme": "http",
                    ...(route ? { "http.route": route } : {}),
                    [REQUEST_ID_ATTRIBUTE]: req.id,
                },
            },
            propagator.extract(ROOT_CONTEXT, req.headers, headerGetter),
        );
        (req as unknown as { [SPAN]: Span })[SPAN] = span;
        const res = reply.raw;
        endWithResponse(span, res);
        done();
    });
    // The handler runs synchronously from the last preHandler hook's `done`, after the body has been read:
    // entering the span's context here (not in onRequest, whose context the body's stream events lose)
    // carries it through the handler's awaits.
    app.addHook("preHandler", (req, reply, done) => {
        const span = (req as unknown as { [SPAN]?: Span })[SPAN];
        if (span) {
            context.with(contextWith(span), done);
        } else {
            done();
        }
    });
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteSpec {
    schema?: RouteShorthandOptions["schema"];
    /** Method syntax on purpose: a handler may narrow the request to its route's own body and params type. */
    handler(req: FastifyRequest, reply: FastifyReply): unknown;
}

/**
 * Registers the handlers of one path, and answers 405 with an `Allow` header to every other method.
 * (Fastify alone answers 404 to a known path with an unknown method.)
 */
export function routes(app: FastifyInstance, url: string, handlers: Partial<Record<Method, RouteSpec>>): void {
    const allowed = Object.keys(handlers) as Method[];
    for (const method of allowed) {
        const spec = handlers[method]!;
        app.route({ method, url, schema: spec.schema, handler: spec.handler });
    }
    // Fastify answers HEAD itself wherever GET is routed.
    const allow = allowed.includes("GET") ? [...allowed, "HEAD"] : allowed;
    app.route({
        method: app.supportedMethods.filter((m) => !allow.includes(m as Method)) as HTTPMethods[],
        url,
        handler: (req, reply) =>
            reply
                .code(405)
                .header("allow", allow.join(", "))
                .send(errorBody(405, `${req.method} is not allowed on ${url}; allowed: ${allow.join(", ")}`, req.id)),
    });
}

export interface ServeOptions {
    /** @default PORT, else 8080 */
    port?: number;
    /** @default HOST, else 0.0.0.0 (every interface of the task) */
    host?: string;
    /**
     * How long in-flight requests may take to finish after SIGTERM before the process gives up.
     * @default SHUTDOWN_TIMEOUT_MS (20000)
     */
    shutdownTimeoutMs?: number;
}

/** Listens, and on SIGTERM or SIGINT closes gracefully (see `shutDown`). */
export async function serve(app: FastifyInstance, options: ServeOptions = {}): Promise<void> {
    const port = options.port ?? portFromEnv();
    const host = options.host ?? process.env.HOST ?? "0.0.0.0";
    const tracker = new ConnectionTracker(app.server);
    await app.listen({ port, host });
    // The last requests' spans leave after the server has stopped, before the process exits.
    exitOnSignals({ close: () => app.close().then(shutDownServiceTracing), tracker, log: app.log, timeoutMs: options.shutdownTimeoutMs });
}

/**
 * The entry point of a service that keeps its records in PostgreSQL: reads the connection settings from the
 * environment (see `databaseSettingsFromEnv`), listens, then applies `migrations`. It listens first so that
 * `/health` answers while the database is still out of reach (data routes answer 503 until migrated);
 * a migration the server refuses ends the process with exit code 1, failing the deployment (a port in use:
 * `EXIT_ADDRESS_IN_USE`).
 */
export function serveWithDatabase(
    name: string,
    migrations: readonly Migration[],
    build: (database: Database) => FastifyInstance,
    options: ServeOptions = {},
): void {
    const start = async () => {
        const database = Database.fromEnv(name);
        const app = build(database);
        await serve(app, options);
        await database.migrate(name, migrations);
    };
    start().catch((err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(exitCodeFor(err));
    });
}
