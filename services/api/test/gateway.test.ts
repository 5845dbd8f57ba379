import * as assert from "node:assert";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Gateway } from "../src/gateway";
import { parseRoutes } from "../src/routes";

interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** A stand-in backend: `/echo` answers what it received, `/slow` never answers, `/cut` breaks mid-body. */
function upstream(): Promise<{ server: http.Server; origin: string }> {
    const server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => {
            body += c;
        });
        req.on("end", () => {
            if (req.url?.startsWith("/echo/slow")) {
                return; // never answers
            }
            if (req.url?.startsWith("/echo/cut")) {
                res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
                res.write('{"partial":');
                setTimeout(() => res.destroy(), 50);
                return;
            }
            const seen: Seen = { method: req.method!, url: req.url!, headers: req.headers, body };
            res.writeHead(req.url === "/echo/missing" ? 404 : 200, {
                "content-type": "application/json",
                "x-upstream": "yes",
                "keep-alive": "timeout=5",
            });
            res.end(JSON.stringify(seen));
        });
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
    );
}

async function closedPort(): Promise<number> {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
}

async function listen(gateway: Gateway): Promise<string> {
    await new Promise<void>((r) => gateway.server.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
}

describe("gateway", () => {
    let backend: { server: http.Server; origin: string };
    let gateway: Gateway;
    let url: string;
    const timeoutMs = 300;

    before(async () => {
        backend = await upstream();
        const refused = await closedPort();
        gateway = new Gateway({
            routes: parseRoutes(JSON.stringify({ "/echo": backend.origin, "/down": `http://127.0.0.1:${refused}` })),
            timeoutMs,
            bodyLimit: 1000,
            logger: pino({ level: "silent" }),
        });
        url = await listen(gateway);
    });
    after(async () => {
        await gateway.close();
        backend.server.closeAllConnections();
        await new Promise((r) => backend.server.close(r));
    });

    it("forwards method, path, query, headers and body, and passes the response back", async () => {
        const res = await fetch(`${url}/echo/things?x=1&y=two`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-custom": "kept", "x-request-id": "req-42" },
            body: JSON.stringify({ hello: "world" }),
        });
        assert.strictEqual(res.status, 200);
        assert.strictEqual(res.headers.get("x-upstream"), "yes");
        assert.strictEqual(res.headers.get("x-request-id"), "req-42");
        const seen = (await res.json()) as Seen;
        assert.strictEqual(seen.method, "POST");
        assert.strictEqual(seen.url, "/echo/things?x=1&y=two");
        assert.strictEqual(seen.body, '{"hello":"world"}');
        assert.strictEqual(seen.headers["x-custom"], "kept");
        assert.strictEqual(seen.headers["x-request-id"], "req-42");
        assert.strictEqual(seen.headers["x-forwarded-for"], "127.0.0.1");
        assert.strictEqual(seen.headers["x-forwarded-proto"], "http");
        assert.match(String(seen.headers["x-forwarded-host"]), /^127\.0\.0\.1:\d+$/);
    });

    it("makes up a request id, sends it upstream and returns it", async () => {
        const res = await fetch(`${url}/echo`);
        const id = res.headers.get("x-request-id");
        assert.match(id ?? "", /^[0-9a-f-]{36}$/);
        assert.strictEqual(((await res.json()) as Seen).headers["x-request-id"], id);
    });

    it("drops hop-by-hop headers both ways", async () => {
        const res = await new Promise<http.IncomingMessage & { body?: string }>((resolve, reject) => {
            const req = http.request(`${url}/echo/hop`, { headers: { "proxy-authorization": "secret", te: "trailers", "keep-alive": "timeout=1" } }, resolve);
            req.on("error", reject);
            req.end();
        });
        let body = "";
        for await (const chunk of res) {
            body += chunk;
        }
        const seen = JSON.parse(body) as Seen;
        assert.strictEqual(seen.headers["proxy-authorization"], undefined);
        assert.strictEqual(seen.headers.te, undefined);
        assert.notStrictEqual(res.headers["keep-alive"], "timeout=5", "the upstream's keep-alive leaked");
    });

    it("passes the upstream's own errors through", async () => {
        const res = await fetch(`${url}/echo/missing`);
        assert.strictEqual(res.status, 404);
        assert.strictEqual(((await res.json()) as Seen).url, "/echo/missing");
    });

    it("answers 404 JSON for a path no route covers", async () => {
        const res = await fetch(`${url}/nothing/here`);
        assert.strictEqual(res.status, 404);
        const body = (await res.json()) as { error: { code: string; requestId: string } };
        assert.strictEqual(body.error.code, "not_found");
        assert.strictEqual(body.error.requestId, res.headers.get("x-request-id"));
    });

    it("answers /health itself, and 405 to other methods there", async () => {
        assert.deepStrictEqual(await (await fetch(`${url}/health`)).json(), { status: "ok", service: "api" });
        const res = await fetch(`${url}/health`, { method: "POST" });
        assert.strictEqual(res.status, 405);
        assert.strictEqual(res.headers.get("allow"), "GET, HEAD");
    });

    it("names the commit it is built from on /health when it is given one", async () => {
        const versioned = new Gateway({ routes: [], commit: "3f2c1a9d04be5e6f-dirty", logger: pino({ level: "silent" }) });
        const at = await listen(versioned);
        try {
            assert.deepStrictEqual(await (await fetch(`${at}/health`)).json(), { status: "ok", service: "api", commit: "3f2c1a9d04be5e6f-dirty" });
        } finally {
            await versioned.close();
        }
    });

    it("answers 413 to a body over the limit without forwarding it", async () => {
        const res = await fetch(`${url}/echo`, { method: "POST", body: "x".repeat(2000) });
        assert.strictEqual(res.status, 413);
        assert.strictEqual(((await res.json()) as { error: { code: string } }).error.code, "payload_too_large");
    });

    it("answers 502 at once when the backend refuses connections", async () => {
        // Far below the gateway's timeout: a refused connection is not waited on.
        const res = await fetch(`${url}/down/users`, { signal: AbortSignal.timeout(timeoutMs - 100) });
        assert.strictEqual(res.status, 502);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.strictEqual(body.error.code, "bad_gateway");
        assert.match(body.error.message, /\/down is unavailable/);
    });

    it("answers 504 when the backend does not answer in time", async () => {
        const res = await fetch(`${url}/echo/slow`, { signal: AbortSignal.timeout(5000) });
        assert.strictEqual(res.status, 504);
        assert.strictEqual(((await res.json()) as { error: { code: string } }).error.code, "gateway_timeout");
    });

    it("breaks the client's response when the backend breaks mid-body, instead of passing a truncated body as whole", async () => {
        const res = await fetch(`${url}/echo/cut`);
        assert.strictEqual(res.status, 200);
        await assert.rejects(res.text());
    });

    it("answers a request that is not HTTP with 400 JSON", async () => {
        const { port } = new URL(url);
        const reply = await new Promise<string>((resolve, reject) => {
            const socket = net.connect(Number(port), "127.0.0.1", () => socket.write("GARBAGE\r\n\r\n"));
            let text = "";
            socket.setEncoding("utf8");
            socket.on("data", (c: string) => {
                text += c;
            });
            socket.on("end", () => resolve(text));
            socket.on("error", reject);
        });
        assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
        assert.strictEqual(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)).error.code, "bad_request");
    });

    it("keeps serving after all those faults", async () => {
        assert.strictEqual((await fetch(`${url}/echo/fine`)).status, 200);
    });
});

describe("gateway shutdown", () => {
    it("finishes an in-flight request, hangs up its keep-alive connection, and refuses new ones", async () => {
        const slow = http.createServer((req, res) => setTimeout(() => res.end('{"late":true}'), 300));
        await new Promise<void>((r) => slow.listen(0, "127.0.0.1", () => r()));
        const gateway = new Gateway({
            routes: parseRoutes(JSON.stringify({ "/slow": `http://127.0.0.1:${(slow.address() as AddressInfo).port}` })),
            logger: pino({ level: "silent" }),
        });
        const url = await listen(gateway);
        const inFlight = fetch(`${url}/slow`);
        await new Promise((r) => setTimeout(r, 100));
        const closed = gateway.close();
        const res = await inFlight;
        assert.strictEqual(res.status, 200);
        assert.strictEqual(res.headers.get("connection"), "close");
        assert.deepStrictEqual(await res.json(), { late: true });
        await closed;
        await assert.rejects(fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }));
        slow.closeAllConnections();
        await new Promise((r) => slow.close(r));
    });
});
