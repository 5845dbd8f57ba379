/**
 * The embedded default end to end: `startLocal` (what `npm start` runs) brings up every service of the
 * catalogue, and the test talks to the gateway only.
 */
import * as assert from "node:assert";
import * as net from "node:net";
import { PassThrough } from "node:stream";
import { startLocal, type LocalSystem } from "../scripts/local";
import { reservePort } from "../scripts/net";
import { catalog } from "../catalog";

describe("the local run, through the gateway", function () {
    this.timeout(60_000);
    let system: LocalSystem;
    let logs = "";
    const get = (path: string, init?: RequestInit) => fetch(`${system.url}${path}`, { signal: AbortSignal.timeout(10_000), ...init });
    const child = (name: string) => system.services.find((s) => s.service.name === name)!.process;

    /** A port another program takes in the moment between its release and its service's `listen`. */
    let stolen: { port: number; server?: net.Server } | undefined;

    before(async () => {
        const output = new PassThrough();
        output.on("data", (chunk: Buffer) => {
            logs += chunk.toString();
        });
        system = await startLocal({
            port: 0,
            env: { TIMEOUT_MS: "700" },
            output,
            // The embedded database in memory, so that the test neither reads nor changes .berth/pgdata.
            database: {},
            reservePort: async (port) => {
                const reservation = await reservePort(port);
                if (stolen) {
                    return reservation;
                }
                const theft: { port: number; server?: net.Server } = (stolen = { port: reservation.port });
                return {
                    port: reservation.port,
                    release: async () => {
                        await reservation.release();
                        const server = net.createServer((socket) => socket.destroy());
                        await new Promise<void>((resolve) => server.listen(theft.port, "127.0.0.1", resolve));
                        theft.server = server;
                    },
                };
            },
        });
    });
    after(async () => {
        await system?.stop();
        stolen?.server?.close();
    });

    it("starts a service whose port was taken before it listened on another one", () => {
        assert.ok(stolen?.server, "no port was taken in between");
        assert.ok(!system.services.some((s) => s.url.endsWith(`:${stolen!.port}`)), "a service claims the taken port");
        assert.match(logs, /port taken before it listened; starting again on \d+/);
    });

    it("starts every catalogue service on loopback", () => {
        assert.deepStrictEqual(system.services.map((s) => s.service.name).sort(), catalog.map((s) => s.name).sort());
        for (const s of system.services) {
            // A worker's address is its queue's at the local broker.
            assert.match(s.url, s.service.kind === "worker" ? /^http:\/\/127\.0\.0\.1:\d+\/queues\/[a-z0-9-]+$/ : /^http:\/\/127\.0\.0\.1:\d+$/);
        }
    });

    it("answers /users and /products with JSON arrays", async () => {
        for (const path of ["/users", "/products"]) {
            const res = await get(path);
            assert.strictEqual(res.status, 200, path);
            assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
            const body = (await res.json()) as unknown[];
            assert.ok(Array.isArray(body) && body.length >= 4, `${path} answered ${JSON.stringify(body)}`);
        }
    });

    it("answers single records, and 404 and 400 from the backends", async () => {
        assert.strictEqual(((await (await get("/users/1")).json()) as { name: string }).name, "Ada Lovelace");
        assert.strictEqual(((await (await get("/products/2")).json()) as { sku: string }).sku, "MS-ERGO-02");
        assert.strictEqual((await get("/users/404")).status, 404);
        assert.strictEqual((await get("/products/not-an-id")).status, 400);
    });

    it("creates through the gateway, and refuses malformed JSON with 400", async () => {
        const created = await get("/users", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "Edsger Dijkstra", email: "edsger@example.com", role: "viewer" }),
        });
        assert.strictEqual(created.status, 201);
        const { id } = (await created.json()) as { id: number };
        assert.strictEqual((await get(`/users/${id}`)).status, 200);
        const malformed = await get("/users", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":' });
        assert.strictEqual(malformed.status, 400);
    });

    it("keeps records in the database: 409 for a taken e-mail, one 201 among concurrent twins, DELETE", async () => {
        const post = (body: object) => get("/users", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        const taken = await post({ name: "Not Ada", email: "ada@example.com", role: "viewer" });
        assert.strictEqual(taken.status, 409);
        assert.strictEqual(((await taken.json()) as { error: { code: string } }).error.code, "conflict");

        const twins = await Promise.all([1, 2, 3].map(() => post({ name: "Twin", email: "twin@example.com", role: "member" })));
        assert.deepStrictEqual(twins.map((r) => r.status).sort(), [201, 409, 409]);
        const { id } = (await twins.find((r) => r.status === 201)!.json()) as { id: number };

        const deleted = await get(`/users/${id}`, { method: "DELETE" });
        assert.strictEqual(deleted.status, 204);
        assert.strictEqual((await get(`/users/${id}`)).status, 404);
        assert.strictEqual((await get(`/users/${id}`, { method: "DELETE" })).status, 404);

        const product = await get("/products", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ sku: "E2E-01", name: "Through the gateway", priceCents: 100, currency: "USD", stock: 1 }),
        });
        assert.strictEqual(product.status, 201);
        assert.strictEqual((await get(new URL(product.headers.get("location")!, system.url).pathname, { method: "DELETE" })).status, 204);
    });

    it("answers 404 JSON for unknown paths and carries the request id end to end", async () => {
        const res = await get("/no-such-route", { headers: { "x-request-id": "e2e-1" } });
        assert.strictEqual(res.status, 404);
        assert.strictEqual(res.headers.get("x-request-id"), "e2e-1");
        const traced = await get("/users/2", { headers: { "x-request-id": "e2e-2" } });
        assert.strictEqual(traced.headers.get("x-request-id"), "e2e-2");
        await new Promise((r) => setTimeout(r, 200));
        assert.match(logs, /^users\s+\| .*"requestId":"e2e-2"/m, "the backend did not log the gateway's request id");
        assert.match(logs, /^api\s+\| .*"requestId":"e2e-2"/m);
    });

    it("answers 504 when a backend is too slow, and recovers when it answers again", async () => {
        child("products").kill("SIGSTOP");
        try {
            const res = await get("/products");
            assert.strictEqual(res.status, 504);
            assert.strictEqual(((await res.json()) as { error: { code: string } }).error.code, "gateway_timeout");
        } finally {
            child("products").kill("SIGCONT");
        }
        assert.strictEqual((await get("/products")).status, 200);
    });

    it("answers 502 when a backend is down, and keeps serving the others", async () => {
        const users = child("users");
        const exited = new Promise((r) => users.once("exit", r));
        users.kill("SIGKILL");
        await exited;
        const res = await get("/users");
        assert.strictEqual(res.status, 502);
        assert.strictEqual(((await res.json()) as { error: { code: string } }).error.code, "bad_gateway");
        assert.strictEqual((await get("/products")).status, 200);
        assert.strictEqual((await get("/health")).status, 200);
    });

    it("stops every service gracefully", async () => {
        await system.stop();
        for (const s of system.services.filter((s) => s.service.name !== "users")) {
            assert.strictEqual(s.process.exitCode, 0, `${s.service.name} exited with ${s.process.exitCode ?? s.process.signalCode}`);
        }
        await assert.rejects(fetch(`${system.url}/health`, { signal: AbortSignal.timeout(2000) }));
    });
});
