/**
 * What the gateway routes on and passes on must be what the backend acts on: the decoded path, the
 * identity headers whatever their spelling, one Host. And every refusal, the ones node:http's parser
 * makes included, is Berth's JSON error with a request id.
 */
import * as assert from "node:assert";
import { Authenticator, sha256 } from "../src/auth";
import { normalisePath, PathError } from "../src/paths";
import { bodyOf, raw, request, startGateway, statusOf, type RunningGateway } from "./support/clients";
import { fakeBackend, type FakeBackend } from "./support/fakeBackend";

describe("normalisePath", () => {
    for (const [given, expected] of [
        ["/users/1", "/users/1"],
        ["/svc/%61dmin/secret", "/svc/admin/secret"],
        ["/svc/%7Euser/%2dx", "/svc/~user/-x"],
        ["/svc/caf%c3%a9", "/svc/caf%C3%A9"],
        ["/svc/a%20b", "/svc/a%20b"],
        ["/.well-known/x", "/.well-known/x"],
        ["/users/", "/users/"],
    ]) {
        it(`reads ${given} as ${expected}`, () => assert.strictEqual(normalisePath(given), expected));
    }
    for (const bad of ["/svc/%2e%2e/admin", "/svc/../admin", "/svc/./admin", "/svc//admin", "/svc/a%2Fb", "/svc/a%5cb", "/svc/%zz", "/svc/%4"]) {
        it(`refuses ${bad}`, () => assert.throws(() => normalisePath(bad), PathError));
    }
});

describe("gateway: one path, one identity, one host", function () {
    this.timeout(15_000);
    let open: FakeBackend;
    let admin: FakeBackend;
    let g: RunningGateway;
    const key = "k".repeat(40);

    before(async () => {
        open = await fakeBackend();
        admin = await fakeBackend();
        g = await startGateway(
            {
                // The fake backend's behaviour is its path's second segment: `/x/echo` is the keyed route.
                "/x": open.origin,
                "/x/echo": { origins: admin.origin, auth: "apiKey" },
            },
            { auth: new Authenticator({ apiKeys: new Map([["ops", sha256(key)]]) }) },
        );
    });
    after(async () => {
        await g.close();
        await open.close();
        await admin.close();
    });

    it("matches a nested prefix on the decoded path: %65cho is echo, and needs its key", async () => {
        const res = await request(`${g.url}/x/%65cho/secret`);
        assert.strictEqual(res.status, 401, res.body);
        assert.deepStrictEqual(
            open.seen.filter((s) => s.url.includes("cho")),
            [],
        );
        const keyed = await request(`${g.url}/x/%65cho/secret`, { headers: { "x-api-key": key } });
        assert.strictEqual(keyed.status, 200);
        assert.strictEqual(JSON.parse(keyed.body).url, "/x/echo/secret", "the backend gets the path the route matched");
    });

    for (const path of ["/x/%2e%2e/x/echo", "/x//echo", "/x/y%2F..%2Fecho", "/x/%zz"]) {
        it(`answers 400 JSON to ${path}, and forwards nothing`, async () => {
            const reply = await raw(g.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`).reply;
            assert.strictEqual(statusOf(reply), 400, reply);
            assert.strictEqual(bodyOf(reply).error.code, "bad_request");
            assert.ok(bodyOf(reply).error.requestId);
            assert.deepStrictEqual(
                [...open.seen, ...admin.seen].filter((s) => s.url.includes("..") || s.url.includes("//") || s.url.includes("%zz")),
                [],
            );
        });
    }

    for (const path of ["/x/ECHO/secret", "/X/Echo/secret", "/x/echo;jsessionid=1/secret"]) {
        it(`answers 400 to ${path}, which a backend could read as the keyed route`, async () => {
            const res = await request(`${g.url}${path}`);
            assert.strictEqual(res.status, 400, res.body);
            assert.match(JSON.parse(res.body).error.message, /reads as another route/);
        });
    }

    it("forwards a path whose other readings stay on its route", async () => {
        for (const path of ["/x/other;v=1", "/x/Other"]) {
            // The fake backend knows neither: its own 404 shows that the gateway forwarded them.
            assert.strictEqual((await request(`${g.url}${path}`)).status, 404, path);
            assert.ok(
                open.seen.some((s) => s.url === path),
                path,
            );
        }
    });

    it("drops identity and forwarding headers spelled with underscores", async () => {
        const res = await request(`${g.url}/x/slow?ms=1`, {
            headers: { x_auth_subject: "admin", x_auth_method: "apiKey", x_forwarded_for: "10.9.9.9", X_Forwarded_Host: "evil", "x-custom_ok": "kept" },
        });
        assert.strictEqual(res.status, 200);
        const names = (JSON.parse(res.body).rawHeaders as string[]).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        assert.deepStrictEqual(
            names.filter((n) => n.includes("_")),
            ["x-custom_ok"],
        );
        assert.ok(!JSON.parse(res.body).headers["x-forwarded-for"].includes("10.9.9.9"));
    });

    it("answers 400 JSON with a request id to a request with two Host fields, and to one without", async () => {
        for (const head of ["GET /x/slow?two HTTP/1.1\r\nHost: a\r\nHost: b\r\n", "GET /x/slow?none HTTP/1.1\r\n"]) {
            const reply = await raw(g.port, `${head}Connection: close\r\n\r\n`).reply;
            assert.strictEqual(statusOf(reply), 400, reply);
            assert.strictEqual(bodyOf(reply).error.code, "bad_request");
            assert.match(reply, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
        }
        assert.deepStrictEqual(
            open.seen.filter((s) => s.url === "/x/slow?two" || s.url === "/x/slow?none"),
            [],
        );
    });

    it("answers a request node:http cannot parse with Berth's JSON error and a request id", async () => {
        const reply = await raw(g.port, "GET /x/slow HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").reply;
        assert.strictEqual(statusOf(reply), 400, reply);
        assert.match(bodyOf(reply).error.requestId, /^[0-9a-f-]{36}$/);
        assert.match(reply, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
    });
});
