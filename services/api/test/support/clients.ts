/**
 * Clients for the gateway's tests, hostile ones included: raw sockets that stop half way, hang up while
 * queued, or send what no browser would.
 */
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Gateway, type GatewayOptions } from "../../src/gateway";
import { parseRoutes } from "../../src/routes";

export interface RunningGateway {
    gateway: Gateway;
    url: string;
    port: number;
    /** Every log line the gateway wrote, parsed. */
    logs: Array<Record<string, unknown>>;
    close(): Promise<void>;
}

/** Starts a gateway on a free loopback port; `routes` is what `ROUTES` would hold. */
export async function startGateway(routes: Record<string, unknown>, options: Partial<GatewayOptions> = {}): Promise<RunningGateway> {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino(
        { level: "info" },
        {
            write: (line: string) => {
                logs.push(JSON.parse(line));
            },
        },
    );
    const gateway = new Gateway({ routes: parseRoutes(JSON.stringify(routes)), logger, ...options });
    await new Promise<void>((r) => gateway.server.listen(0, "127.0.0.1", () => r()));
    const port = (gateway.server.address() as AddressInfo).port;
    return {
        gateway,
        url: `http://127.0.0.1:${port}`,
        port,
        logs,
        close: async () => {
            gateway.server.closeAllConnections();
            // A gateway whose upstream requests hang must not hang the test run.
            await Promise.race([gateway.close(), sleep(2000)]);
        },
    };
}

export interface RawExchange {
    socket: net.Socket;
    /** Everything the server sent until it closed the connection. */
    reply: Promise<string>;
    /** Resolves when the connection closes, whoever closed it. */
    closed: Promise<void>;
}

/**
 * Opens a connection, writes `data` as is, and collects the reply. `from` is the local address to connect
 * from: any of 127.0.0.0/8 on Linux, so that one test can play several clients.
 */
export function raw(port: number, data: string | Buffer, from?: string): RawExchange {
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: from });
    socket.write(data);
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (c: string) => {
        text += c;
    });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    return { socket, reply: closed.then(() => text), closed };
}

/** The status code of a raw HTTP reply, or 0 when there was none. */
export function statusOf(reply: string): number {
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
}

/** The JSON body of a raw reply with a Content-Length. */
export function bodyOf(reply: string): any {
    return JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4));
}

export interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** One request with node:http, so that tests control headers fetch would refuse or rewrite. */
export function request(url: string, options: http.RequestOptions & { body?: string | Buffer } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { agent: false, ...options }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
                body += c;
            });
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

/** Sends a request and hangs up after `afterMs`, before any answer could come. */
export function abandon(url: string, afterMs: number): Promise<void> {
    return new Promise((resolve) => {
        const req = http.request(url, { agent: false });
        req.on("error", () => resolve());
        req.on("response", () => resolve());
        req.on("close", () => resolve());
        req.end();
        setTimeout(() => req.destroy(), afterMs);
    });
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting until ${what}`);
        }
        await new Promise((r) => setTimeout(r, 10));
    }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
