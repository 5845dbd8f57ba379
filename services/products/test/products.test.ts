import * as assert from "node:assert";
import type { FastifyInstance } from "fastify";
import { Database } from "@berth/kit";
import { databaseTargets, type TestDatabase } from "../../../tests/support/database";
import { buildApp } from "../src/app";
import { migrations, seedProducts } from "../src/products";

for (const target of databaseTargets)
    describe(`products service on ${target.name}`, function () {
        this.timeout(60_000);
        let db: TestDatabase;
        let app: FastifyInstance;
        before(async function () {
            this.timeout(120_000);
            db = await target.create(this);
            const database = new Database({ name: "products", settings: db.settings() });
            app = buildApp({ database, logger: false });
            await database.migrate("products", migrations);
        });
        after(async () => {
            await app?.close();
            await db?.drop();
        });

        it("lists the products as a JSON array, prices in cents", async () => {
            const res = await app.inject({ method: "GET", url: "/products" });
            assert.strictEqual(res.statusCode, 200);
            const products = res.json();
            assert.deepStrictEqual(products.slice(0, seedProducts.length), seedProducts);
            for (const p of products) {
                assert.ok(Number.isInteger(p.priceCents));
            }
        });

        it("lists a page at a time, with the next page in a Link header, and 400 for a bad limit", async () => {
            const first = await app.inject({ method: "GET", url: "/products?limit=3" });
            assert.deepStrictEqual(
                first.json().map((p: { id: number }) => p.id),
                [1, 2, 3],
            );
            assert.strictEqual(first.headers.link, '</products?limit=3&after=3>; rel="next"');
            const next = await app.inject({ method: "GET", url: "/products?limit=3&after=3" });
            assert.strictEqual(next.json()[0].id, 4);
            assert.strictEqual((await app.inject({ method: "GET", url: "/products?limit=5000" })).statusCode, 400);
        });

        it("answers one product by id, 404 for an unknown id and 400 for a bad one", async () => {
            assert.strictEqual((await app.inject({ method: "GET", url: "/products/3" })).json().sku, "MON-27-4K");
            assert.strictEqual((await app.inject({ method: "GET", url: "/products/42" })).statusCode, 404);
            assert.strictEqual((await app.inject({ method: "GET", url: "/products/three" })).statusCode, 400);
        });

        it("creates a product and refuses a negative price", async () => {
            const body = { sku: "CAM-HD-01", name: "HD webcam", priceCents: 6900, currency: "EUR", stock: 8 };
            const created = await app.inject({ method: "POST", url: "/products", payload: body });
            assert.strictEqual(created.statusCode, 201);
            const { id, ...rest } = created.json() as { id: number };
            assert.ok(id > seedProducts.length);
            assert.deepStrictEqual(rest, body);
            const refused = await app.inject({ method: "POST", url: "/products", payload: { ...body, priceCents: -1 } });
            assert.strictEqual(refused.statusCode, 400);
        });

        it("answers 409 for a SKU that is taken, and deletes a product", async () => {
            const body = { sku: "DUP-SKU-01", name: "Twice", priceCents: 1, currency: "USD", stock: 0 };
            const created = await app.inject({ method: "POST", url: "/products", payload: body });
            assert.strictEqual(created.statusCode, 201);
            const duplicate = await app.inject({ method: "POST", url: "/products", payload: { ...body, name: "Again" } });
            assert.strictEqual(duplicate.statusCode, 409);
            assert.match(duplicate.json().error.message, /sku "DUP-SKU-01"/);
            const url = `/products/${created.json().id}`;
            assert.strictEqual((await app.inject({ method: "DELETE", url })).statusCode, 204);
            assert.strictEqual((await app.inject({ method: "GET", url })).statusCode, 404);
            assert.strictEqual((await app.inject({ method: "DELETE", url })).statusCode, 404);
            assert.strictEqual((await app.inject({ method: "POST", url: "/products", payload: body })).statusCode, 201, "a deleted SKU is free again");
        });

        describe("takes bodies as JSON types, without coercion", () => {
            const valid = { sku: "STRICT-01", name: "Strict", priceCents: 100, currency: "EUR", stock: 1 };
            const post = (payload: string) => app.inject({ method: "POST", url: "/products", headers: { "content-type": "application/json" }, payload });
            const cases: Array<[string, string, string]> = [
                ["a null stock", JSON.stringify({ ...valid, stock: null }), "stock"],
                ["a price as a string", JSON.stringify({ ...valid, priceCents: "100" }), "priceCents"],
                ["a name as a number", JSON.stringify({ ...valid, name: 123 }), "name"],
                ["a stock as a boolean", JSON.stringify({ ...valid, stock: true }), "stock"],
                ["a price of 1e308", JSON.stringify(valid).replace('"priceCents":100', '"priceCents":1e308'), "priceCents"],
                [
                    "a price of 2^53+1, which JSON numbers cannot hold exactly",
                    JSON.stringify(valid).replace('"priceCents":100', '"priceCents":9007199254740993'),
                    "priceCents",
                ],
                ["a stock over the column's range", JSON.stringify({ ...valid, stock: 2 ** 31 }), "stock"],
            ];
            for (const [what, payload, field] of cases) {
                it(`refuses ${what} with 400 naming "${field}"`, async () => {
                    const res = await post(payload);
                    assert.strictEqual(res.statusCode, 400, res.body);
                    assert.strictEqual(res.json().error.code, "bad_request");
                    assert.match(res.json().error.message, new RegExp(`"${field}"`));
                });
            }

            it("takes the largest price a JSON number holds exactly, and keeps it exact", async () => {
                const res = await post(JSON.stringify({ ...valid, sku: "STRICT-MAX", priceCents: Number.MAX_SAFE_INTEGER }));
                assert.strictEqual(res.statusCode, 201, res.body);
                assert.strictEqual(res.json().priceCents, Number.MAX_SAFE_INTEGER);
                const read = await app.inject({ method: "GET", url: `/products/${res.json().id}` });
                assert.match(read.body, /"priceCents":9007199254740991[,}]/);
            });

            it("names every wrong field at once", async () => {
                const res = await post(JSON.stringify({ sku: "x", name: "", priceCents: -1, currency: "GBP" }));
                assert.strictEqual(res.statusCode, 400);
                for (const field of ["sku", "name", "priceCents", "currency", "stock"]) {
                    assert.match(res.json().error.message, new RegExp(`"${field}"`));
                }
            });
        });
    });
