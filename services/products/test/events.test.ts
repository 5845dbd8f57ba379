/**
 * The products service publishes `product-changed` on each create and delete, through the kit's publisher
 * (a recording transport here), and a publish that fails never fails the stored change.
 */
import * as assert from "node:assert";
import type { FastifyInstance } from "fastify";
import { Database } from "@berth/kit";
import { Publisher } from "@berth/kit/messaging";
import { databaseTargets, type TestDatabase } from "../../../tests/support/database";
import { buildApp } from "../src/app";
import { PRODUCT_CHANGED } from "../src/events";
import { migrations } from "../src/products";
import { parseProductChanged } from "../../product-events/src/audit";

for (const target of databaseTargets.slice(0, 1))
    describe(`products events on ${target.name}`, function () {
        this.timeout(60_000);
        let db: TestDatabase;
        let app: FastifyInstance;
        const sent: Array<{ address: string; body: string }> = [];
        let failing = false;
        before(async function () {
            this.timeout(120_000);
            db = await target.create(this);
            const database = new Database({ name: "products", settings: db.settings() });
            const publisher = new Publisher(
                { [PRODUCT_CHANGED]: "arn:aws:sns:eu-west-1:123456789012:berth-dev-product-changed" },
                {
                    publish: async (address, body) => {
                        if (failing) {
                            throw new Error("SNS is unreachable");
                        }
                        sent.push({ address, body });
                    },
                },
            );
            app = buildApp({ database, logger: false, publisher });
            await database.migrate("products", migrations);
        });
        after(async () => {
            await app?.close();
            await db?.drop();
        });

        const product = { sku: "EVT-01", name: "Evented", priceCents: 100, currency: "EUR", stock: 1 };

        it("publishes the product created, whole, and the id deleted, in what the worker reads", async () => {
            sent.length = 0;
            const created = await app.inject({ method: "POST", url: "/products", payload: product });
            assert.strictEqual(created.statusCode, 201);
            const id = created.json().id as number;
            assert.strictEqual((await app.inject({ method: "DELETE", url: `/products/${id}` })).statusCode, 204);
            assert.deepStrictEqual(
                sent.map((s) => s.address),
                Array(2).fill("arn:aws:sns:eu-west-1:123456789012:berth-dev-product-changed"),
            );
            const events = sent.map((s) => JSON.parse(s.body));
            assert.deepStrictEqual(
                events.map((e) => [e.type, e.id]),
                [
                    ["product.created", id],
                    ["product.deleted", id],
                ],
            );
            assert.deepStrictEqual(events[0].product, { id, ...product });
            assert.deepStrictEqual(
                sent.map((s) => parseProductChanged(s.body).type),
                ["product.created", "product.deleted"],
            );
        });

        it("publishes nothing for a refused create or an unknown id", async () => {
            sent.length = 0;
            assert.strictEqual((await app.inject({ method: "POST", url: "/products", payload: { ...product, priceCents: -1 } })).statusCode, 400);
            assert.strictEqual((await app.inject({ method: "DELETE", url: "/products/999999" })).statusCode, 404);
            assert.deepStrictEqual(sent, []);
        });

        it("answers the stored change when the publish fails", async () => {
            failing = true;
            try {
                const created = await app.inject({ method: "POST", url: "/products", payload: { ...product, sku: "EVT-02" } });
                assert.strictEqual(created.statusCode, 201);
                assert.strictEqual((await app.inject({ method: "GET", url: `/products/${created.json().id}` })).statusCode, 200);
            } finally {
                failing = false;
            }
        });
    });
