import * as assert from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { ConnectionTracker, createService, REUSE_GRACE_MS, routes, shutDown, type ShutdownLog } from "../src";

const quiet: ShutdownLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connection that writes `data` and reports when the server closes it. */
function connection(port: number, data: string): { closed: Promise<string>; socket: net.Socket } {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(data));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (c: string) => {
        text += c;
    });
    socket.on("error", () => undefined);
    return { socket, closed: new Promise((r) => socket.once("close", () => r(text))) };
}

/** Resolves with the label of each promise in the order they settle. */
function order(promises: Record<string, Promise<unknown>>): Promise<string[]> {
    const seen: string[] = [];
    return Promise.all(
        Object.entries(promises).map(([label, p]) =>
            p.then(
                () => {
                    seen.push(label);
                },
                () => {
                    seen.push(label);
                },
            ),
        ),
    ).then(() => seen);
}

describe("graceful shutdown", function () {
    this.timeout(20_000);

    it("closes idle, half-open and stalled connections at once, and lets the in-flight request finish", async () => {
        const app = createService({ name: "demo", logger: false });
        routes(app, "/slow", {
            GET: {
                handler: async () => {
                    await sleep(600);
                    return { done: true };
                },
            },
        });
        routes(app, "/things", { POST: { handler: async (req) => req.body } });
        const tracker = new ConnectionTracker(app.server);
        await app.listen({ port: 0, host: "127.0.0.1" });
        const port = (app.server.address() as AddressInfo).port;

        const idle = connection(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        const halfOpen = connection(port, "GET /health HTTP/1.1\r\nHost: x\r\n");
        const stalled = connection(port, 'POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"n":');
        await sleep(REUSE_GRACE_MS + 100);
        const inFlight = new Promise<http.IncomingMessage & { text?: string }>((resolve, reject) => {
            http.get(`http://127.0.0.1:${port}/slow`, { agent: false }, (res) => {
                let text = "";
                res.on("data", (c) => {
                    text += c;
                });
                res.on("end", () => resolve(Object.assign(res, { text })));
            }).on("error", reject);
        });
        await sleep(100);

        const outcome = shutDown({ close: () => app.close(), tracker, log: quiet, timeoutMs: 10_000 });
        const settled = await order({ idle: idle.closed, halfOpen: halfOpen.closed, stalled: stalled.closed, inFlight });
        assert.strictEqual(settled[settled.length - 1], "inFlight", `closed in the order ${settled.join(", ")}`);
        const res = await inFlight;
        assert.strictEqual(res.statusCode, 200);
        assert.strictEqual(res.headers.connection, "close");
        assert.deepStrictEqual(JSON.parse(res.text!), { done: true });
        assert.strictEqual(await outcome, "closed");
    });

    it("cuts a request that outlasts the deadline, and resolves", async () => {
        const app = createService({ name: "demo", logger: false });
        routes(app, "/forever", { GET: { handler: () => new Promise(() => undefined) } });
        const tracker = new ConnectionTracker(app.server);
        await app.listen({ port: 0, host: "127.0.0.1" });
        const port = (app.server.address() as AddressInfo).port;
        const stuck = connection(port, "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
        await sleep(100);
        assert.strictEqual(await shutDown({ close: () => app.close(), tracker, log: quiet, timeoutMs: 300 }), "deadline");
        await stuck.closed;
    });

    describe("of a service process on SIGTERM", () => {
        let child: ChildProcess;
        let port: number;

        before(async () => {
            port = await new Promise<number>((resolve) => {
                const s = net.createServer().listen(0, "127.0.0.1", () => {
                    const p = (s.address() as AddressInfo).port;
                    s.close(() => resolve(p));
                });
            });
            child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.resolve(__dirname, "../../users/src/main.ts")], {
                // No database answers there: the service listens anyway (data routes would answer 503), which
                // is all this test needs.
                env: {
                    ...process.env,
                    PORT: String(port),
                    HOST: "127.0.0.1",
                    LOG_LEVEL: "warn",
                    DATABASE_URL: "postgresql://berth:berth@127.0.0.1:9/berth",
                    DB_SSL: "disable",
                },
                stdio: "ignore",
            });
            for (let i = 0; i < 100; i++) {
                try {
                    if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) {
                        return;
                    }
                } catch {
                    await sleep(100);
                }
            }
            throw new Error("the users service did not start");
        });
        after(() => child.kill("SIGKILL"));

        it("exits 0 at once although a client stalls mid-request", async () => {
            const stalled = connection(port, 'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"name":');
            const slowloris = connection(port, "GET /users HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            await sleep(REUSE_GRACE_MS + 100);
            const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
            child.kill("SIGTERM");
            // Neither client ever finishes: their connections close only because the service closed them,
            // and the process exits 0 (before, it waited out 25 s and exited 1).
            assert.strictEqual(await exited, 0);
            await Promise.all([stalled.closed, slowloris.closed]);
        });
    });

    describe("of a service process signalled again while it shuts down", () => {
        it("absorbs a second SIGTERM and a SIGINT, and answers the in-flight request", async function () {
            this.timeout(30_000);
            const port = await new Promise<number>((resolve) => {
                const s = net.createServer().listen(0, "127.0.0.1", () => {
                    const p = (s.address() as AddressInfo).port;
                    s.close(() => resolve(p));
                });
            });
            const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.resolve(__dirname, "fixtures/slowService.ts")], {
                env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
                stdio: "ignore",
            });
            try {
                for (
                    let i = 0;
                    i < 100 &&
                    !(await fetch(`http://127.0.0.1:${port}/health`).then(
                        (r) => r.ok,
                        () => false,
                    ));
                    i++
                ) {
                    await sleep(100);
                }
                const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
                const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
                await sleep(200);
                // As Ctrl-C in a terminal (SIGINT to the process group) followed by `npm start`'s own SIGTERM,
                // or a supervisor that signals the group and then the process.
                child.kill("SIGTERM");
                await sleep(50);
                child.kill("SIGTERM");
                await sleep(50);
                child.kill("SIGINT");
                const res = await inFlight;
                assert.strictEqual(res.status, 200);
                assert.deepStrictEqual(await res.json(), { done: true });
                assert.strictEqual(await exited, 0);
            } finally {
                child.kill("SIGKILL");
            }
        });
    });
});
