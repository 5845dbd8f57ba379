/**
 * The worker in the local run (`startLocal`, what `npm start` runs): a product created through the gateway
 * reaches the product-events worker through the local broker, and a message it cannot read ends in its
 * dead-letter queue after the maximum receives, as in AWS.
 */
import * as assert from "node:assert";
import { PassThrough } from "node:stream";
import { catalog } from "../catalog";
import { MAX_RECEIVE_COUNT } from "../core/messaging";
import { startLocal, type LocalSystem } from "../scripts/local";

describe("a worker in the local run", function () {
    this.timeout(120_000);
    let system: LocalSystem;
    let logs = "";
    const worker = catalog.find((s) => s.kind === "worker")!;

    /** Waits until `done` holds, polling; fails with what the services logged after `timeoutMs`. */
    const until = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!(await done())) {
            if (Date.now() > deadline) {
                assert.fail(`${what} did not happen; the services logged:\n${logs.slice(-4000)}`);
            }
            await new Promise((r) => setTimeout(r, 50));
        }
    };

    before(async () => {
        const output = new PassThrough();
        output.on("data", (chunk: Buffer) => {
            logs += chunk.toString();
        });
        // A failed message comes back at once, so that it reaches the dead letters without waiting out the backoff.
        system = await startLocal({ port: 0, output, database: {}, env: { RETRY_DELAY_MAX_SECONDS: "0" } });
    });
    after(async () => {
        await system?.stop();
    });

    it("starts the worker on its queue, healthy once it polls", async () => {
        const local = system.services.find((s) => s.service.name === worker.name)!;
        assert.strictEqual(local.url, system.broker!.queueUrl(worker.name));
        assert.strictEqual((await fetch(`${local.url}${worker.healthPath}`)).status, 200);
    });

    it("delivers a product created and deleted through the gateway to the worker, which records each once", async () => {
        const created = await fetch(`${system.url}/products`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ sku: "EVT-LOCAL-1", name: "Event test", priceCents: 100, currency: "EUR", stock: 1 }),
        });
        assert.strictEqual(created.status, 201);
        const { id } = (await created.json()) as { id: number };
        assert.strictEqual((await fetch(`${system.url}/products/${id}`, { method: "DELETE" })).status, 204);
        const lines = () =>
            logs
                .split("\n")
                .filter((l) => l.startsWith(worker.name) && l.includes('"msg":"product changed"'))
                .map((l) => JSON.parse(l.slice(l.indexOf("{"))));
        await until("both events reaching the worker", () => lines().filter((l) => l.event.productId === id).length === 2);
        const events = lines().filter((l) => l.event.productId === id);
        assert.deepStrictEqual(
            events.map((l) => l.event.type),
            ["product.created", "product.deleted"],
        );
        assert.deepStrictEqual(events[1].counts, { "product.created": 1, "product.deleted": 1 });
        await until("the queue draining", () => {
            const s = system.broker!.stats(worker.name);
            return s.visible === 0 && s.inFlight === 0;
        });
        assert.strictEqual(system.broker!.stats(worker.name).deadLetters, 0);
    });

    it("sends a message the worker cannot read to the dead-letter queue after the maximum receives", async () => {
        const published = await fetch(system.broker!.topicUrl("product-changed"), {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: '{"type":"product.renamed","id":1}' }),
        });
        assert.strictEqual(published.status, 202);
        await until("the dead letter", () => system.broker!.stats(worker.name).deadLetters === 1);
        const failures = logs.split("\n").filter((l) => l.startsWith(worker.name) && l.includes("handler failed"));
        assert.strictEqual(failures.length, MAX_RECEIVE_COUNT);
        assert.match(failures[0], /product\.renamed/);
    });

    it("stops the worker cleanly on SIGTERM", async () => {
        const local = system.services.find((s) => s.service.name === worker.name)!;
        const exited = new Promise<number | null>((resolve) => local.process.once("exit", (code) => resolve(code)));
        local.process.kill("SIGTERM");
        assert.strictEqual(await exited, 0);
        assert.match(logs, /shutting down: finishing the messages in hand/);
    });
});
