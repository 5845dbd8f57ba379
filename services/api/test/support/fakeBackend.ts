/**
 * A scriptable stand-in backend for the gateway's fault-injection tests. The path chooses the behaviour,
 * so one server plays every fault and counts what reached it:
 *
 * - `/x/echo...`: answers 200 with what it received (method, url, headers, body) as JSON;
 * - `/x/slow?ms=N`: answers like echo after N ms;
 * - `/x/stall`: reads the request and never answers;
 * - `/x/drip?ms=N`: sends headers, then one byte every N ms, forever;
 * - `/x/big?mb=N`: answers N MiB, as fast as the connection takes them;
 * - `/x/garbage`: answers bytes that are not HTTP;
 * - `/x/cut`: sends headers and part of the body, then resets the connection;
 * - `/x/early`: answers 413 as soon as the headers arrive, without reading the body, and closes the
 *   connection (as Node's own server does when it refuses a body);
 * - `/x/reset-on-reuse`: resets the connection without answering when it is not the connection's first
 *   request (the keep-alive race: the backend closed an idle connection the client had just reused);
 * - `/x/unavailable`: answers 503, as a proxy does for a task whose application is not up yet;
 * - `/x/hop`: answers like echo, with a header that its `Connection` header names;
 * - anything else: 404.
 *
 * `{ unavailable: true }` makes every request answer 503 (a task whose application is not up yet, behind
 * ECS Service Connect's proxy).
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    rawHeaders: string[];
    body: string;
}

export interface FakeBackend {
    origin: string;
    port: number;
    /** Requests whose headers arrived, in order (the body may be missing for refused ones). */
    seen: Seen[];
    /** Connections accepted so far. */
    connections(): number;
    /** Connections open now. */
    open(): number;
    close(): Promise<void>;
}

export async function fakeBackend(options: { unavailable?: boolean } = {}): Promise<FakeBackend> {
    const seen: Seen[] = [];
    const sockets = new Set<Socket>();
    const requestsOn = new WeakMap<Socket, number>();
    let accepted = 0;
    const timers = new Set<NodeJS.Timeout>();

    const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
        const socket = req.socket;
        const nth = (requestsOn.get(socket) ?? 0) + 1;
        requestsOn.set(socket, nth);
        const url = new URL(req.url ?? "/", "http://fake");
        const record: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: "" };
        seen.push(record);
        const behaviour = options.unavailable ? "unavailable" : (url.pathname.split("/")[2] ?? "");

        if (behaviour === "reset-on-reuse" && nth > 1) {
            socket.resetAndDestroy();
            return;
        }
        if (behaviour === "early") {
            const body = JSON.stringify({ error: { code: "payload_too_large", message: "early" } });
            res.writeHead(413, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
            res.end(body, () => socket.destroy());
            return;
        }
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => {
            body += chunk;
        });
        req.on("error", () => undefined);
        req.on("end", () => {
            record.body = body;
            const answer = () => {
                if (res.destroyed) {
                    return;
                }
                const extra = behaviour === "hop" ? { connection: "x-upstream-private", "x-upstream-private": "secret", "x-upstream-public": "ok" } : {};
                res.writeHead(200, { "content-type": "application/json", ...extra });
                res.end(JSON.stringify(record));
            };
            switch (behaviour) {
                case "echo":
                case "hop":
                case "reset-on-reuse":
                    return answer();
                case "slow": {
                    const timer = setTimeout(
                        () => {
                            timers.delete(timer);
                            answer();
                        },
                        Number(url.searchParams.get("ms") ?? 100),
                    );
                    timers.add(timer);
                    return;
                }
                case "stall":
                    return;
                case "drip": {
                    res.writeHead(200, { "content-type": "text/plain" });
                    const timer = setInterval(() => res.write("."), Number(url.searchParams.get("ms") ?? 100));
                    timers.add(timer);
                    res.on("close", () => {
                        clearInterval(timer);
                        timers.delete(timer);
                    });
                    return;
                }
                case "big": {
                    const mib = Buffer.alloc(1024 * 1024, "b");
                    let left = Number(url.searchParams.get("mb") ?? 1);
                    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(left * mib.length) });
                    const more = (): void => {
                        while (left > 0 && !res.destroyed) {
                            left--;
                            if (!res.write(mib)) {
                                res.once("drain", more);
                                return;
                            }
                        }
                        res.end();
                    };
                    return more();
                }
                case "garbage":
                    socket.end("NOT HTTP AT ALL\r\n\r\n");
                    return;
                case "cut":
                    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
                    res.write('{"partial":');
                    setTimeout(() => socket.resetAndDestroy(), 20);
                    return;
                case "unavailable":
                    res.writeHead(503, { "content-type": "text/plain" });
                    res.end("upstream connect error or disconnect/reset before headers. reset reason: connection failure");
                    return;
                default:
                    res.writeHead(404, { "content-type": "application/json" });
                    res.end("{}");
            }
        });
    });
    server.on("connection", (socket: Socket) => {
        accepted++;
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const actual = (server.address() as AddressInfo).port;
    return {
        origin: `http://127.0.0.1:${actual}`,
        port: actual,
        seen,
        connections: () => accepted,
        open: () => sockets.size,
        close: async () => {
            for (const timer of timers) {
                clearTimeout(timer);
            }
            for (const socket of sockets) {
                socket.destroy();
            }
            await new Promise((r) => server.close(r));
        },
    };
}

/** A port on loopback where nothing listens: connections to it are refused. */
export async function refusingOrigin(): Promise<string> {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return `http://127.0.0.1:${port}`;
}
