/**
 * The error shape docs/services.md promises, for the requests that used to escape it: ones Fastify or node:http
 * answer before any route runs, bodies the database would refuse with a 500 or change silently, and
 * settings from the environment written in a notation nobody meant.
 */
import * as assert from "node:assert";
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { InjectOptions } from "fastify";
import { createService, portFromEnv, routes, wholeNumberFromEnv } from "../src";

/** Writes `data` on a new connection and resolves with everything the server sent until it closed. */
function rawExchange(port: number, data: string): Promise<string> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let text = "";
        socket.setEncoding("latin1");
        socket.on("data", (c: string) => {
            text += c;
        });
        socket.on("error", () => undefined);
        socket.on("close", () => resolve(text));
        socket.write(data);
    });
}

describe("kit: every refusal in Berth's error shape", () => {
    const app = createService({ name: "demo", logger: false, bodyLimit: 64 * 1024 });
    const received: unknown[] = [];
    routes(app, "/things/:id", { GET: { handler: () => ({}) } });
    routes(app, "/things", {
        GET: { handler: () => [] },
        POST: {
            schema: { body: { type: "object" } },
            handler: (req, reply) => {
                received.push(req.body);
                return reply.code(201).send(req.body);
            },
        },
    });
    let port = 0;
    before(async () => {
        await app.listen({ port: 0, host: "127.0.0.1" });
        port = (app.server.address() as AddressInfo).port;
    });
    after(() => app.close());

    const json = { "content-type": "application/json" };
    const cases: Array<[string, InjectOptions, number, RegExp]> = [
        ["an invalid percent-encoding in the path", { method: "GET", url: "/things/%zz" }, 400, /invalid percent-encoding/],
        ["a path parameter over Fastify's 100 characters", { method: "GET", url: `/things/${"1".repeat(150)}` }, 414, /exceeding the max param length/],
        [
            "a method the path does not take, unknown to Fastify",
            { method: "PROPFIND", url: "/things" },
            405,
            /PROPFIND is not allowed on \/things; allowed: GET, POST, HEAD/,
        ],
        [
            "a text/plain body",
            { method: "POST", url: "/things", headers: { "content-type": "text/plain" }, payload: "{}" },
            415,
            /Content-Type "text\/plain" is not supported; allowed: application\/json/,
        ],
        [
            "a gzip body",
            { method: "POST", url: "/things", headers: { ...json, "content-encoding": "gzip" }, payload: "\x1f\x8b\x08\x00" },
            415,
            /Content-Encoding "gzip" is not supported/,
        ],
        [
            "a __proto__ key",
            { method: "POST", url: "/things", headers: json, payload: '{"a":{"__proto__":{"admin":true}}}' },
            400,
            /"a\.__proto__" is a key no body may have/,
        ],
        [
            "a constructor.prototype key",
            { method: "POST", url: "/things", headers: json, payload: '{"constructor":{"prototype":{}}}' },
            400,
            /"constructor" is a key no body may have/,
        ],
        ["a NUL in a string", { method: "POST", url: "/things", headers: json, payload: '{"name":"Ada\\u0000"}' }, 400, /"name" contains a NUL character/],
        ["a NUL in a key", { method: "POST", url: "/things", headers: json, payload: '{"na\\u0000me":"Ada"}' }, 400, /contains a NUL character/],
        [
            "a lone surrogate",
            { method: "POST", url: "/things", headers: json, payload: '{"tags":["ok","\\ud800"]}' },
            400,
            /"tags\.1" contains a lone UTF-16 surrogate/,
        ],
        [
            "bytes that are not UTF-8",
            { method: "POST", url: "/things", headers: json, payload: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) },
            400,
            /not valid UTF-8/,
        ],
        [
            "nesting 40 deep",
            { method: "POST", url: "/things", headers: json, payload: `${"[".repeat(40)}${"]".repeat(40)}` },
            400,
            /nested deeper than 32 levels/,
        ],
        ["an empty JSON body", { method: "POST", url: "/things", headers: json, payload: "" }, 400, /Body is empty/],
    ];
    for (const [what, request, status, message] of cases) {
        it(`answers ${what} with ${status} in Berth's shape`, async () => {
            const res = await app.inject(request);
            assert.strictEqual(res.statusCode, status, res.body);
            const body = res.json();
            assert.deepStrictEqual(Object.keys(body), ["error"]);
            assert.match(body.error.message, message);
            assert.strictEqual(body.error.requestId, res.headers["x-request-id"]);
        });
    }

    it("takes a body with a paired surrogate (an emoji) and a key that only looks like a prototype's", async () => {
        const res = await app.inject({ method: "POST", url: "/things", headers: json, payload: '{"name":"\\ud83d\\ude00","proto":1,"constructor":"x"}' });
        assert.strictEqual(res.statusCode, 201, res.body);
        assert.deepStrictEqual(res.json(), { name: "😀", proto: 1, constructor: "x" });
    });

    for (const [what, head] of [
        ["two Host fields", "GET /things HTTP/1.1\r\nHost: a\r\nHost: b\r\n"],
        ["no Host field", "GET /things HTTP/1.1\r\n"],
    ]) {
        it(`answers ${what} with 400 in Berth's shape`, async () => {
            const reply = await rawExchange(port, `${head}Connection: close\r\n\r\n`);
            assert.match(reply, /^HTTP\/1\.1 400 /);
            const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4));
            assert.strictEqual(body.error.code, "bad_request");
            assert.match(body.error.message, /Host/);
            assert.ok(body.error.requestId);
        });
    }

    it("answers a request node:http cannot parse with 400 in Berth's shape, with a request id", async () => {
        const reply = await rawExchange(port, "GET /things HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
        assert.match(reply, /^HTTP\/1\.1 400 /);
        const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4));
        assert.strictEqual(body.error.code, "bad_request");
        assert.match(body.error.requestId, /^[0-9a-f-]{36}$/);
        assert.match(reply, /\r\nx-request-id: [0-9a-f-]{36}\r\n/);
    });
});

describe("kit: numbers from the environment in decimal digits only", () => {
    it("refuses a PORT of more than five digits, leading zeros included", () => {
        assert.throws(() => portFromEnv({ PORT: "000008080" }), /^Error: PORT is "000008080"; allowed: a whole number from 0 to 65535$/);
    });
    for (const bad of ["0x1F90", "1e3", "0b1", " 8080", "8080 ", "+8080"]) {
        it(`refuses PORT=${JSON.stringify(bad)}`, () => {
            assert.throws(() => portFromEnv({ PORT: bad }), /PORT is .*; allowed: a whole number from 0 to 65535/);
        });
        it(`refuses TIMEOUT_MS=${JSON.stringify(bad)}`, () => {
            assert.throws(
                () => wholeNumberFromEnv("TIMEOUT_MS", 10_000, 1, { TIMEOUT_MS: bad }),
                /^Error: TIMEOUT_MS is .*; allowed: a whole number of at least 1, in decimal digits$/,
            );
        });
    }

    it("reads decimal digits", () => {
        assert.strictEqual(portFromEnv({ PORT: "8081" }), 8081);
        assert.strictEqual(wholeNumberFromEnv("TIMEOUT_MS", 10_000, 1, { TIMEOUT_MS: "2500" }), 2500);
        assert.strictEqual(wholeNumberFromEnv("TIMEOUT_MS", 10_000, 1, {}), 10_000);
    });

    it("stops the gateway at start with one clear line for a hexadecimal TIMEOUT_MS", function () {
        this.timeout(30_000);
        const root = path.resolve(__dirname, "../../..");
        const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "services/api/src/main.ts"], {
            cwd: root,
            env: { ...process.env, ROUTES: '{"/users":"http://127.0.0.1:9"}', TIMEOUT_MS: "0x10", PORT: "0", OTEL_EXPORTER_OTLP_ENDPOINT: "" },
            encoding: "utf8",
            timeout: 25_000,
        });
        assert.strictEqual(run.status, 1, run.stdout + run.stderr);
        assert.strictEqual(run.stderr.trim(), 'TIMEOUT_MS is "0x10"; allowed: a whole number of at least 1, in decimal digits');
    });
});
