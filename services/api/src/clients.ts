/**
 * What one client may hold of the gateway's shared budgets: connections, bytes of request bodies being
 * read, requests in flight upstream. A client is an address: the socket's peer, or behind a trusted load
 * balancer the last `X-Forwarded-For` entry, which the ALB appends itself (its default `append` mode,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html); the entries
 * before it are the client's own word.
 */
import { readFileSync } from "node:fs";
import type * as http from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";

/** One client address and what it holds now. */
export class Client {
    /** Its open connections, oldest first (only counted by peer address; see `ConnectionGuard`). */
    readonly sockets = new Set<Socket>();
    /** Bytes of its request bodies being read. */
    bodyBytes = 0;
    /** Its requests being forwarded or answered. */
    requests = 0;

    constructor(readonly address: string) {}
}

/** The clients that hold something now, by address; a client that holds nothing is forgotten. */
export class Clients {
    private readonly byAddress = new Map<string, Client>();

    get(address: string): Client {
        let client = this.byAddress.get(address);
        if (!client) {
            client = new Client(address);
            this.byAddress.set(address, client);
        }
        return client;
    }

    /** Forgets a client once it holds nothing. */
    release(client: Client): void {
        if (client.sockets.size === 0 && client.bodyBytes === 0 && client.requests === 0) {
            this.byAddress.delete(client.address);
        }
    }

    get size(): number {
        return this.byAddress.size;
    }
}

/** The state the gateway keeps on each client connection. */
export interface ConnectionState {
    /** The peer: the client itself, or the load balancer in front. */
    peer: Client;
    /** A request head has arrived on it at least once. */
    served: boolean;
    /** A request is being served on it now. */
    busy: boolean;
}

export const CONNECTION = Symbol("berth.connection");

/** A client connection with the gateway's state on it. */
export type GuardedSocket = Socket & { [CONNECTION]?: ConnectionState };

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
export function plainAddress(address: string | undefined): string {
    return address === undefined ? "unknown" : address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** The last entry of `X-Forwarded-For`, or undefined when there is none. */
export function lastForwardedFor(req: http.IncomingMessage): string | undefined {
    const header = req.headers["x-forwarded-for"];
    const value = Array.isArray(header) ? header[header.length - 1] : header;
    if (value === undefined) {
        return undefined;
    }
    const last = value.slice(value.lastIndexOf(",") + 1).trim();
    return last === "" ? undefined : plainAddress(last);
}

/** The process's soft limit of open files (`ulimit -n`), read from /proc on Linux; undefined elsewhere. */
export function openFileLimit(): number | undefined {
    try {
        const line = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
        return line ? Number(line[1]) : undefined;
    } catch {
        return undefined;
    }
}

export interface ConnectionLimits {
    /** Client connections open at once, over all clients. */
    maxConnections: number;
    /** Client connections open at once from one peer address; 0: no per-address limit. */
    clientConnections: number;
}

/** How often the shed and refused connections are logged, at most: a flood must not flood the log too. */
const SHED_LOG_MS = 1000;

/**
 * Keeps client connections within `maxConnections` and `clientConnections`, below the process's file
 * descriptors: a connection over a limit sheds the oldest connection of the same peer (or, over the total,
 * of anyone) that never finished a request head, else the oldest idle one; when every one is busy, the new
 * connection is closed instead. Either is logged, summed up once a second.
 */
export class ConnectionGuard {
    /** Every open client connection, oldest first. */
    private readonly sockets = new Set<GuardedSocket>();
    private shed = 0;
    private refused = 0;
    private lastAddress = "";
    private logTimer?: NodeJS.Timeout;

    constructor(
        server: http.Server,
        private readonly limits: ConnectionLimits,
        private readonly clients: Clients,
        private readonly log: Logger,
    ) {
        server.on("connection", (socket: GuardedSocket) => this.accept(socket));
        server.once("close", () => this.flush());
    }

    get size(): number {
        return this.sockets.size;
    }

    private accept(socket: GuardedSocket): void {
        const peer = this.clients.get(plainAddress(socket.remoteAddress));
        if (this.limits.clientConnections > 0 && peer.sockets.size >= this.limits.clientConnections && !this.shedOldest(peer.sockets)) {
            return this.refuse(socket, peer);
        }
        if (this.sockets.size >= this.limits.maxConnections && !this.shedOldest(this.sockets)) {
            return this.refuse(socket, peer);
        }
        socket[CONNECTION] = { peer, served: false, busy: false };
        this.sockets.add(socket);
        peer.sockets.add(socket);
        socket.once("close", () => this.forget(socket));
    }

    private forget(socket: GuardedSocket): void {
        const state = socket[CONNECTION];
        this.sockets.delete(socket);
        if (state) {
            state.peer.sockets.delete(socket);
            this.clients.release(state.peer);
        }
    }

    /** Closes the oldest connection of `among` that never finished a request head, else the oldest idle one. */
    private shedOldest(among: Set<GuardedSocket>): boolean {
        let idle: GuardedSocket | undefined;
        for (const socket of among) {
            const state = socket[CONNECTION]!;
            if (!state.served) {
                return this.cut(socket);
            }
            if (!state.busy && idle === undefined) {
                idle = socket;
            }
        }
        return idle !== undefined && this.cut(idle);
    }

    private cut(socket: GuardedSocket): boolean {
        this.lastAddress = socket[CONNECTION]!.peer.address;
        this.forget(socket);
        socket.destroy();
        this.shed++;
        this.schedule();
        return true;
    }

    private refuse(socket: Socket, peer: Client): void {
        this.lastAddress = peer.address;
        this.clients.release(peer);
        socket.destroy();
        this.refused++;
        this.schedule();
    }

    private schedule(): void {
        this.logTimer ??= setTimeout(() => this.flush(), SHED_LOG_MS).unref();
    }

    private flush(): void {
        clearTimeout(this.logTimer);
        this.logTimer = undefined;
        if (this.shed + this.refused > 0) {
            this.log.warn(
                {
                    shed: this.shed,
                    refused: this.refused,
                    lastAddress: this.lastAddress,
                    open: this.sockets.size,
                    maxConnections: this.limits.maxConnections,
                    clientConnections: this.limits.clientConnections,
                },
                "client connections over the limits: oldest incomplete or idle ones closed",
            );
            this.shed = 0;
            this.refused = 0;
        }
    }
}
