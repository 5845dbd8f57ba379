import * as assert from "node:assert";
import { buildApp } from "../src/app";
import { seedUsers } from "../src/users";

describe("users service", () => {
    const app = buildApp({ logger: false });
    after(() => app.close());

    it("lists the users as a JSON array", async () => {
        const res = await app.inject({ method: "GET", url: "/users" });
        assert.strictEqual(res.statusCode, 200);
        assert.match(String(res.headers["content-type"]), /^application\/json/);
        const users = res.json();
        assert.ok(Array.isArray(users));
        assert.deepStrictEqual(users.slice(0, seedUsers.length), seedUsers);
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
        const res = await app.inject({ method: "POST", url: "/users", payload: { name: "Lin Tan", email: "lin@example.com", role: "member" } });
        assert.strictEqual(res.statusCode, 201);
        const created = res.json();
        assert.strictEqual(res.headers.location, `/users/${created.id}`);
        assert.ok(created.id > seedUsers.length);
        assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
        const read = await app.inject({ method: "GET", url: `/users/${created.id}` });
        assert.deepStrictEqual(read.json(), created);
    });

    for (const [what, body] of [
        ["no email", { name: "X", role: "member" }],
        ["an email without @", { name: "X", email: "x.example.com", role: "member" }],
        ["an unknown role", { name: "X", email: "x@example.com", role: "owner" }],
        ["an empty name", { name: "", email: "x@example.com", role: "member" }],
        ["an id of its own", { id: 1, name: "X", email: "x@example.com", role: "member" }],
    ] as const) {
        it(`refuses a user with ${what}`, async () => {
            const res = await app.inject({ method: "POST", url: "/users", payload: body });
            assert.strictEqual(res.statusCode, 400);
        });
    }

    it("answers 405 to DELETE /users/1", async () => {
        const res = await app.inject({ method: "DELETE", url: "/users/1" });
        assert.strictEqual(res.statusCode, 405);
        assert.strictEqual(res.headers.allow, "GET, HEAD");
    });
});
