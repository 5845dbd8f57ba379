/**
 * The local run's broker (scripts/localBroker.ts): SQS's contract over loopback HTTP, as the kit consumes it,
 * with the clock injected so that visibility timeouts pass without waiting.
 */
import * as assert from "node:assert";
import { resolveCatalog, declarations, type ServiceDeclaration } from "../catalog";
import { MAX_RECEIVE_COUNT } from "../core/messaging";
import { consume, Publisher, queueTransport, topicTransport, type ReceivedMessage } from "@berth/kit/messaging";
import { startBroker, type LocalBroker } from "../scripts/localBroker";

const decls: ServiceDeclaration[] = [
    ...declarations
        .filter((d) => d.kind !== "worker")
        .map((d) => (d.name === "products" ? { ...d, publishes: ["product-changed"] } : { ...d, publishes: undefined })),
    { name: "audit", kind: "worker", subscribes: ["product-changed"] },
    { name: "mailer", kind: "worker", subscribes: ["product-changed"] },
];
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe("the local broker", () => {
    let broker: LocalBroker;
    let clock = 1_000_000;
    const post = (path: string, body: unknown) =>
        fetch(`${broker.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const receive = async (worker: string) =>
        (
            (await (await post(`/queues/${worker}/receive`, { maxMessages: 10 })).json()) as {
                messages: Array<{ id: string; body: string; receiveCount: number; receiptHandle: string }>;
            }
        ).messages;

    beforeEach(async () => {
        broker = await startBroker(resolveCatalog(decls), { now: () => clock, visibilitySeconds: 30 });
    });
    afterEach(async () => {
        await broker.close();
    });

    it("fans a published message out to every subscribed worker's queue, body as published", async () => {
        const response = await post("/topics/product-changed", { message: '{"id":1}' });
        assert.strictEqual(response.status, 202);
        for (const worker of ["audit", "mailer"]) {
            const [m] = await receive(worker);
            assert.deepStrictEqual([m.body, m.receiveCount], ['{"id":1}', 1], worker);
        }
    });

    it("hides a received message for the visibility timeout, then delivers it again; a deleted one never", async () => {
        await post("/topics/product-changed", { message: "a" });
        const [first] = await receive("audit");
        assert.deepStrictEqual(await receive("audit"), [], "received while invisible");
        assert.deepStrictEqual(broker.stats("audit"), { visible: 0, inFlight: 1, deadLetters: 0 });
        clock += 30_000;
        const [again] = await receive("audit");
        assert.deepStrictEqual([again.id, again.receiveCount], [first.id, 2]);
        assert.notStrictEqual(again.receiptHandle, first.receiptHandle);
        assert.strictEqual((await post("/queues/audit/delete", { receiptHandle: first.receiptHandle })).status, 404, "a stale handle deletes nothing");
        assert.strictEqual((await post("/queues/audit/delete", { receiptHandle: again.receiptHandle })).status, 204);
        clock += 60_000;
        assert.deepStrictEqual(await receive("audit"), []);
    });

    it("moves a message received the maximum number of times to the dead letters", async () => {
        await post("/topics/product-changed", { message: "poison" });
        for (let i = 1; i <= MAX_RECEIVE_COUNT; i++) {
            const [m] = await receive("audit");
            assert.strictEqual(m.receiveCount, i);
            clock += 30_000;
        }
        assert.deepStrictEqual(await receive("audit"), []);
        assert.deepStrictEqual(broker.stats("audit"), { visible: 0, inFlight: 0, deadLetters: 1 });
        const dead = (await (await fetch(`${broker.url}/queues/audit/dead-letters`)).json()) as { messages: Array<{ body: string; receiveCount: number }> };
        assert.deepStrictEqual(
            dead.messages.map((m) => [m.body, m.receiveCount]),
            [["poison", MAX_RECEIVE_COUNT]],
        );
    });

    it("makes a message visible again at once when its visibility is set to 0", async () => {
        await post("/topics/product-changed", { message: "b" });
        const [m] = await receive("audit");
        assert.strictEqual((await post("/queues/audit/visibility", { receiptHandle: m.receiptHandle, seconds: 0 })).status, 204);
        assert.strictEqual((await receive("audit"))[0].receiveCount, 2);
    });

    it("long-polls: a receive waiting on an empty queue returns the message published meanwhile", async () => {
        const waiting = post("/queues/audit/receive", { maxMessages: 1, waitSeconds: 5 });
        await new Promise((r) => setTimeout(r, 50));
        await post("/topics/product-changed", { message: "late" });
        const { messages } = (await (await waiting).json()) as { messages: Array<{ body: string }> };
        assert.deepStrictEqual(
            messages.map((m) => m.body),
            ["late"],
        );
    });

    it("answers bad requests with a 4xx JSON error and keeps serving", async () => {
        const cases: Array<[string, string, unknown, number, RegExp]> = [
            ["POST", "/topics/order-placed", { message: "x" }, 404, /no topic "order-placed"; the local run has product-changed/],
            ["POST", "/topics/product-changed", { message: 3 }, 400, /message must be a string/],
            ["POST", "/topics/product-changed", { message: "x".repeat(256 * 1024 + 1) }, 413, /allowed: at most 262144/],
            ["POST", "/queues/nobody/receive", {}, 404, /no queue "nobody"/],
            ["POST", "/queues/audit/receive", { maxMessages: 11 }, 400, /maxMessages is 11; allowed: a whole number from 1 to 10/],
            ["POST", "/queues/audit/receive", { waitSeconds: 21 }, 400, /waitSeconds is 21; allowed: 0 to 20/],
            ["POST", "/queues/audit/visibility", { receiptHandle: "x", seconds: -1 }, 400, /seconds is -1/],
            ["POST", "/queues/audit/explode", {}, 405, /not a route/],
            ["GET", "/nowhere", undefined, 404, /not a route/],
        ];
        for (const [method, path, body, status, message] of cases) {
            const response = await fetch(`${broker.url}${path}`, {
                method,
                headers: { "content-type": "application/json" },
                body: body === undefined ? undefined : JSON.stringify(body),
            });
            assert.strictEqual(response.status, status, `${method} ${path}`);
            assert.match(((await response.json()) as { message: string }).message, message, `${method} ${path}`);
        }
        const malformed = await fetch(`${broker.url}/topics/product-changed`, { method: "POST", body: "{" });
        assert.deepStrictEqual([malformed.status, ((await malformed.json()) as { error: string }).error], [400, "MalformedJson"]);
        assert.strictEqual((await post("/topics/product-changed", { message: "still here" })).status, 202);
    });

    it("says a worker is healthy once it polls its queue", async () => {
        assert.strictEqual((await fetch(`${broker.url}/queues/audit/health`)).status, 503);
        await receive("audit");
        assert.strictEqual((await fetch(`${broker.url}/queues/audit/health`)).status, 200);
        clock += 31_000;
        assert.strictEqual((await fetch(`${broker.url}/queues/audit/health`)).status, 503, "no receive for longer than a long poll");
    });

    it("with the kit on both sides: a handler that keeps failing sends its message to the dead letters, a good one is deleted", async () => {
        const publisher = new Publisher({ "product-changed": broker.topicUrl("product-changed") }, topicTransport());
        await publisher.publish("product-changed", { ok: false });
        await publisher.publish("product-changed", { ok: true });
        const controller = new AbortController();
        const handled: ReceivedMessage[] = [];
        const done = consume(
            queueTransport(broker.queueUrl("audit")),
            async (m) => {
                handled.push(m);
                if (!JSON.parse(m.body).ok) {
                    throw new Error("cannot handle this one");
                }
            },
            { signal: controller.signal, log: quiet, retryDelaySeconds: () => 0, waitSeconds: 0 },
        );
        while (broker.stats("audit").deadLetters === 0) {
            await new Promise((r) => setTimeout(r, 10));
        }
        controller.abort();
        await done;
        assert.deepStrictEqual(broker.stats("audit"), { visible: 0, inFlight: 0, deadLetters: 1 });
        assert.deepStrictEqual(
            handled.filter((m) => m.body === '{"ok":false}').map((m) => m.receiveCount),
            [1, 2, 3, 4, 5],
        );
        assert.strictEqual(handled.filter((m) => m.body === '{"ok":true}').length, 1);
    });
});
