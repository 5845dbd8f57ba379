/**
 * The gateway under faults: a scriptable fake backend that refuses, resets reused connections, stalls,
 * answers slowly, answers garbage, breaks off mid-body or answers early and closes; and hostile clients
 * that hang up while queued, stall their uploads, send `Expect`, huge URLs or thousands of headers.
 * Pools are small (one or two connections) so that exhaustion is quick to reach.
 */
import * as assert from "node:assert";
import * as http from "node:http";
import { abandon, bodyOf, raw, request, sleep, startGateway, statusOf, until, type RunningGateway } from "./support/clients";
import { fakeBackend, refusingOrigin, type FakeBackend, type Seen } from "./support/fakeBackend";

const seenBy = (backend: FakeBackend, path: string) => backend.seen.filter((s) => s.url.startsWith(path));

describe("gateway under backend faults", function () {
    this.timeout(15_000);
    let backend: FakeBackend;
    let g: RunningGateway;

    beforeEach(async () => {
        backend = await fakeBackend();
        g = await startGateway({ "/x": backend.origin }, { connections: 1, timeoutMs: 400 });
    });
    afterEach(async () => {
        await g.close();
        await backend.close();
    });

    it("retries an idempotent request once on a new connection when a reused one is reset before any answer", async () => {
        assert.strictEqual((await request(`${g.url}/x/echo`)).status, 200);
        const res = await request(`${g.url}/x/reset-on-reuse`);
        assert.strictEqual(res.status, 200, res.body);
        assert.strictEqual(seenBy(backend, "/x/reset-on-reuse").length, 2, "one reset attempt, one answered retry");
        assert.strictEqual(backend.connections(), 2, "the retry went over a new connection");
        assert.ok(
            g.logs.some((l) => l.msg === "retrying upstream request" && l.upstream === backend.origin),
            "the retry is logged",
        );
    });

    it("does not retry a POST whose reused connection was reset: 502, sent once", async () => {
        await request(`${g.url}/x/echo`);
        const res = await request(`${g.url}/x/reset-on-reuse`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
        assert.strictEqual(res.status, 502);
        assert.strictEqual(seenBy(backend, "/x/reset-on-reuse").length, 1);
    });

    it("answers 502 JSON to a backend that answers garbage, and keeps serving", async () => {
        const res = await request(`${g.url}/x/garbage`);
        assert.strictEqual(res.status, 502);
        assert.strictEqual(JSON.parse(res.body).error.code, "bad_gateway");
        assert.strictEqual((await request(`${g.url}/x/echo`)).status, 200);
    });

    it("answers 504 to a backend that answers too slowly, and keeps serving", async () => {
        const res = await request(`${g.url}/x/slow?ms=1500`);
        assert.strictEqual(res.status, 504);
        assert.strictEqual((await request(`${g.url}/x/echo`)).status, 200);
    });

    it("breaks the client's response off when the backend breaks off mid-body", async () => {
        await assert.rejects(request(`${g.url}/x/cut`));
        assert.strictEqual((await request(`${g.url}/x/echo`)).status, 200);
    });

    it("retries an idempotent request once when the backend answers 503 and passes the second answer on", async () => {
        const res = await request(`${g.url}/x/unavailable`);
        assert.strictEqual(res.status, 503);
        assert.strictEqual(seenBy(backend, "/x/unavailable").length, 2);
        const post = await request(`${g.url}/x/unavailable`, { method: "POST", body: "{}" });
        assert.strictEqual(post.status, 503);
        assert.strictEqual(seenBy(backend, "/x/unavailable").length, 3, "a POST is not sent twice");
    });

    it("counts the wait for a connection toward the timeout: 504, and the request never reaches the backend", async () => {
        // A response that never ends holds the only connection, each byte well within the timeout.
        const drip = http.get(`${g.url}/x/drip?ms=50`, { agent: false });
        drip.on("error", () => undefined);
        try {
            await until(() => seenBy(backend, "/x/drip").length === 1, "the backend holds the only connection");
            const queued = await request(`${g.url}/x/echo?queued`);
            assert.strictEqual(queued.status, 504);
            assert.strictEqual(JSON.parse(queued.body).error.code, "gateway_timeout");
        } finally {
            drip.destroy();
        }
        assert.strictEqual((await request(`${g.url}/x/echo?next`)).status, 200);
        assert.deepStrictEqual(seenBy(backend, "/x/echo?queued"), [], "a request given up on was sent anyway");
    });
});

describe("gateway with several origins per route", function () {
    this.timeout(15_000);
    let a: FakeBackend;
    let b: FakeBackend;
    let g: RunningGateway;

    before(async () => {
        a = await fakeBackend();
        b = await fakeBackend();
    });
    after(async () => {
        await a.close();
        await b.close();
    });
    afterEach(async () => {
        await g?.close();
        g = undefined as unknown as RunningGateway;
    });

    it("balances requests over the origins", async () => {
        g = await startGateway({ "/x": [a.origin, b.origin] });
        for (let i = 0; i < 10; i++) {
            assert.strictEqual((await request(`${g.url}/x/echo?balance`)).status, 200);
        }
        assert.ok(
            seenBy(a, "/x/echo?balance").length >= 3 && seenBy(b, "/x/echo?balance").length >= 3,
            `a: ${seenBy(a, "/x/echo?balance").length}, b: ${seenBy(b, "/x/echo?balance").length}`,
        );
    });

    it("fails over to the other origin when one refuses connections, for every method", async () => {
        g = await startGateway({ "/x": [await refusingOrigin(), a.origin] });
        for (let i = 0; i < 6; i++) {
            assert.strictEqual((await request(`${g.url}/x/echo?failover`)).status, 200);
            assert.strictEqual((await request(`${g.url}/x/echo?failover`, { method: "POST", body: "{}" })).status, 200);
        }
        assert.strictEqual(seenBy(a, "/x/echo?failover").length, 12);
    });

    it("retries an idempotent request on the other origin when one answers 503", async () => {
        const unavailable = await fakeBackend({ unavailable: true });
        try {
            g = await startGateway({ "/x": [unavailable.origin, a.origin] });
            for (let i = 0; i < 6; i++) {
                assert.strictEqual((await request(`${g.url}/x/echo?other`)).status, 200);
            }
            assert.ok(unavailable.seen.length >= 1, "the unavailable origin was never tried");
        } finally {
            await unavailable.close();
        }
    });
});

describe("gateway against hostile clients", function () {
    this.timeout(15_000);
    let backend: FakeBackend;
    let g: RunningGateway;

    beforeEach(async () => {
        backend = await fakeBackend();
    });
    afterEach(async () => {
        await g?.close();
        g = undefined as unknown as RunningGateway;
        await backend.close();
    });

    it("releases everything a request held when its client hangs up while queued", async () => {
        g = await startGateway({ "/x": backend.origin }, { connections: 2, timeoutMs: 3000 });
        const busy = [request(`${g.url}/x/slow?ms=400`), request(`${g.url}/x/slow?ms=400`)];
        await until(() => seenBy(backend, "/x/slow").length === 2, "both connections are busy");
        await Promise.all(Array.from({ length: 20 }, () => abandon(`${g.url}/x/echo?abandoned`, 50)));
        assert.deepStrictEqual(
            (await Promise.all(busy)).map((r) => r.status),
            [200, 200],
        );
        const res = await request(`${g.url}/x/echo?after`);
        assert.strictEqual(res.status, 200);
        assert.deepStrictEqual(seenBy(backend, "/x/echo?abandoned"), [], "requests of clients that hung up were sent");
    });

    it("holds no upstream connection for a stalled upload, and answers it 408", async () => {
        g = await startGateway({ "/x": backend.origin }, { connections: 1, timeoutMs: 400 });
        const stalled = [1, 2, 3].map(() =>
            raw(g.port, 'POST /x/echo?stalled HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":'),
        );
        await sleep(100);
        const res = await request(`${g.url}/x/echo?meanwhile`);
        assert.strictEqual(res.status, 200);
        const replies = await Promise.all(stalled.map((s) => s.reply));
        assert.deepStrictEqual(replies.map(statusOf), [408, 408, 408]);
        assert.strictEqual(bodyOf(replies[0]).error.code, "request_timeout");
        assert.deepStrictEqual(seenBy(backend, "/x/echo?stalled"), [], "a partial body reached the backend");
    });

    it("answers 503 with Retry-After to a body that would take the gateway past its buffer budget", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000, bufferLimit: 1500, clientBufferLimit: 1500, smallBodyReserve: 0, timeoutMs: 2000 });
        const first = raw(g.port, `POST /x/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n${"a".repeat(800)}`);
        await sleep(100);
        const second = await raw(g.port, `POST /x/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${"b".repeat(800)}`).reply;
        assert.strictEqual(statusOf(second), 503, second);
        assert.match(second, /\r\nretry-after: 1\r\n/i);
        first.socket.write("a".repeat(200));
        assert.strictEqual(statusOf(await first.reply), 200, "the first body, within budget, is forwarded");
    });

    it("answers Expect: 100-continue with 100 Continue and forwards the body", async () => {
        g = await startGateway({ "/x": backend.origin });
        const answer = await new Promise<{ continued: boolean; status: number; body: string }>((resolve, reject) => {
            let continued = false;
            const req = http.request(
                `${g.url}/x/echo`,
                {
                    method: "PUT",
                    agent: false,
                    headers: { expect: "100-continue", "content-type": "application/json", "content-length": "17" },
                },
                (res) => {
                    let body = "";
                    res.on("data", (c) => {
                        body += c;
                    });
                    res.on("end", () => resolve({ continued, status: res.statusCode!, body }));
                },
            );
            req.on("continue", () => {
                continued = true;
                req.end('{"hello":"world"}');
            });
            req.on("error", reject);
        });
        assert.strictEqual(answer.status, 200, answer.body);
        assert.ok(answer.continued);
        const seen = JSON.parse(answer.body) as Seen;
        assert.strictEqual(seen.body, '{"hello":"world"}');
        assert.strictEqual(seen.headers.expect, undefined, "the gateway answered the expectation itself");
    });

    it("refuses a body announced over the limit with Expect before it is sent, and an unknown expectation with 417", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000 });
        const over = raw(g.port, "POST /x/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
        const reply = await over.reply;
        assert.strictEqual(statusOf(reply), 413, reply);
        assert.doesNotMatch(reply, /100 Continue/);
        const odd = await request(`${g.url}/x/echo`, { method: "POST", headers: { expect: "something-else" }, body: "{}" });
        assert.strictEqual(odd.status, 417);
        assert.strictEqual(JSON.parse(odd.body).error.code, "expectation_failed");
        assert.deepStrictEqual(backend.seen, []);
    });

    it("answers 413 to a chunked body over the limit without forwarding it", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000 });
        const chunk = "x".repeat(600);
        const exchange = raw(
            g.port,
            "POST /x/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                `${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
        );
        const reply = await exchange.reply;
        assert.strictEqual(statusOf(reply), 413, reply);
        assert.strictEqual(bodyOf(reply).error.code, "payload_too_large");
        assert.deepStrictEqual(backend.seen, []);
    });

    it("passes the backend's early answer on while the client is still sending the body", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 4 * 1024 * 1024 });
        for (let i = 0; i < 5; i++) {
            const res = await new Promise<Answer>((resolve, reject) => {
                const size = 2 * 1024 * 1024;
                const req = http.request(`${g.url}/x/early`, { method: "POST", agent: false, headers: { "content-length": String(size) } }, (res) => {
                    let body = "";
                    res.on("data", (c) => {
                        body += c;
                    });
                    res.on("end", () => resolve({ status: res.statusCode!, body }));
                });
                req.on("error", reject);
                let sent = 0;
                const piece = Buffer.alloc(64 * 1024, "x");
                const pump = (): void => {
                    if (sent >= size || req.destroyed) {
                        req.end();
                        return;
                    }
                    sent += piece.length;
                    req.write(piece);
                    setTimeout(pump, 2);
                };
                pump();
            });
            assert.strictEqual(res.status, 413, `attempt ${i}: ${res.status} ${res.body}`);
        }
    });

    it("answers 414 to a 100 KB URL and 431 to 10,000 headers, in JSON", async () => {
        g = await startGateway({ "/x": backend.origin });
        const long = await raw(g.port, `GET /x/${"a".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`).reply;
        assert.strictEqual(statusOf(long), 414, long.slice(0, 200));
        assert.strictEqual(bodyOf(long).error.code, "uri_too_long");
        const headers = Array.from({ length: 10_000 }, (_, i) => `x-h${i}: v\r\n`).join("");
        const many = await raw(g.port, `GET /x/echo HTTP/1.1\r\nHost: x\r\n${headers}\r\n`).reply;
        assert.strictEqual(statusOf(many), 431, many.slice(0, 200));
        assert.strictEqual(bodyOf(many).error.code, "request_header_fields_too_large");
    });

    it("answers 431 to a request with 2,000 small headers instead of letting the backend drop the gateway's own", async () => {
        g = await startGateway({ "/x": backend.origin });
        const headers = Array.from({ length: 2000 }, () => "a:\r\n").join("");
        const reply = await raw(g.port, `GET /x/echo HTTP/1.1\r\nHost: x\r\n${headers}\r\n`).reply;
        assert.strictEqual(statusOf(reply), 431, reply.slice(0, 200));
        assert.deepStrictEqual(backend.seen, []);
    });

    it("sends its own headers first, so that no header limit of the backend can drop them", async () => {
        g = await startGateway({ "/x": backend.origin });
        const headers: Record<string, string> = {};
        for (let i = 0; i < 60; i++) {
            headers[`x-h${i}`] = "v";
        }
        const seen = JSON.parse((await request(`${g.url}/x/echo`, { headers })).body) as Seen;
        const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        assert.ok(names.indexOf("x-request-id") < names.indexOf("x-h0"), `x-request-id comes at ${names.indexOf("x-request-id")}`);
        assert.ok(names.indexOf("x-forwarded-for") < names.indexOf("x-h0"));
    });

    it("answers CONNECT and TRACE with 405 JSON", async () => {
        g = await startGateway({ "/x": backend.origin });
        const connect = await raw(g.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").reply;
        assert.strictEqual(statusOf(connect), 405, connect);
        assert.strictEqual(bodyOf(connect).error.code, "method_not_allowed");
        const trace = await request(`${g.url}/x/echo`, { method: "TRACE" });
        assert.strictEqual(trace.status, 405);
        assert.deepStrictEqual(backend.seen, []);
    });

    it("keeps X-Forwarded-For in order, and sets X-Forwarded-Host and -Proto itself", async () => {
        g = await startGateway({ "/x": backend.origin });
        const res = await request(`${g.url}/x/echo`, {
            // A list, to send one header twice (node:http adds no Host to a list).
            headers: [
                "host",
                `127.0.0.1:${g.port}`,
                "x-forwarded-for",
                "203.0.113.1",
                "x-forwarded-for",
                "198.51.100.2",
                "x-forwarded-host",
                "evil.example",
                "x-forwarded-proto",
                "https",
                "x-forwarded-port",
                "1",
            ] as unknown as http.OutgoingHttpHeaders,
        });
        const seen = JSON.parse(res.body) as Seen;
        assert.strictEqual(seen.headers["x-forwarded-for"], "203.0.113.1, 198.51.100.2, 127.0.0.1");
        assert.strictEqual(seen.headers["x-forwarded-host"], `127.0.0.1:${g.port}`);
        assert.strictEqual(seen.headers["x-forwarded-proto"], "http");
        assert.strictEqual(seen.headers["x-forwarded-port"], String(g.port));
    });

    it("behind a trusted load balancer, keeps the scheme and port it set", async () => {
        g = await startGateway({ "/x": backend.origin }, { trustProxy: true });
        const res = await request(`${g.url}/x/echo`, {
            headers: { "x-forwarded-for": "203.0.113.1", "x-forwarded-proto": "https", "x-forwarded-port": "443", "x-forwarded-host": "evil.example" },
        });
        const seen = JSON.parse(res.body) as Seen;
        assert.strictEqual(seen.headers["x-forwarded-proto"], "https");
        assert.strictEqual(seen.headers["x-forwarded-port"], "443");
        assert.strictEqual(seen.headers["x-forwarded-host"], `127.0.0.1:${g.port}`, "the ALB passes a client's X-Forwarded-Host through");
        assert.strictEqual(seen.headers["x-forwarded-for"], "203.0.113.1, 127.0.0.1");
    });

    it("drops headers named in Connection, both ways", async () => {
        g = await startGateway({ "/x": backend.origin });
        const res = await request(`${g.url}/x/hop`, { headers: { connection: "keep-alive, x-private", "x-private": "secret", "x-public": "ok" } });
        const seen = JSON.parse(res.body) as Seen;
        assert.strictEqual(seen.headers["x-private"], undefined);
        assert.strictEqual(seen.headers["x-public"], "ok");
        assert.strictEqual(res.headers["x-upstream-private"], undefined, "a header the backend named in Connection reached the client");
        assert.strictEqual(res.headers["x-upstream-public"], "ok");
    });
});

interface Answer {
    status: number;
    body: string;
}

describe("gateway health", function () {
    this.timeout(15_000);

    it("answers 503 on /health once every route has been stuck past the timeout, and 200 once it moves again", async () => {
        const backend = await fakeBackend();
        const g = await startGateway({ "/x": backend.origin }, { connections: 1, timeoutMs: 200, stuckAfterMs: 600 });
        try {
            assert.strictEqual((await request(`${g.url}/health`)).status, 200);
            // A response that never ends holds the only connection, each byte within the timeout.
            const drip = http.get(`${g.url}/x/drip?ms=50`, { agent: false });
            drip.on("error", () => undefined);
            await until(() => seenBy(backend, "/x/drip").length === 1, "the drip holds the connection");
            const deadline = Date.now() + 3000;
            let health = 200;
            while (health === 200 && Date.now() < deadline) {
                assert.strictEqual((await request(`${g.url}/x/echo?waiting`)).status, 504);
                health = (await request(`${g.url}/health`)).status;
            }
            assert.strictEqual(health, 503, "/health stayed 200 while no request could be served");
            const body = JSON.parse((await request(`${g.url}/health`)).body);
            assert.deepStrictEqual(body.stuck, ["/x"]);
            drip.destroy();
            assert.strictEqual((await request(`${g.url}/x/echo?again`)).status, 200);
            assert.strictEqual((await request(`${g.url}/health`)).status, 200);
        } finally {
            await g.close();
            await backend.close();
        }
    });
});
