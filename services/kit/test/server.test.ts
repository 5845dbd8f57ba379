import * as assert from "node:assert";
import type { AddressInfo } from "node:net";
import type { InjectOptions } from "fastify";
import { createService, errorBody, portFromEnv, routes } from "../src";

describe("kit", () => {
    describe("createService", () => {
        const app = createService({ name: "demo", logger: false, bodyLimit: 100 });
        routes(app, "/things", {
            GET: { handler: () => [] },
            POST: {
                schema: { body: { type: "object", properties: { n: { type: "integer" } }, required: ["n"], additionalProperties: false } },
                handler: (req, reply) => reply.code(201).send(req.body),
            },
        });
        routes(app, "/boom", {
            GET: {
                handler: () => {
                    throw new Error("secret detail");
                },
            },
        });
        after(() => app.close());

        it("answers /health without calling anything", async () => {
            const res = await app.inject({ method: "GET", url: "/health" });
            assert.strictEqual(res.statusCode, 200);
            assert.deepStrictEqual(res.json(), { status: "ok", service: "demo" });
        });

        it("echoes a caller's x-request-id and makes one up otherwise", async () => {
            const given = await app.inject({ method: "GET", url: "/things", headers: { "x-request-id": "abc-123" } });
            assert.strictEqual(given.headers["x-request-id"], "abc-123");
            const made = await app.inject({ method: "GET", url: "/things" });
            assert.match(String(made.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
            const unsafe = await app.inject({ method: "GET", url: "/things", headers: { "x-request-id": 'a b"c' } });
            assert.notStrictEqual(unsafe.headers["x-request-id"], 'a b"c', "an id unsafe to log is replaced");
        });

        const cases: Array<[string, InjectOptions, number, string]> = [
            ["an unknown route", { method: "GET", url: "/nope" }, 404, "not_found"],
            ["a wrong method", { method: "DELETE", url: "/things" }, 405, "method_not_allowed"],
            ["malformed JSON", { method: "POST", url: "/things", headers: { "content-type": "application/json" }, payload: "{nope" }, 400, "bad_request"],
            ["a body against the schema", { method: "POST", url: "/things", payload: { n: "x" } }, 400, "bad_request"],
            ["a number sent as a string (no coercion)", { method: "POST", url: "/things", payload: { n: "1" } }, 400, "bad_request"],
            ["null for a number (no coercion)", { method: "POST", url: "/things", payload: { n: null } }, 400, "bad_request"],
            ["an unknown field", { method: "POST", url: "/things", payload: { n: 1, extra: true } }, 400, "bad_request"],
            ["a body over the limit", { method: "POST", url: "/things", payload: { n: 1, pad: "x".repeat(200) } }, 413, "payload_too_large"],
            [
                "a body that is not JSON",
                { method: "POST", url: "/things", headers: { "content-type": "application/xml" }, payload: "<n>1</n>" },
                415,
                "unsupported_media_type",
            ],
        ];
        for (const [what, request, status, code] of cases) {
            it(`answers ${what} with ${status} JSON`, async () => {
                const res = await app.inject(request);
                assert.strictEqual(res.statusCode, status);
                assert.match(String(res.headers["content-type"]), /^application\/json/);
                const body = res.json();
                assert.strictEqual(body.error.code, code);
                assert.strictEqual(typeof body.error.message, "string");
                assert.strictEqual(body.error.requestId, res.headers["x-request-id"]);
            });
        }

        it("names the allowed methods on 405", async () => {
            const res = await app.inject({ method: "PUT", url: "/things" });
            assert.strictEqual(res.headers.allow, "GET, POST, HEAD");
        });

        it("hides the detail of a 500", async () => {
            const res = await app.inject({ method: "GET", url: "/boom" });
            assert.strictEqual(res.statusCode, 500);
            assert.deepStrictEqual(res.json().error.message, "Internal error");
        });
    });

    describe("graceful close", () => {
        it("finishes an in-flight request, then refuses new connections", async () => {
            const app = createService({ name: "slow", logger: false });
            let entered!: () => void;
            const inside = new Promise<void>((r) => {
                entered = r;
            });
            routes(app, "/slow", {
                GET: {
                    handler: async () => {
                        entered();
                        await new Promise((r) => setTimeout(r, 300));
                        return { done: true };
                    },
                },
            });
            await app.listen({ port: 0, host: "127.0.0.1" });
            const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
            const inFlight = fetch(`${url}/slow`);
            await inside;
            const closed = app.close();
            const res = await inFlight;
            assert.strictEqual(res.status, 200);
            assert.deepStrictEqual(await res.json(), { done: true });
            await closed;
            await assert.rejects(fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }));
        });
    });

    describe("portFromEnv", () => {
        it("reads PORT, defaulting to 8080", () => {
            assert.strictEqual(portFromEnv({}), 8080);
            assert.strictEqual(portFromEnv({ PORT: "3000" }), 3000);
        });
        for (const bad of ["http", "-1", "70000", "80.5", ""]) {
            it(`refuses PORT=${JSON.stringify(bad)}`, () => {
                assert.throws(() => portFromEnv({ PORT: bad }), /PORT is .*; allowed: a whole number from 0 to 65535/);
            });
        }
    });

    it("shapes every error alike", () => {
        assert.deepStrictEqual(errorBody(504, "slow", "id-1"), { error: { code: "gateway_timeout", message: "slow", requestId: "id-1" } });
    });
});
