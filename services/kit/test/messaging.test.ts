/**
 * The kit's publish and consume API against fakes of its transports and of the AWS SDK clients: what it
 * acknowledges, what it hands back, how it stops, and how it refuses what it cannot send.
 */
import * as assert from "node:assert";
import { PassThrough } from "node:stream";
import { PublishCommand } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import {
    consume,
    jsonLog,
    MAX_MESSAGE_BYTES,
    publisherFromEnv,
    queueTransport,
    runWorker,
    topicTransport,
    type Delivery,
    type QueueTransport,
    type ReceivedMessage,
} from "../src/messaging";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A queue that hands out `batches` in turn, then waits until aborted; it records every call. */
function fakeQueue(batches: Delivery[][]): QueueTransport & { deleted: string[]; visibility: Array<[string, number]> } {
    const deleted: string[] = [];
    const visibility: Array<[string, number]> = [];
    return {
        deleted,
        visibility,
        receive: async ({ signal }) => {
            const next = batches.shift();
            if (next) {
                return next;
            }
            await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
            return [];
        },
        delete: async (handle) => {
            deleted.push(handle);
        },
        changeVisibility: async (handle, seconds) => {
            visibility.push([handle, seconds]);
        },
    };
}

const delivery = (id: string, receiveCount = 1): Delivery => ({ id, body: JSON.stringify({ id }), receiveCount, receiptHandle: `h-${id}` });

describe("kit messaging", () => {
    describe("consume", () => {
        it("deletes a message once its handler resolves, and hands back one whose handler threw after its retry delay", async () => {
            const queue = fakeQueue([[delivery("a"), delivery("b", 3)]]);
            const controller = new AbortController();
            const seen: ReceivedMessage[] = [];
            const done = consume(
                queue,
                async (m) => {
                    seen.push(m);
                    if (m.id === "b") {
                        throw new Error("cannot handle b");
                    }
                },
                { signal: controller.signal, log: quiet, retryDelaySeconds: (count) => count * 10 },
            );
            while (queue.deleted.length + queue.visibility.length < 2) {
                await new Promise((r) => setImmediate(r));
            }
            controller.abort();
            await done;
            assert.deepStrictEqual(
                seen.map((m) => [m.id, m.receiveCount]),
                [
                    ["a", 1],
                    ["b", 3],
                ],
            );
            assert.ok(!("receiptHandle" in seen[0]), "the handler gets the message, not its handle");
            assert.deepStrictEqual(queue.deleted, ["h-a"]);
            assert.deepStrictEqual(queue.visibility, [["h-b", 30]]);
        });

        it("extends a message's visibility while its handler runs", async () => {
            const queue = fakeQueue([[delivery("slow")]]);
            const controller = new AbortController();
            const done = consume(
                queue,
                async () => {
                    // Runs until the loop has extended the message twice.
                    while (queue.visibility.length < 2) {
                        await new Promise((r) => setTimeout(r, 5));
                    }
                },
                { signal: controller.signal, log: quiet, visibilitySeconds: 0.02 },
            );
            while (queue.deleted.length === 0) {
                await new Promise((r) => setTimeout(r, 5));
            }
            controller.abort();
            await done;
            assert.deepStrictEqual(queue.visibility.slice(0, 2), [
                ["h-slow", 0.02],
                ["h-slow", 0.02],
            ]);
            assert.deepStrictEqual(queue.deleted, ["h-slow"]);
        });

        it("on stop, finishes the handler in hand before it resolves and starts no other", async () => {
            let release!: () => void;
            const queue = fakeQueue([[delivery("first")]]);
            const controller = new AbortController();
            const started: string[] = [];
            let finished = false;
            const done = consume(
                queue,
                async (m) => {
                    started.push(m.id);
                    await new Promise<void>((r) => (release = r));
                    finished = true;
                },
                { signal: controller.signal, log: quiet },
            );
            while (started.length === 0) {
                await new Promise((r) => setImmediate(r));
            }
            controller.abort();
            let resolved = false;
            void done.then(() => (resolved = true));
            await new Promise((r) => setTimeout(r, 20));
            assert.strictEqual(resolved, false, "consume resolved with a handler still running");
            release();
            await done;
            assert.ok(finished);
            assert.deepStrictEqual(queue.deleted, ["h-first"]);
        });

        it("hands back at once the messages received as the stop came", async () => {
            const controller = new AbortController();
            const queue = fakeQueue([]);
            queue.receive = async () => {
                controller.abort();
                return [delivery("late")];
            };
            let handled = false;
            await consume(
                queue,
                async () => {
                    handled = true;
                },
                { signal: controller.signal, log: quiet },
            );
            assert.strictEqual(handled, false);
            assert.deepStrictEqual(queue.visibility, [["h-late", 0]]);
        });

        it("keeps polling after a failed receive", async () => {
            const controller = new AbortController();
            const queue = fakeQueue([[delivery("after")]]);
            const receive = queue.receive;
            let failures = 1;
            queue.receive = async (o) => {
                if (failures-- > 0) {
                    throw Object.assign(new Error("Throttling"), { name: "ThrottlingException" });
                }
                return receive(o);
            };
            const errors: string[] = [];
            const done = consume(queue, async () => undefined, {
                signal: controller.signal,
                log: { ...quiet, error: (_o, msg) => errors.push(msg) },
                receiveErrorDelayMs: 1,
            });
            while (queue.deleted.length === 0) {
                await new Promise((r) => setTimeout(r, 2));
            }
            controller.abort();
            await done;
            assert.deepStrictEqual(errors, ["receive failed; trying again"]);
        });
    });

    describe("publish", () => {
        it("publishes JSON to the topic's ARN through SNS, and refuses a topic the service does not declare", async () => {
            const sent: PublishCommand[] = [];
            const transport = topicTransport(
                () =>
                    ({
                        send: async (c: unknown) => {
                            sent.push(c as PublishCommand);
                            return {};
                        },
                    }) as never,
            );
            const arn = "arn:aws:sns:eu-west-1:123456789012:berth-dev-product-changed";
            const publisher = publisherFromEnv({ BERTH_TOPICS: JSON.stringify({ "product-changed": arn }) }, transport)!;
            await publisher.publish("product-changed", { type: "product.created", id: 1 });
            assert.deepStrictEqual(
                sent.map((c) => c.input),
                [{ TopicArn: arn, Message: '{"type":"product.created","id":1}' }],
            );
            await assert.rejects(publisher.publish("order-placed", {}), /topic "order-placed" is not one this service publishes \(product-changed\)/);
            await assert.rejects(publisher.publish("product-changed", { text: "x".repeat(MAX_MESSAGE_BYTES) }), /allowed: at most 262144/);
            assert.strictEqual(sent.length, 1);
        });

        it("reads BERTH_TOPICS, or none, and names the variable when it is wrong", () => {
            assert.strictEqual(publisherFromEnv({}), undefined);
            assert.throws(() => publisherFromEnv({ BERTH_TOPICS: "[1]" }), /BERTH_TOPICS is "\[1\]"; allowed: a JSON object of topic names/);
            assert.throws(() => publisherFromEnv({ BERTH_TOPICS: "{" }), /BERTH_TOPICS is "\{"/);
        });
    });

    describe("SQS", () => {
        it("long-polls the queue URL for up to a batch, with each message's receive count", async () => {
            const sent: ReceiveMessageCommand[] = [];
            const sqs = {
                send: async (c: unknown) => {
                    sent.push(c as ReceiveMessageCommand);
                    return { Messages: [{ MessageId: "m1", Body: "{}", ReceiptHandle: "r1", Attributes: { ApproximateReceiveCount: "4" } }] };
                },
            };
            const url = "https://sqs.eu-west-1.amazonaws.com/123456789012/berth-dev-product-events";
            const got = await queueTransport(url, () => sqs as never).receive({ max: 10, waitSeconds: 20, signal: new AbortController().signal });
            assert.deepStrictEqual(got, [{ id: "m1", body: "{}", receiptHandle: "r1", receiveCount: 4 }]);
            assert.deepStrictEqual(sent[0].input, {
                QueueUrl: url,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: 20,
                MessageSystemAttributeNames: ["ApproximateReceiveCount"],
            });
        });
    });

    describe("runWorker", () => {
        it("refuses to start without BERTH_QUEUE_URL, naming it", () => {
            assert.throws(() => runWorker(async () => undefined, { log: quiet, env: {} }), /BERTH_QUEUE_URL is not set/);
        });
    });

    it("logs JSON lines in pino's shape", () => {
        const out = new PassThrough();
        let text = "";
        out.on("data", (c: Buffer) => (text += c.toString()));
        jsonLog("product-events", out).error({ err: new Error("boom"), id: 3 }, "failed");
        const line = JSON.parse(text);
        assert.deepStrictEqual([line.level, line.service, line.msg, line.id, line.err.message], [50, "product-events", "failed", 3, "boom"]);
    });
});
