import * as assert from "node:assert";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { Database, type DatabaseOptions } from "@berth/kit";
import { databaseTargets, type TestDatabase } from "../../../tests/support/database";
import { TcpProxy } from "../../../tests/support/tcpProxy";
import { buildApp } from "../src/app";
import { migrations, seedUsers } from "../src/users";

for (const target of databaseTargets) {
    describe(`users service on ${target.name}`, function () {
        this.timeout(60_000);
        let db: TestDatabase;
        let app: FastifyInstance;
        const running: FastifyInstance[] = [];

        /** One service instance, as a task runs it: its own pool, migrated at start. */
        async function instance(on: TestDatabase = db, options: Partial<DatabaseOptions> & { url?: string } = {}) {
            const database = new Database({ name: "users", settings: { ...on.settings(), url: options.url ?? on.url }, ...options });
            const service = buildApp({ database, logger: false });
            running.push(service);
            await database.migrate("users", migrations);
            return service;
        }
        const post = (to: FastifyInstance, body: object) => to.inject({ method: "POST", url: "/users", payload: body });

        before(async function () {
            this.timeout(120_000);
            db = await target.create(this);
            app = await instance();
        });
        after(async () => {
            await Promise.all(running.map((s) => s.close()));
            await db?.drop();
        });

        it("lists the seeded users as a JSON array", async () => {
            const res = await app.inject({ method: "GET", url: "/users" });
            assert.strictEqual(res.statusCode, 200);
            assert.match(String(res.headers["content-type"]), /^application\/json/);
            assert.deepStrictEqual(res.json().slice(0, seedUsers.length), seedUsers);
        });

        it("answers one user by id", async () => {
            const res = await app.inject({ method: "GET", url: "/users/2" });
            assert.strictEqual(res.statusCode, 200);
            assert.strictEqual(res.json().name, "Grace Hopper");
        });

        it("answers 404 JSON for an id nobody has", async () => {
            const res = await app.inject({ method: "GET", url: "/users/999" });
            assert.strictEqual(res.statusCode, 404);
            assert.deepStrictEqual(res.json().error.code, "not_found");
            assert.match(res.json().error.message, /No user with id 999/);
        });

        for (const id of ["abc", "0", "-1", "1.5", "99999999999999999999", "9007199254740992", "1e3", "+1", "01", "0x10", "%201", "1%20"]) {
            it(`answers 400 for the id ${id}`, async () => {
                const res = await app.inject({ method: "GET", url: `/users/${id}` });
                assert.strictEqual(res.statusCode, 400);
                assert.strictEqual(res.json().error.code, "bad_request");
            });
        }

        it("creates a user from a valid body", async () => {
            const res = await post(app, { name: "Lin Tan", email: "lin@example.com", role: "member" });
            assert.strictEqual(res.statusCode, 201);
            const created = res.json();
            assert.strictEqual(res.headers.location, `/users/${created.id}`);
            assert.ok(created.id > seedUsers.length);
            assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
            const read = await app.inject({ method: "GET", url: `/users/${created.id}` });
            assert.deepStrictEqual(read.json(), created);
        });

        for (const [what, body, field] of [
            ["no email", { name: "X", role: "member" }, "email"],
            ["an email without @", { name: "X", email: "x.example.com", role: "member" }, "email"],
            ["an unknown role", { name: "X", email: "x@example.com", role: "owner" }, "role"],
            ["an empty name", { name: "", email: "x@example.com", role: "member" }, "name"],
            ["a name that is a number", { name: 123, email: "x@example.com", role: "member" }, "name"],
            ["an id of its own", { id: 1, name: "X", email: "x@example.com", role: "member" }, "id"],
        ] as const) {
            it(`refuses a user with ${what}, naming "${field}"`, async () => {
                const res = await post(app, body);
                assert.strictEqual(res.statusCode, 400);
                assert.match(res.json().error.message, new RegExp(`"${field}"`));
            });
        }

        it("answers 409 for an e-mail that is taken, whatever its case", async () => {
            for (const email of ["ada@example.com", "ADA@Example.com"]) {
                const res = await post(app, { name: "Someone Else", email, role: "viewer" });
                assert.strictEqual(res.statusCode, 409, res.body);
                assert.strictEqual(res.json().error.code, "conflict");
                assert.match(res.json().error.message, /email/);
            }
        });

        it("answers 409 for an e-mail that is taken in another Unicode form: final sigma, full width, compatibility letters", async () => {
            const first = await post(app, { name: "Odysseus", email: "ΟΔΥΣΣΕΥΣ@example.com", role: "member" });
            assert.strictEqual(first.statusCode, 201, first.body);
            assert.strictEqual(first.json().email, "ΟΔΥΣΣΕΥΣ@example.com", "the address is kept as written");
            for (const email of ["οδυσσευς@example.com", "Οδυσσευσ@EXAMPLE.com", "ａｄａ@example.com", "\u212Aatherine@example.com"]) {
                const res = await post(app, { name: "Someone Else", email, role: "viewer" });
                assert.strictEqual(res.statusCode, 409, `${email}: ${res.body}`);
            }
            // ß is not ss: IDNA2008 keeps them apart.
            assert.strictEqual((await post(app, { name: "Strauss", email: "strauss@example.com", role: "viewer" })).statusCode, 201);
            assert.strictEqual((await post(app, { name: "Strauß", email: "strauß@example.com", role: "viewer" })).statusCode, 201);
        });

        it("answers 400 naming the field for a NUL or a lone surrogate, never a 500 from the database", async () => {
            for (const payload of [
                '{"name":"Ada\\u0000","email":"nul@example.com","role":"member"}',
                '{"name":"Ada","email":"x\\ud800@example.com","role":"member"}',
            ]) {
                const res = await app.inject({ method: "POST", url: "/users", headers: { "content-type": "application/json" }, payload });
                assert.strictEqual(res.statusCode, 400, res.body);
                assert.match(res.json().error.message, /"(name|email)" contains/);
            }
        });

        it("gives the addresses already stored their key when it migrates, so that they stay unique", async function () {
            this.timeout(120_000);
            const older = await target.create(this);
            try {
                const database = new Database({ name: "users", settings: older.settings(1) });
                await database.migrate(
                    "users",
                    migrations.filter((m) => m.version <= 2),
                );
                await database.query("INSERT INTO users (name, email, role) VALUES ('Old Timer', 'ＯＬＤ＠example.com', 'member')");
                await database.close();
                const service = await instance(older);
                const res = await post(service, { name: "Newcomer", email: "old@example.com", role: "member" });
                assert.strictEqual(res.statusCode, 409, res.body);
                await service.close();
            } finally {
                await older.drop();
            }
        });

        it("keeps the version before's inserts working during a rolling deployment: its rows get a key, and duplicates still conflict", async () => {
            // What a task of the version before runs: the insert of the table as it knew it, with no email_key.
            const earlier = new Database({ name: "users", settings: db.settings(1) });
            try {
                await earlier.migrate(
                    "users",
                    migrations.filter((m) => m.version <= 2),
                );
                const insert = (email: string) =>
                    earlier.query<{ email_key: string }>("INSERT INTO users (name, email, role) VALUES ('Earlier Task', $1, 'member') RETURNING email_key", [
                        email,
                    ]);
                const { rows } = await insert("Earlier.Task@Example.com");
                assert.strictEqual(rows[0].email_key, "earlier.task@example.com");
                await assert.rejects(insert("EARLIER.TASK@example.com"), /users_email_key/);
            } finally {
                await earlier.close();
            }
            const res = await post(app, { name: "Same Person", email: "earlier.task@EXAMPLE.com", role: "viewer" });
            assert.strictEqual(res.statusCode, 409, res.body);
        });

        it("lists a page at a time: limit, then a next link by id that inserts do not shift", async () => {
            const first = await app.inject({ method: "GET", url: "/users?limit=2" });
            assert.strictEqual(first.statusCode, 200);
            assert.deepStrictEqual(
                first.json().map((u: { id: number }) => u.id),
                [1, 2],
            );
            assert.strictEqual(first.headers.link, '</users?limit=2&after=2>; rel="next"');
            const added = (await post(app, { name: "Late Comer", email: "late@example.com", role: "viewer" })).json();
            const ids: number[] = [1, 2];
            let next = /^<([^>]+)>/.exec(String(first.headers.link))?.[1];
            while (next) {
                const page = await app.inject({ method: "GET", url: next });
                assert.strictEqual(page.statusCode, 200);
                assert.ok(page.json().length <= 2);
                ids.push(...page.json().map((u: { id: number }) => u.id));
                next = page.headers.link === undefined ? undefined : /^<([^>]+)>/.exec(String(page.headers.link))?.[1];
            }
            assert.deepStrictEqual(
                ids,
                [...ids].sort((x, y) => x - y),
                "pages are in id order",
            );
            assert.strictEqual(new Set(ids).size, ids.length, "no record on two pages");
            assert.strictEqual(ids[ids.length - 1], added.id, "the record inserted meanwhile is on the last page");
        });

        for (const query of [
            "limit=0",
            "limit=1001",
            "limit=abc",
            "limit=1e2",
            "limit=01",
            "after=-1",
            "after=x",
            "after=9007199254740992",
            "limit=1&limit=2",
            "page=2",
        ]) {
            it(`answers 400 to GET /users?${query}`, async () => {
                const res = await app.inject({ method: "GET", url: `/users?${query}` });
                assert.strictEqual(res.statusCode, 400, res.body);
                assert.strictEqual(res.json().error.code, "bad_request");
            });
        }

        it("answers at most 100 users when no limit is asked, with the link to the rest", async () => {
            const direct = new Database({ name: "fill", settings: db.settings(1) });
            await direct.migrate("fill", []);
            try {
                await direct.query(
                    "INSERT INTO users (name, email, email_key, role) SELECT 'Many', 'many' || n || '@example.com', 'many' || n || '@example.com', 'viewer' FROM generate_series(1, 150) AS n",
                );
                const res = await app.inject({ method: "GET", url: "/users" });
                assert.strictEqual(res.json().length, 100);
                assert.strictEqual(res.headers.link, `</users?limit=100&after=${res.json()[99].id}>; rel="next"`);
                const all = await app.inject({ method: "GET", url: "/users?limit=1000" });
                assert.ok(all.json().length > 150);
            } finally {
                await direct.query("DELETE FROM users WHERE name = 'Many'");
                await direct.close();
            }
        });

        it("deletes a user: 204, then 404 for it", async () => {
            const { id } = (await post(app, { name: "Short Lived", email: "short@example.com", role: "viewer" })).json();
            const deleted = await app.inject({ method: "DELETE", url: `/users/${id}` });
            assert.strictEqual(deleted.statusCode, 204);
            assert.strictEqual(deleted.body, "");
            assert.strictEqual((await app.inject({ method: "GET", url: `/users/${id}` })).statusCode, 404);
            const again = await app.inject({ method: "DELETE", url: `/users/${id}` });
            assert.strictEqual(again.statusCode, 404);
            assert.strictEqual(again.json().error.code, "not_found");
            assert.strictEqual((await app.inject({ method: "DELETE", url: "/users/01" })).statusCode, 400);
        });

        it("names the allowed methods of a user", async () => {
            const res = await app.inject({ method: "PUT", url: "/users/1" });
            assert.strictEqual(res.statusCode, 405);
            assert.strictEqual(res.headers.allow, "GET, DELETE, HEAD");
        });

        it("keeps its data when the service restarts", async () => {
            const first = await instance();
            const { id } = (await post(first, { name: "Persistent", email: "persistent@example.com", role: "member" })).json();
            await first.close();
            const second = await instance();
            const read = await second.inject({ method: "GET", url: `/users/${id}` });
            assert.strictEqual(read.statusCode, 200);
            assert.strictEqual(read.json().email, "persistent@example.com");
        });

        it("shares its data between instances", async () => {
            const [a, b] = await Promise.all([instance(), instance()]);
            const { id } = (await post(a, { name: "Shared", email: "shared@example.com", role: "member" })).json();
            assert.strictEqual((await b.inject({ method: "GET", url: `/users/${id}` })).json().name, "Shared");
            assert.strictEqual((await b.inject({ method: "DELETE", url: `/users/${id}` })).statusCode, 204);
            assert.strictEqual((await a.inject({ method: "GET", url: `/users/${id}` })).statusCode, 404);
        });

        it("gives concurrent POSTs of one e-mail one 201 and 409s, on one instance and across two", async () => {
            const [a, b] = await Promise.all([instance(), instance()]);
            const body = { name: "Race", email: "race@example.com", role: "member" };
            const statuses = (await Promise.all([post(a, body), post(b, body), post(a, body), post(b, body)])).map((r) => r.statusCode);
            assert.deepStrictEqual(statuses.sort(), [201, 409, 409, 409]);
            const users = (await a.inject({ method: "GET", url: "/users" })).json() as Array<{ email: string }>;
            assert.strictEqual(users.filter((u) => u.email === body.email).length, 1);
        });

        it("migrates once when instances start together on an empty database", async function () {
            this.timeout(120_000);
            const empty = await target.create(this);
            try {
                const instances = await Promise.all([instance(empty), instance(empty), instance(empty)]);
                const users = (await instances[2].inject({ method: "GET", url: "/users" })).json();
                assert.deepStrictEqual(users, seedUsers, "the seed went in exactly once");
                const check = new Database({ name: "check", settings: empty.settings(1) });
                await check.migrate("check", []);
                const applied = (await check.query("SELECT service, version FROM berth_migrations WHERE service = 'users' ORDER BY version")).rows;
                await check.close();
                assert.deepStrictEqual(
                    applied,
                    migrations.map((m) => ({ service: "users", version: m.version })),
                );
                await Promise.all(instances.map((s) => s.close()));
            } finally {
                await empty.drop();
            }
        });

        it("answers 503 until migrated", async () => {
            const database = new Database({ name: "users", settings: db.settings() });
            const unmigrated = buildApp({ database, logger: false });
            running.push(unmigrated);
            const res = await unmigrated.inject({ method: "GET", url: "/users" });
            assert.strictEqual(res.statusCode, 503);
            assert.strictEqual(res.json().error.code, "unavailable");
        });

        describe("when the database goes away", () => {
            let proxy: TcpProxy;
            let behind: FastifyInstance;
            before(async () => {
                proxy = await TcpProxy.start(db.url);
                behind = await instance(db, { url: proxy.urlFor(db.url), connectTimeoutMs: 500, queryTimeoutMs: 1_000 });
            });
            after(async () => {
                await proxy?.close();
            });

            it("answers data routes 503 JSON with Retry-After while it refuses, /health 200, and recovers by itself", async () => {
                assert.strictEqual((await behind.inject({ method: "GET", url: "/users" })).statusCode, 200);
                await proxy.refuse();
                for (const request of [
                    { method: "GET", url: "/users" },
                    { method: "GET", url: "/users/1" },
                    { method: "DELETE", url: "/users/1" },
                ] as const) {
                    const res = await behind.inject(request);
                    assert.strictEqual(res.statusCode, 503, `${request.method} ${request.url}: ${res.body}`);
                    assert.strictEqual(res.json().error.code, "unavailable");
                    assert.ok(Number(res.headers["retry-after"]) > 0);
                }
                const refused = await post(behind, { name: "Later", email: "later@example.com", role: "member" });
                assert.strictEqual(refused.statusCode, 503);
                assert.strictEqual((await behind.inject({ method: "GET", url: "/health" })).statusCode, 200);

                await proxy.restore();
                assert.strictEqual(await eventually200(behind, "/users"), 200);
                assert.strictEqual((await post(behind, { name: "Later", email: "later@example.com", role: "member" })).statusCode, 201);
            });

            it("answers 503 within its timeouts while the database hangs, and /health meanwhile", async () => {
                await proxy.blackHole();
                try {
                    const data = behind.inject({ method: "GET", url: "/users/2" });
                    const health = await behind.inject({ method: "GET", url: "/health" });
                    assert.strictEqual(health.statusCode, 200);
                    const res = await data;
                    assert.strictEqual(res.statusCode, 503, res.body);
                } finally {
                    await proxy.restore();
                }
                assert.strictEqual(await eventually200(behind, "/users/2"), 200);
            });
        });

        it("closes its pool after the requests in flight when it shuts down", async () => {
            const database = new Database({ name: "users", settings: db.settings(1) });
            const service = buildApp({ database, logger: false });
            await database.migrate("users", migrations);
            await service.listen({ port: 0, host: "127.0.0.1" });
            const url = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
            // Holding the pool's one connection keeps the next request in flight until it is released.
            const held = await database.pool.connect();
            const inFlight = fetch(`${url}/users/1`);
            while (database.pool.waitingCount === 0) {
                await new Promise((r) => setTimeout(r, 10));
            }
            const closed = service.close();
            await new Promise((r) => setTimeout(r, 100));
            assert.strictEqual(database.pool.ended, false, "the pool closed under a request in flight");
            held.release();
            const res = await inFlight;
            assert.strictEqual(res.status, 200);
            assert.strictEqual(((await res.json()) as { name: string }).name, "Ada Lovelace");
            await closed;
            assert.strictEqual(database.pool.ended, true);
            assert.strictEqual(database.pool.totalCount, 0);
        });
    });
}

/** The first status other than 503 within a few tries: a pool may still hold a connection the outage broke. */
async function eventually200(app: FastifyInstance, url: string): Promise<number> {
    let status = 0;
    for (let i = 0; i < 20; i++) {
        status = (await app.inject({ method: "GET", url })).statusCode;
        if (status !== 503) {
            return status;
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    return status;
}
