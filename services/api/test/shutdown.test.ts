/**
 * The gateway's process on SIGTERM, as ECS stops it: idle and half-open connections close at once,
 * in-flight requests finish, no request under load is reset, and the process exits 0.
 */
import * as assert from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { REUSE_GRACE_MS } from "@berth/kit/http";
import { raw, sleep, statusOf, until } from "./support/clients";
import { fakeBackend, type FakeBackend } from "./support/fakeBackend";

async function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const p = (s.address() as AddressInfo).port;
            s.close(() => resolve(p));
        });
    });
}

async function startGatewayProcess(routes: Record<string, string>): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
    const port = await freePort();
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.resolve(__dirname, "../src/main.ts")], {
        env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", ROUTES: JSON.stringify(routes) },
        stdio: "ignore",
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    for (let i = 0; i < 150; i++) {
        try {
            if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) {
                return { child, port, exited };
            }
        } catch {
            await sleep(100);
        }
    }
    child.kill("SIGKILL");
    throw new Error("the gateway did not start");
}

describe("gateway process shutdown", function () {
    this.timeout(30_000);
    let backend: FakeBackend;

    before(async () => {
        backend = await fakeBackend();
    });
    after(() => backend.close());

    it("closes idle, half-open and stalled connections at once, finishes the in-flight request, and exits 0", async () => {
        const { child, port, exited } = await startGatewayProcess({ "/x": backend.origin });
        try {
            const agent = new http.Agent({ keepAlive: true });
            await new Promise<void>((resolve, reject) => {
                http.get(`http://127.0.0.1:${port}/x/echo`, { agent }, (res) => res.resume().on("end", resolve)).on("error", reject);
            });
            const idleSocket = Object.values(agent.freeSockets).flat()[0]!;
            const idleClosed = new Promise((r) => idleSocket.once("close", r));
            const halfOpen = raw(port, "GET /x/echo HTTP/1.1\r\nHost: x\r\n");
            const stalled = raw(port, "POST /x/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
            await sleep(REUSE_GRACE_MS + 100);
            const inFlight = raw(port, "GET /x/slow?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
            await sleep(100);

            child.kill("SIGTERM");
            const order: string[] = [];
            await Promise.all([
                idleClosed.then(() => order.push("idle")),
                halfOpen.closed.then(() => order.push("half-open")),
                stalled.closed.then(() => order.push("stalled")),
                inFlight.closed.then(() => order.push("in-flight")),
            ]);
            assert.strictEqual(order[3], "in-flight", `closed in the order ${order.join(", ")}`);
            const reply = await inFlight.reply;
            assert.strictEqual(statusOf(reply), 200, reply);
            assert.match(reply, /\r\nconnection: close\r\n/i);
            assert.strictEqual(await exited, 0);
            agent.destroy();
        } finally {
            child.kill("SIGKILL");
        }
    });

    it("resets no request under load on open connections: each is answered, the last with Connection: close", async () => {
        // Like an ALB during deregistration: clients keep using their open connections and open no new
        // ones once told to hang up.
        const { child, port, exited } = await startGatewayProcess({ "/x": backend.origin });
        let answered = 0;
        const failures: string[] = [];
        const loop = async () => {
            const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
            try {
                for (;;) {
                    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
                        const req = http.get(`http://127.0.0.1:${port}/x/echo`, { agent }, (res) => {
                            res.resume();
                            res.on("end", () => resolve(res));
                            res.on("error", reject);
                        });
                        req.on("error", reject);
                    });
                    assert.strictEqual(res.statusCode, 200);
                    answered++;
                    if (res.headers.connection === "close") {
                        return;
                    }
                }
            } catch (err) {
                failures.push((err as NodeJS.ErrnoException).code ?? (err as Error).message);
            } finally {
                agent.destroy();
            }
        };
        try {
            const loops = Array.from({ length: 32 }, loop);
            // Under way on every connection, however slow the machine.
            await until(() => answered >= 200, "200 requests are answered", 20_000);
            child.kill("SIGTERM");
            assert.strictEqual(await exited, 0);
            await Promise.all(loops);
        } finally {
            child.kill("SIGKILL");
        }
        assert.deepStrictEqual(failures, [], `requests failed on open connections: ${failures.join(", ")}`);
    });
});
