import type { Logger } from "pino";
import { GATEWAY_TIMEOUT_MS } from "@berth/kit/contract";
import type { Tracing } from "@berth/kit/tracing";
import type { Authenticator } from "./auth";
import type { Route } from "./routes";

/** How long a request may wait for its upstream's response head, by default (`TIMEOUT_MS`): the contract's. */
export const DEFAULT_TIMEOUT_MS = GATEWAY_TIMEOUT_MS;

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
