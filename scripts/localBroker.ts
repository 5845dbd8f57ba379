/**
 * The local run's topics and queues: what SNS and SQS are in AWS, in the `npm start` process, reached by the
 * services over loopback HTTP (they are separate processes). The contract is SQS's as the kit relies on it
 * (services/kit/src/messaging.ts):
 * - a message published to a topic reaches every subscribed worker's queue, body as published (raw delivery);
 * - a receive long-polls up to `waitSeconds` and returns up to `maxMessages` visible messages, each hidden
 *   for the visibility timeout and carrying its receive count;
 * - a message not deleted comes back once its visibility timeout passes; a handler may end it sooner or
 *   extend it (`visibility`);
 * - a message received more than `maxReceiveCount` times goes to the queue's dead-letter list instead.
 *
 * Routes, all JSON, errors as `{ "error": ..., "message": ... }` with a 4xx status:
 *   POST /topics/<topic>                 { "message": "<body>" }            -> 202 { "messageIds": [...] }
 *   POST /queues/<worker>/receive        { "maxMessages": 1-10, "waitSeconds": 0-20 } -> { "messages": [...] }
 *   POST /queues/<worker>/delete         { "receiptHandle": "..." }         -> 204
 *   POST /queues/<worker>/visibility     { "receiptHandle": "...", "seconds": 0-43200 } -> 204
 *   GET  /queues/<worker>                -> { "visible", "inFlight", "deadLetters", "consumers" }
 *   GET  /queues/<worker>/dead-letters   -> { "messages": [...] }
 *   GET  /queues/<worker>/health         -> 200 while the worker polls (a receive within the last 30 s), else 503
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { catalogTopics, subscribersOf, workers, type MessagingService } from "../catalog/messaging";
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS } from "../core/messaging";
import { MAX_BATCH, MAX_MESSAGE_BYTES, MAX_WAIT_SECONDS } from "@berth/kit/messaging";

/** A worker counts as consuming while its last receive is this recent: a long poll lasts at most 20 s. */
export const CONSUMER_FRESH_MS = 30_000;
/** SQS's longest visibility timeout, 12 hours (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html). */
const MAX_VISIBILITY_SECONDS = 43_200;
/** How often a waiting receive looks again; in-process and cheap. */
const POLL_MS = 25;

interface StoredMessage {
    id: string;
    body: string;
    receiveCount: number;
    visibleAt: number;
    receiptHandle?: string;
}

interface LocalQueue {
    messages: StoredMessage[];
    deadLetters: StoredMessage[];
    lastReceiveAt?: number;
    waiting: number;
}

export interface BrokerOptions {
    /**
     * Seconds a received message stays hidden, as the queue in AWS.
     * @default VISIBILITY_TIMEOUT_SECONDS
     */
    visibilitySeconds?: number;
    /** @default MAX_RECEIVE_COUNT */
    maxReceiveCount?: number;
    /** @default Date.now */
    now?: () => number;
}

export interface LocalBroker {
    /** `http://127.0.0.1:<port>` */
    url: string;
    topicUrl(topic: string): string;
    queueUrl(worker: string): string;
    /** A queue's counts, for tests and people. */
    stats(worker: string): { visible: number; inFlight: number; deadLetters: number };
    close(): Promise<void>;
}

class BrokerError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
    }
}

/** The broker's topics, queues and settings; each route below reads and changes them. */
class BrokerState {
    readonly now: () => number;
    readonly visibility: number;
    readonly maxReceives: number;
    readonly topics: Map<string, string[]>;
    readonly queues: Map<string, LocalQueue>;
    closing = false;

    constructor(services: readonly MessagingService[], options: BrokerOptions) {
        this.now = options.now ?? Date.now;
        this.visibility = options.visibilitySeconds ?? VISIBILITY_TIMEOUT_SECONDS;
        this.maxReceives = options.maxReceiveCount ?? MAX_RECEIVE_COUNT;
        this.topics = new Map(catalogTopics(services).map((t) => [t, subscribersOf(services, t).map((w) => w.name)]));
        this.queues = new Map<string, LocalQueue>(workers(services).map((w) => [w.name, { messages: [], deadLetters: [], waiting: 0 }]));
    }

    queueOf(name: string): LocalQueue {
        const queue = this.queues.get(name);
        if (!queue) {
            throw new BrokerError(404, "QueueDoesNotExist", `no queue "${name}"; the local run has ${[...this.queues.keys()].join(", ") || "none"}`);
        }
        return queue;
    }
}

/** Visible messages, each received once more; those past the maximum move to the dead letters. */
function take(state: BrokerState, queue: LocalQueue, max: number): StoredMessage[] {
    const taken: StoredMessage[] = [];
    for (const message of [...queue.messages]) {
        if (taken.length >= max) {
            break;
        }
        if (message.visibleAt > state.now()) {
            continue;
        }
        if (message.receiveCount >= state.maxReceives) {
            queue.messages.splice(queue.messages.indexOf(message), 1);
            message.receiptHandle = undefined;
            queue.deadLetters.push(message);
            continue;
        }
        message.receiveCount++;
        message.visibleAt = state.now() + state.visibility * 1000;
        message.receiptHandle = randomUUID();
        taken.push(message);
    }
    return taken;
}

async function receive(state: BrokerState, queue: LocalQueue, body: Record<string, unknown>, aborted: () => boolean): Promise<unknown> {
    const max = body.maxMessages ?? 1;
    const wait = body.waitSeconds ?? 0;
    if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > MAX_BATCH) {
        throw new BrokerError(400, "InvalidParameterValue", `maxMessages is ${JSON.stringify(max)}; allowed: a whole number from 1 to ${MAX_BATCH}`);
    }
    if (typeof wait !== "number" || !Number.isFinite(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
        throw new BrokerError(400, "InvalidParameterValue", `waitSeconds is ${JSON.stringify(wait)}; allowed: 0 to ${MAX_WAIT_SECONDS}`);
    }
    queue.lastReceiveAt = state.now();
    const deadline = Date.now() + wait * 1000;
    queue.waiting++;
    try {
        for (;;) {
            const taken = take(state, queue, max as number);
            if (taken.length > 0 || Date.now() >= deadline || aborted() || state.closing) {
                queue.lastReceiveAt = state.now();
                return { messages: taken.map((m) => ({ id: m.id, body: m.body, receiveCount: m.receiveCount, receiptHandle: m.receiptHandle })) };
            }
            await new Promise((r) => setTimeout(r, POLL_MS));
        }
    } finally {
        queue.waiting--;
    }
}

function held(queue: LocalQueue, handle: unknown): StoredMessage {
    const message = typeof handle === "string" ? queue.messages.find((m) => m.receiptHandle === handle) : undefined;
    if (!message) {
        throw new BrokerError(
            404,
            "ReceiptHandleIsInvalid",
            `receiptHandle ${JSON.stringify(handle)} names no message in hand: deleted already, or received again since`,
        );
    }
    return message;
}

/** POST /topics/<topic>: one copy of the message on each subscribed worker's queue. */
function publish(state: BrokerState, topic: string, body: Record<string, unknown>): [number, unknown] {
    const subscribers = state.topics.get(topic);
    if (subscribers === undefined) {
        throw new BrokerError(404, "NotFound", `no topic "${topic}"; the local run has ${[...state.topics.keys()].join(", ") || "none"}`);
    }
    if (typeof body.message !== "string") {
        throw new BrokerError(400, "InvalidParameter", "message must be a string: the event's body");
    }
    if (Buffer.byteLength(body.message) > MAX_MESSAGE_BYTES) {
        throw new BrokerError(413, "InvalidParameter", `message has ${Buffer.byteLength(body.message)} bytes; allowed: at most ${MAX_MESSAGE_BYTES}`);
    }
    const ids = subscribers.map((worker) => {
        const message = { id: randomUUID(), body: body.message as string, receiveCount: 0, visibleAt: 0 };
        state.queueOf(worker).messages.push(message);
        return message.id;
    });
    return [202, { messageIds: ids }];
}

/** GET /queues/<worker>[/dead-letters|/health]; undefined for an action GET does not serve. */
function queueGet(state: BrokerState, queue: LocalQueue, worker: string, action: string): [number, unknown] | undefined {
    if (action === "") {
        const visible = queue.messages.filter((m) => m.visibleAt <= state.now()).length;
        return [200, { visible, inFlight: queue.messages.length - visible, deadLetters: queue.deadLetters.length, consumers: queue.waiting }];
    }
    if (action === "dead-letters") {
        return [200, { messages: queue.deadLetters.map((m) => ({ id: m.id, body: m.body, receiveCount: m.receiveCount })) }];
    }
    if (action === "health") {
        const polling = queue.lastReceiveAt !== undefined && (queue.waiting > 0 || state.now() - queue.lastReceiveAt < CONSUMER_FRESH_MS);
        return polling
            ? [200, { status: "ok", consumers: queue.waiting }]
            : [503, { error: "NoConsumer", message: `no receive on "${worker}" in the last ${CONSUMER_FRESH_MS / 1000} s` }];
    }
    return undefined;
}

/** POST /queues/<worker>/(receive|delete|visibility); undefined for an action POST does not serve. */
async function queuePost(
    state: BrokerState,
    queue: LocalQueue,
    action: string,
    body: Record<string, unknown>,
    aborted: () => boolean,
): Promise<[number, unknown] | undefined> {
    if (action === "receive") {
        return [200, await receive(state, queue, body, aborted)];
    }
    if (action === "delete") {
        const message = held(queue, body.receiptHandle);
        queue.messages.splice(queue.messages.indexOf(message), 1);
        return [204, undefined];
    }
    if (action === "visibility") {
        const seconds = body.seconds;
        if (!Number.isInteger(seconds) || (seconds as number) < 0 || (seconds as number) > MAX_VISIBILITY_SECONDS) {
            throw new BrokerError(
                400,
                "InvalidParameterValue",
                `seconds is ${JSON.stringify(seconds)}; allowed: a whole number from 0 to ${MAX_VISIBILITY_SECONDS}`,
            );
        }
        held(queue, body.receiptHandle).visibleAt = state.now() + (seconds as number) * 1000;
        return [204, undefined];
    }
    return undefined;
}

async function route(state: BrokerState, method: string, parts: string[], body: Record<string, unknown>, aborted: () => boolean): Promise<[number, unknown]> {
    if (method === "POST" && parts.length === 2 && parts[0] === "topics") {
        return publish(state, parts[1], body);
    }
    if (parts[0] !== "queues" || parts.length < 2 || parts.length > 3) {
        throw new BrokerError(404, "NotFound", `${method} /${parts.join("/")} is not a route of the local broker`);
    }
    const queue = state.queueOf(parts[1]);
    const action = parts[2] ?? "";
    const answer =
        method === "GET" ? queueGet(state, queue, parts[1], action) : method === "POST" ? await queuePost(state, queue, action, body, aborted) : undefined;
    if (answer) {
        return answer;
    }
    throw new BrokerError(405, "MethodNotAllowed", `${method} /${parts.join("/")} is not a route of the local broker`);
}

/** A POST's JSON object body ({} when empty); a 4xx BrokerError when it is too large or not an object. */
function parseBody(method: string | undefined, chunks: Buffer[], size: number): Record<string, unknown> {
    if (size > 2 * MAX_MESSAGE_BYTES) {
        throw new BrokerError(413, "RequestTooLarge", `the request has ${size} bytes; allowed: a message of at most ${MAX_MESSAGE_BYTES} bytes`);
    }
    let body: Record<string, unknown> = {};
    if (method === "POST") {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
            body = text === "" ? {} : JSON.parse(text);
        } catch {
            throw new BrokerError(400, "MalformedJson", "the body is not JSON");
        }
        if (body === null || typeof body !== "object" || Array.isArray(body)) {
            throw new BrokerError(400, "MalformedJson", "the body must be a JSON object");
        }
    }
    return body;
}

/** Reads one request's body, routes it and answers JSON; errors become `{ error, message }` with their status. */
function handle(state: BrokerState, req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let closed = false;
    res.on("close", () => {
        closed = true;
    });
    req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        // Room for the JSON around a message of the largest size.
        if (size <= 2 * MAX_MESSAGE_BYTES) {
            chunks.push(chunk);
        }
    });
    req.on("end", () => {
        const send = (status: number, payload: unknown) => {
            if (res.headersSent || closed) {
                return;
            }
            res.writeHead(status, payload === undefined ? {} : { "content-type": "application/json" });
            res.end(payload === undefined ? undefined : JSON.stringify(payload));
        };
        void (async () => {
            const body = parseBody(req.method, chunks, size);
            const parts = new URL(req.url ?? "/", "http://broker").pathname.split("/").filter(Boolean).map(decodeURIComponent);
            const [status, payload] = await route(state, req.method ?? "GET", parts, body, () => closed);
            send(status, payload);
        })().catch((err: unknown) => {
            const e = err instanceof BrokerError ? err : new BrokerError(400, "BadRequest", (err as Error).message);
            send(e.status, { error: e.code, message: e.message });
        });
    });
}

/** Starts the broker for the catalogue's topics and workers on a free loopback port. */
export async function startBroker(services: readonly MessagingService[], options: BrokerOptions = {}): Promise<LocalBroker> {
    const state = new BrokerState(services, options);
    const server = http.createServer((req, res) => handle(state, req, res));
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        url,
        topicUrl: (topic) => `${url}/topics/${encodeURIComponent(topic)}`,
        queueUrl: (worker) => `${url}/queues/${encodeURIComponent(worker)}`,
        stats: (worker) => {
            const queue = state.queueOf(worker);
            const visible = queue.messages.filter((m) => m.visibleAt <= state.now()).length;
            return { visible, inFlight: queue.messages.length - visible, deadLetters: queue.deadLetters.length };
        },
        close: () => {
            state.closing = true;
            return new Promise((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            });
        },
    };
}
