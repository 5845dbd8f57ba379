/**
 * Publish and consume events, the same way in AWS and under `npm start`.
 *
 * In AWS a topic is an SNS topic (`BERTH_TOPICS` holds its ARN) and a worker's queue an SQS queue
 * (`BERTH_QUEUE_URL`), through the AWS SDK with the task role's credentials. Under `npm start` both are the
 * local runner's broker on loopback HTTP (scripts/localBroker.ts), with the same contract: at-least-once
 * delivery, a message received and not deleted comes back after its visibility timeout, and one received
 * more than the queue's maximum goes to the dead-letter queue. A handler must therefore be idempotent.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SHUTDOWN_TIMEOUT_MS, wholeNumberFromEnv } from "./http";
import { QUEUE_VARIABLE, TOPICS_VARIABLE } from "./contract";

export { QUEUE_VARIABLE, TOPICS_VARIABLE };
export type { RecordChange } from "./collection";

/** SNS takes at most 256 KiB per message (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); the local broker holds to it too. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** SQS returns at most 10 messages per receive (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html). */
export const MAX_BATCH = 10;

/** The longest long poll SQS allows, in seconds (same page). */
export const MAX_WAIT_SECONDS = 20;

/** A message as a worker's handler gets it. */
export interface ReceivedMessage {
    /** The queue's message id: the same on every redelivery. */
    id: string;
    /** The body as published (raw delivery): JSON text when published with `publish`. */
    body: string;
    /** How many times the queue has handed this message out, this time included (1 on the first receive). */
    receiveCount: number;
}

/** A received message and the handle that deletes it or changes its visibility. */
export interface Delivery extends ReceivedMessage {
    receiptHandle: string;
}

/** Where events go: SNS, or the local broker. */
export interface TopicTransport {
    publish(address: string, body: string): Promise<void>;
}

/** Where a worker's messages come from: SQS, or the local broker. */
export interface QueueTransport {
    receive(options: { max: number; waitSeconds: number; signal: AbortSignal }): Promise<Delivery[]>;
    delete(receiptHandle: string): Promise<void>;
    changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
}

/** An address of the local broker: plain HTTP on loopback. Anything else is AWS's. */
function isLocal(address: string): boolean {
    try {
        const url = new URL(address);
        return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    } catch {
        return false;
    }
}

/** A JSON POST to the local broker; its JSON error body becomes the error's message. */
async function post<T>(url: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal,
    });
    const text = await response.text();
    if (!response.ok) {
        let message = text;
        try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
            // not JSON: the text as it is
        }
        throw new Error(`local broker: ${response.status} ${message}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
}

/** Publishes through SNS to a topic ARN, or through the local broker to its topic URL. */
export function topicTransport(sns: () => Pick<SNSClient, "send"> = lazy(() => new SNSClient({}))): TopicTransport {
    return {
        publish: async (address, body) => {
            if (isLocal(address)) {
                await post(address, { message: body });
            } else {
                await sns().send(new PublishCommand({ TopicArn: address, Message: body }));
            }
        },
    };
}

/** Consumes an SQS queue by its URL, or the local broker's queue. */
export function queueTransport(url: string, sqs: () => Pick<SQSClient, "send"> = lazy(() => new SQSClient({}))): QueueTransport {
    if (isLocal(url)) {
        return {
            receive: async ({ max, waitSeconds, signal }) =>
                (await post<{ messages: Delivery[] }>(`${url}/receive`, { maxMessages: max, waitSeconds }, signal)).messages,
            delete: async (receiptHandle) => {
                await post(`${url}/delete`, { receiptHandle });
            },
            changeVisibility: async (receiptHandle, seconds) => {
                await post(`${url}/visibility`, { receiptHandle, seconds });
            },
        };
    }
    return {
        receive: async ({ max, waitSeconds, signal }) => {
            const out = await sqs().send(
                new ReceiveMessageCommand({
                    QueueUrl: url,
                    MaxNumberOfMessages: max,
                    WaitTimeSeconds: waitSeconds,
                    MessageSystemAttributeNames: ["ApproximateReceiveCount"],
                }),
                { abortSignal: signal },
            );
            return (out.Messages ?? []).map((m) => ({
                id: m.MessageId ?? "",
                body: m.Body ?? "",
                receiptHandle: m.ReceiptHandle ?? "",
                receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
            }));
        },
        delete: async (receiptHandle) => {
            await sqs().send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receiptHandle }));
        },
        changeVisibility: async (receiptHandle, seconds) => {
            await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
        },
    };
}

function lazy<T>(make: () => T): () => T {
    let made: T | undefined;
    return () => (made ??= make());
}

/** Publishes events to the topics the catalogue gave this service. */
export class Publisher {
    private readonly topics: ReadonlyMap<string, string>;

    constructor(
        topics: Record<string, string>,
        private readonly transport: TopicTransport = topicTransport(),
    ) {
        this.topics = new Map(Object.entries(topics));
    }

    /** The topics this service may publish to. */
    get topicNames(): string[] {
        return [...this.topics.keys()];
    }

    /**
     * Publishes `event` as JSON to `topic`. Throws for a topic the service does not declare in `publishes`,
     * for an event larger than SNS takes, and when the topic refuses it.
     */
    async publish(topic: string, event: unknown): Promise<void> {
        const address = this.topics.get(topic);
        if (address === undefined) {
            throw new Error(
                `topic "${topic}" is not one this service publishes (${this.topicNames.join(", ") || "none"}); declare it in the service's "publishes" in catalog/index.ts`,
            );
        }
        const body = JSON.stringify(event);
        if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
            throw new Error(`event for "${topic}" has ${Buffer.byteLength(body)} bytes; allowed: at most ${MAX_MESSAGE_BYTES}`);
        }
        await this.transport.publish(address, body);
    }
}

/**
 * The service's publisher from `BERTH_TOPICS`, or undefined when the service publishes nothing. Throws on a
 * value that is not a JSON object of topic names to addresses.
 */
export function publisherFromEnv(env: NodeJS.ProcessEnv = process.env, transport?: TopicTransport): Publisher | undefined {
    const text = env[TOPICS_VARIABLE];
    if (text === undefined || text === "") {
        return undefined;
    }
    let topics: unknown;
    try {
        topics = JSON.parse(text);
    } catch {
        topics = undefined;
    }
    if (topics === null || typeof topics !== "object" || Array.isArray(topics) || !Object.values(topics).every((v) => typeof v === "string")) {
        throw new Error(`${TOPICS_VARIABLE} is ${JSON.stringify(text)}; allowed: a JSON object of topic names to SNS topic ARNs or local broker URLs`);
    }
    return new Publisher(topics as Record<string, string>, transport);
}

export interface ConsumeLog {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
}

export interface ConsumeOptions {
    /** Stops the loop: no new receive, no new handler; the running ones finish. */
    signal: AbortSignal;
    log: ConsumeLog;
    /**
     * Seconds a message stays hidden while its handler runs: the loop extends it every half of this
     * (ChangeMessageVisibility), so that a long handler keeps its message.
     * @default 60, the queue's visibility timeout (components/messaging/messaging.ts)
     */
    visibilitySeconds?: number;
    /**
     * Seconds before a message whose handler threw is delivered again, by its receive count so far.
     * @default 2^(count-1), at most 60: 1, 2, 4, 8 s, ...
     */
    retryDelaySeconds?: (receiveCount: number) => number;
    /**
     * Messages handled at once, the most one receive returns.
     * @default 10
     */
    batchSize?: number;
    /**
     * Seconds one receive waits for a message.
     * @default 20
     */
    waitSeconds?: number;
    /**
     * Milliseconds to wait after a failed receive before the next (throttling, a network hiccup).
     * @default 1000
     */
    receiveErrorDelayMs?: number;
}

/**
 * Receives messages until `signal` aborts, runs `handler` on each, deletes each whose handler resolved,
 * and hands back each whose handler threw after `retryDelaySeconds` (the queue moves it to its dead-letter
 * queue after its maximum receives). Resolves once the last handler has finished after the abort; messages
 * received but not yet started then are handed back at once.
 */
export async function consume(queue: QueueTransport, handler: (message: ReceivedMessage) => Promise<void>, options: ConsumeOptions): Promise<void> {
    const visibility = options.visibilitySeconds ?? 60;
    const retryDelay = options.retryDelaySeconds ?? ((count: number) => Math.min(2 ** (count - 1), 60));
    const { signal, log } = options;
    while (!signal.aborted) {
        let batch: Delivery[];
        try {
            batch = await queue.receive({ max: options.batchSize ?? MAX_BATCH, waitSeconds: options.waitSeconds ?? MAX_WAIT_SECONDS, signal });
        } catch (err) {
            if (signal.aborted) {
                break;
            }
            log.error({ err }, "receive failed; trying again");
            await sleep(options.receiveErrorDelayMs ?? 1000, signal);
            continue;
        }
        await Promise.all(
            batch.map(async (delivery) => {
                if (signal.aborted) {
                    // Received as the stop came: another consumer takes it at once.
                    await queue.changeVisibility(delivery.receiptHandle, 0).catch(() => undefined);
                    return;
                }
                const { receiptHandle, ...message } = delivery;
                const heartbeat = setInterval(
                    () => {
                        queue
                            .changeVisibility(receiptHandle, visibility)
                            .catch((err: unknown) => log.warn({ err, messageId: message.id }, "could not extend the message's visibility"));
                    },
                    (visibility * 1000) / 2,
                );
                try {
                    await handler(message);
                } catch (err) {
                    clearInterval(heartbeat);
                    const delay = retryDelay(message.receiveCount);
                    log.error(
                        { err, messageId: message.id, receiveCount: message.receiveCount, retryInSeconds: delay },
                        "handler failed; the message comes back",
                    );
                    await queue
                        .changeVisibility(receiptHandle, delay)
                        .catch((e: unknown) =>
                            log.warn({ err: e, messageId: message.id }, "could not hand the message back; it comes back after its visibility timeout"),
                        );
                    return;
                } finally {
                    clearInterval(heartbeat);
                }
                try {
                    await queue.delete(receiptHandle);
                } catch (err) {
                    log.error({ err, messageId: message.id }, "handled, but not deleted: it will be delivered again");
                }
            }),
        );
    }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, { once: true });
        function done(): void {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
        }
    });
}

/** The longest delay, in seconds, before a message whose handler failed is delivered again. */
export const RETRY_DELAY_VARIABLE = "RETRY_DELAY_MAX_SECONDS";

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * JSON lines on stdout in pino's shape (`level`, `time`, `service`, `msg`, and an `err` with its message and
 * stack), the same as the HTTP services write, for a worker, which has no Fastify logger.
 */
export function jsonLog(service: string, stream: NodeJS.WritableStream = process.stdout): ConsumeLog {
    const write = (level: keyof typeof LEVELS) => (obj: object, msg: string) => {
        const fields = Object.fromEntries(
            Object.entries(obj).map(([k, v]) => [k, v instanceof Error ? { type: v.name, message: v.message, stack: v.stack } : v]),
        );
        stream.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), service, ...fields, msg })}\n`);
    };
    return { info: write("info"), warn: write("warn"), error: write("error") };
}

export interface WorkerOptions extends Omit<ConsumeOptions, "signal" | "log"> {
    log: ConsumeLog;
    /** @default BERTH_QUEUE_URL's queue */
    queue?: QueueTransport;
    /**
     * How long the running handlers may take after SIGTERM before the process exits anyway: ECS kills the
     * task at its stop timeout.
     * @default SHUTDOWN_TIMEOUT_MS (20000)
     */
    shutdownTimeoutMs?: number;
    /** @default process.env */
    env?: NodeJS.ProcessEnv;
}

/**
 * A worker's main loop: consumes `BERTH_QUEUE_URL` with `handler` until SIGTERM or SIGINT, lets the running
 * handlers finish (within `shutdownTimeoutMs`), and exits 0. Throws when `BERTH_QUEUE_URL` is missing.
 */
export function runWorker(handler: (message: ReceivedMessage) => Promise<void>, options: WorkerOptions): { stopped: Promise<void>; stop: () => void } {
    const env = options.env ?? process.env;
    const url = env[QUEUE_VARIABLE];
    if (options.queue === undefined && (url === undefined || url === "")) {
        throw new Error(`${QUEUE_VARIABLE} is not set; a worker consumes the queue the catalogue gives it (npm start or the stack sets it)`);
    }
    const queue = options.queue ?? queueTransport(url!);
    // The longest wait before a failed message comes back; 0 hands it back at once (the local run's tests).
    const maxDelay = wholeNumberFromEnv(RETRY_DELAY_VARIABLE, 60, 0, env);
    const controller = new AbortController();
    const stopped = consume(queue, handler, {
        retryDelaySeconds: (count) => Math.min(2 ** (count - 1), maxDelay),
        ...options,
        signal: controller.signal,
    });
    const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) {
            return;
        }
        options.log.info({ signal }, "shutting down: finishing the messages in hand");
        controller.abort();
        const deadline = setTimeout(() => {
            options.log.error({ timeoutMs: options.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS }, "handlers still running at the shutdown deadline; exiting");
            process.exit(1);
        }, options.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS);
        deadline.unref();
        void stopped.then(() => process.exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    return { stopped, stop: () => controller.abort() };
}
