import * as assert from "node:assert";
import { buildApp } from "../src/app";
import { seedProducts } from "../src/products";

describe("products service", () => {
    const app = buildApp({ logger: false });
    after(() => app.close());

    it("lists the products as a JSON array, prices in cents", async () => {
        const res = await app.inject({ method: "GET", url: "/products" });
        assert.strictEqual(res.statusCode, 200);
        const products = res.json();
        assert.deepStrictEqual(products.slice(0, seedProducts.length), seedProducts);
        for (const p of products) {
            assert.ok(Number.isInteger(p.priceCents));
        }
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
});
