import * as assert from "node:assert";
import { ProductAudit, parseProductChanged, UnreadableEvent } from "../src/audit";

describe("product-events audit", () => {
    const message = (id: string, body: unknown) => ({ id, body: typeof body === "string" ? body : JSON.stringify(body), receiveCount: 1 });

    it("counts each event type, and a redelivered message once", () => {
        const audit = new ProductAudit();
        const at = "2026-12-03T17:00:00.000Z";
        assert.strictEqual(audit.record(message("m1", { type: "product.created", id: 7, at })).fresh, true);
        assert.strictEqual(audit.record(message("m1", { type: "product.created", id: 7, at })).fresh, false);
        audit.record(message("m2", { type: "product.deleted", id: 7, at }));
        assert.deepStrictEqual(audit.counts, { "product.created": 1, "product.deleted": 1 });
        assert.deepStrictEqual(
            audit.entries.map((e) => [e.messageId, e.type, e.productId]),
            [
                ["m1", "product.created", 7],
                ["m2", "product.deleted", 7],
            ],
        );
    });

    for (const [what, body, reason] of [
        ["text that is not JSON", "not json", /not JSON/],
        [
            "an unknown type",
            { type: "product.renamed", id: 1, at: "2026-12-03T17:00:00Z" },
            /"type" is "product.renamed"; allowed: product.created, product.deleted/,
        ],
        ["a bad id", { type: "product.created", id: 0, at: "2026-12-03T17:00:00Z" }, /"id" is 0/],
        ["a bad time", { type: "product.created", id: 1, at: "yesterday" }, /"at" is "yesterday"/],
        ["null", "null", /"type" is undefined/],
    ] as const) {
        it(`refuses ${what}, which then goes to the dead-letter queue`, () => {
            assert.throws(
                () => parseProductChanged(typeof body === "string" ? body : JSON.stringify(body)),
                (err: Error) => err instanceof UnreadableEvent && reason.test(err.message),
            );
        });
    }
});
