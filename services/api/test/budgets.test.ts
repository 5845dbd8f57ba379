/**
 * The gateway's shared budgets against one client that tries to hold them all: bodies that trickle in, a
 * flood of half-open connections, responses it does not read, requests it keeps in flight. Each attack is
 * the real one scaled down (small limits) so that it runs in a second or two; clients on other loopback
 * addresses (127.0.0.x) must keep being served while it runs.
 */
import * as assert from "node:assert";
import { bodyOf, raw, request, sleep, startGateway, statusOf, until, type RawExchange, type RunningGateway } from "./support/clients";
import { fakeBackend, type FakeBackend } from "./support/fakeBackend";

const ATTACKER = "127.0.0.2";
const VICTIM = "127.0.0.3";

/** A POST whose head announces `length` bytes, followed by the first `sent` of them. */
function startBody(port: number, length: number, sent: number, from: string, path = "/x/echo"): RawExchange {
    return raw(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${"a".repeat(sent)}`, from);
}

/** Sends one byte every `everyMs` until the connection closes. */
function trickle(exchange: RawExchange, everyMs: number): void {
    const timer = setInterval(() => exchange.socket.write("a"), everyMs);
    exchange.socket.once("close", () => clearInterval(timer));
}

/** Small POSTs (about 100 bytes) from `from`, one after the other, for `forMs` and at least 5: their statuses. */
async function smallPosts(url: string, from: string, forMs: number): Promise<number[]> {
    const statuses: number[] = [];
    const end = Date.now() + forMs;
    while (Date.now() < end || statuses.length < 5) {
        const res = await request(`${url}/x/echo?small`, {
            method: "POST",
            localAddress: from,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "Lin", note: "n".repeat(90) }),
        });
        statuses.push(res.status);
        await sleep(50);
    }
    return statuses;
}

describe("gateway budgets against one greedy client", function () {
    this.timeout(20_000);
    let backend: FakeBackend;
    let g: RunningGateway;
    const open: RawExchange[] = [];

    beforeEach(async () => {
        backend = await fakeBackend();
    });
    afterEach(async () => {
        for (const exchange of open.splice(0)) {
            exchange.socket.destroy();
        }
        await g?.close();
        g = undefined as unknown as RunningGateway;
        await backend.close();
    });

    it("keeps other clients' small POSTs succeeding while one client holds nearly whole bodies open, a byte now and then", async () => {
        // The attack of 65 connections x (1 MiB - a little) on 64 MiB, scaled: 9 x 990 bytes on 8000.
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000, bufferLimit: 8000, timeoutMs: 1000 });
        for (let i = 0; i < 9; i++) {
            const body = startBody(g.port, 1000, 990, ATTACKER);
            trickle(body, 300);
            open.push(body);
        }
        await sleep(200);
        const statuses = await smallPosts(g.url, VICTIM, 1500);
        assert.deepStrictEqual(
            statuses.filter((s) => s !== 200),
            [],
            `statuses of the other client: ${statuses.join(" ")}`,
        );
        const attacker = await Promise.all(open.map((e) => e.reply));
        assert.ok(attacker.map(statusOf).includes(429), "the attacker was never held to its share");
        assert.deepStrictEqual([...new Set(attacker.map(statusOf))].sort(), [408, 429], "the attacker's bodies are refused, by share or by rate");
    });

    it("never refuses a small body because large ones from many clients fill the buffer", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000, bufferLimit: 8000, smallBody: 100, timeoutMs: 3000 });
        // Eight clients, each within its share (1000 bytes), hold 8 x 999 bytes: over what large bodies may use.
        const large = Array.from({ length: 8 }, (_, i) => startBody(g.port, 1000, 999, `127.0.0.${10 + i}`));
        open.push(...large);
        await sleep(200);
        const res = await request(`${g.url}/x/echo?small`, {
            method: "POST",
            localAddress: VICTIM,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "Lin" }),
        });
        assert.strictEqual(res.status, 200, res.body);
    });

    it("answers 408 to a body that keeps trickling in below the minimum rate", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000, timeoutMs: 400, minBodyRate: 100 });
        // 20 bytes, one every 100 ms: 2 s in all, but 4 bytes in each 400 ms where 40 are owed.
        const body = startBody(g.port, 20, 0, ATTACKER, "/x/echo?trickled");
        open.push(body);
        trickle(body, 100);
        const reply = await body.reply;
        assert.strictEqual(statusOf(reply), 408, reply);
        assert.match(bodyOf(reply).error.message, /arrives too slowly/);
        assert.deepStrictEqual(
            backend.seen.filter((s) => s.url.includes("trickled")),
            [],
        );
    });

    it("answers 408 to a body that does not arrive within its total deadline, however steadily it comes", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000, timeoutMs: 300, minBodyRate: 10, bodyTimeoutMs: 600 });
        // 300 bytes, 10 every 100 ms: well above the rate, 3 s in all.
        const body = startBody(g.port, 300, 0, ATTACKER, "/x/echo?steady");
        open.push(body);
        const timer = setInterval(() => body.socket.write("a".repeat(10)), 100);
        body.socket.once("close", () => clearInterval(timer));
        const reply = await body.reply;
        assert.strictEqual(statusOf(reply), 408, reply);
        assert.match(bodyOf(reply).error.message, /did not arrive within 600 ms/);
    });

    it("behind a trusted load balancer, holds the client named last in X-Forwarded-For to its share, not the balancer", async () => {
        g = await startGateway({ "/x": backend.origin }, { bodyLimit: 1000, bufferLimit: 8000, clientBufferLimit: 1000, trustProxy: true, timeoutMs: 2000 });
        const head = (forwardedFor: string) =>
            `POST /x/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: ${forwardedFor}\r\nContent-Length: 1000\r\n\r\n${"a".repeat(900)}`;
        // All from one peer (the balancer); the client's own entries before the last one change nothing.
        const first = raw(g.port, head("203.0.113.7"));
        open.push(first);
        await sleep(100);
        const second = await raw(g.port, head("198.51.100.1, 203.0.113.7")).reply;
        assert.strictEqual(statusOf(second), 429, second);
        const other = raw(g.port, head("203.0.113.8"));
        open.push(other);
        other.socket.write("a".repeat(100));
        assert.strictEqual(statusOf(await other.reply), 200, "another client behind the same balancer was refused");
    });

    it("closes the connections of a slowloris flood over the per-client and total caps, oldest first, logs it, and serves other clients", async () => {
        g = await startGateway({ "/x": backend.origin }, { maxConnections: 60, clientConnections: 20, timeoutMs: 10_000 });
        const flood: RawExchange[] = [];
        for (let i = 0; i < 300; i++) {
            // Four addresses, 75 half-open request heads each.
            flood.push(raw(g.port, "GET /x/echo HTTP/1.1\r\nHost: x\r\nX-Slow: ", `127.0.0.${20 + (i % 4)}`));
        }
        open.push(...flood);
        await until(() => flood.filter((e) => !e.socket.destroyed).length <= 60, "the flood is cut to the total cap");
        const res = await request(`${g.url}/x/echo?other`, { localAddress: VICTIM });
        assert.strictEqual(res.status, 200);
        assert.ok(g.gateway.guard.size <= 60, `${g.gateway.guard.size} connections open`);
        // The newest of each address survive: the oldest were shed.
        assert.ok(
            flood.slice(-8).every((e) => !e.socket.destroyed),
            "a newest connection was shed",
        );
        const shed = () =>
            g.logs
                .filter((l) => l.msg === "client connections over the limits: oldest incomplete or idle ones closed")
                .reduce((sum, l) => sum + Number(l.shed), 0);
        await until(() => shed() >= 240, "the 240 connections shed are logged");
        assert.ok(
            g.logs.some((l) => /^127\.0\.0\.2[0-3]$/.test(String(l.lastAddress))),
            "the log names an attacking address",
        );
    });

    it("answers 408 to a request head that does not arrive within the timeout", async () => {
        g = await startGateway({ "/x": backend.origin }, { timeoutMs: 300 });
        const slow = raw(g.port, "GET /x/echo HTTP/1.1\r\nHost: x\r\n", ATTACKER);
        open.push(slow);
        const reply = await slow.reply;
        assert.strictEqual(statusOf(reply), 408, reply);
        assert.strictEqual(bodyOf(reply).error.code, "request_timeout");
    });

    it("lets a client that does not read its response hold the upstream connection for one timeout at most", async () => {
        g = await startGateway({ "/x": backend.origin }, { timeoutMs: 500 });
        const reader = raw(g.port, "GET /x/big?mb=64 HTTP/1.1\r\nHost: x\r\n\r\n", ATTACKER);
        open.push(reader);
        reader.socket.pause();
        await until(() => backend.seen.length === 1, "the request reaches the backend");
        await until(() => g.gateway.tracker.size === 0, "the gateway closes the reader's connection", 5000);
        assert.ok(g.logs.some((l) => l.msg === "client did not read the response in time; connection closed"));
    });

    it("answers 429 to a client's requests in flight over its cap, and serves the others", async () => {
        g = await startGateway({ "/x": backend.origin }, { clientRequests: 2 });
        const slow = [1, 2].map(() => request(`${g.url}/x/slow?ms=500`, { localAddress: ATTACKER }));
        await until(() => backend.seen.length === 2, "two requests are in flight");
        const third = await request(`${g.url}/x/echo?third`, { localAddress: ATTACKER });
        assert.strictEqual(third.status, 429, third.body);
        assert.strictEqual(third.headers["retry-after"], "1");
        assert.strictEqual((await request(`${g.url}/x/echo?other`, { localAddress: VICTIM })).status, 200);
        assert.deepStrictEqual(
            (await Promise.all(slow)).map((r) => r.status),
            [200, 200],
        );
        assert.strictEqual((await request(`${g.url}/x/echo?after`, { localAddress: ATTACKER })).status, 200);
    });
});
