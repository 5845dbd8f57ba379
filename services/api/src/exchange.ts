import type * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { SpanKind, SpanStatusCode, type Context, type Span } from "@opentelemetry/api";
import type { Logger } from "pino";
import { errors as undiciErrors, type Dispatcher } from "undici";
import { contextWith, rawHeaderSetter, REQUEST_ID_ATTRIBUTE, type Tracing } from "@berth/kit/tracing";
import type { Client, Clients } from "./clients";
import type { Upstream } from "./upstreams";

/** What an exchange needs of the gateway that forwards it. */
export interface ExchangeHost {
    /** The deadline of a request's attempts, and of a client's pause in reading the response. */
    readonly timeoutMs: number;
    readonly clients: Clients;
    readonly log: Logger;
    readonly tracing?: Tracing;
    sendError(res: http.ServerResponse, status: number, message: string, requestId: string): void;
    responseHeaders(headers: IncomingHttpHeaders, requestId: string): string[];
}

/** RFC 9110, 9.2.2: methods whose repetition has the effect of one request. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/** Errors raised before a connection existed: nothing was sent, so any method may be retried. */
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** Errors of a connection that broke before any response byte: the request may or may not have run. */
const BROKEN_ERRORS = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

function isTimeout(err: Error): boolean {
    return err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError;
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

export interface Outgoing {
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
export class Exchange {
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
        readonly gateway: ExchangeHost,
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
        return this.gateway.tracing!.tracer.startSpan(
            this.outgoing.method,
            {
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
            },
            this.traceContext,
        );
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
        this.gateway.sendError(
            this.res,
            status,
            status === 504 ? `${this.upstream.route.prefix} did not answer in time` : `${this.upstream.route.prefix} is unavailable`,
            this.requestId,
        );
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

    constructor(
        private readonly exchange: Exchange,
        private readonly upstream: Upstream,
        readonly origin: number,
        private span?: Span,
    ) {}

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
