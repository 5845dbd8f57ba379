/**
 * The local run with routes that require authentication: `npm start` makes up a development key pair,
 * token and API key, gives the gateway the matching `AUTH_*` settings, and prints them.
 */
import * as assert from "node:assert";
import { PassThrough } from "node:stream";
import { startLocal, type LocalSystem } from "../scripts/local";
import { declarations, resolveCatalog } from "../catalog";

describe("the local run with authentication", function () {
    this.timeout(60_000);
    let system: LocalSystem;
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${system.url}${path}`, { headers, signal: AbortSignal.timeout(10_000) });

    before(async () => {
        const services = resolveCatalog(
            declarations.map((d) => (d.name === "users" ? { ...d, auth: "jwt" as const } : d.name === "products" ? { ...d, auth: "apiKey" as const } : d)),
        );
        // The embedded database in memory, so that the test neither reads nor changes .berth/pgdata.
        system = await startLocal({ port: 0, services, output: new PassThrough().resume(), env: { AUTH_ISSUER: "", AUTH_API_KEYS: "" }, database: {} });
    });
    after(async () => {
        await system?.stop();
    });

    it("makes up development credentials that the gateway accepts", async () => {
        assert.ok(system.credentials, "no development credentials");
        const users = await get("/users", { authorization: `Bearer ${system.credentials.token}` });
        assert.strictEqual(users.status, 200);
        const products = await get("/products", { "x-api-key": system.credentials.apiKey });
        assert.strictEqual(products.status, 200);
    });

    it("refuses the guarded routes without them, with 401 JSON and a challenge", async () => {
        for (const [path, scheme] of [
            ["/users", /^Bearer /],
            ["/products", /^ApiKey /],
        ] as const) {
            const res = await get(path);
            assert.strictEqual(res.status, 401, path);
            assert.match(res.headers.get("www-authenticate") ?? "", scheme);
            assert.strictEqual(((await res.json()) as { error: { code: string } }).error.code, "unauthorized");
        }
        assert.strictEqual((await get("/users", { authorization: `Bearer ${system.credentials!.token}x` })).status, 401);
        assert.strictEqual((await get("/products", { "x-api-key": `${system.credentials!.apiKey}x` })).status, 401);
    });
});
