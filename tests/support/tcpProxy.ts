/**
 * A TCP proxy on loopback between a service and its database, to make the database unreachable on cue:
 * `refuse()` closes every connection and refuses new ones (a stopped server), `blackHole()` accepts
 * connections and forwards nothing (a lost network or a hung server), `restore()` forwards again.
 */
import * as net from "node:net";

export class TcpProxy {
    private mode: "forward" | "blackHole" = "forward";
    private server?: net.Server;
    private readonly sockets = new Set<net.Socket>();

    private constructor(
        private readonly target: { host: string; port: number },
        public port: number,
    ) {}

    static async start(targetUrl: string): Promise<TcpProxy> {
        const url = new URL(targetUrl);
        const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) }, 0);
        await proxy.listen();
        return proxy;
    }

    /** `targetUrl` with its host and port replaced by the proxy's. */
    urlFor(targetUrl: string): string {
        const url = new URL(targetUrl);
        url.hostname = "127.0.0.1";
        url.port = String(this.port);
        return url.toString();
    }

    private listen(): Promise<void> {
        return new Promise((resolve, reject) => {
            const server = net.createServer((client) => this.accept(client));
            server.once("error", reject);
            server.listen(this.port, "127.0.0.1", () => {
                this.port = (server.address() as net.AddressInfo).port;
                this.server = server;
                resolve();
            });
        });
    }

    private accept(client: net.Socket): void {
        this.track(client);
        if (this.mode === "blackHole") {
            return;
        }
        const upstream = net.connect(this.target.port, this.target.host);
        this.track(upstream);
        client.pipe(upstream).pipe(client);
        const close = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on("error", close).on("close", close);
        upstream.on("error", close).on("close", close);
    }

    private track(socket: net.Socket): void {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
    }

    private dropAll(): void {
        for (const socket of this.sockets) {
            socket.destroy();
        }
        this.sockets.clear();
    }

    /** Closes every connection and refuses new ones. */
    async refuse(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        this.dropAll();
        if (server) {
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    }

    /** Closes every connection; new ones are accepted and hang. */
    async blackHole(): Promise<void> {
        this.mode = "blackHole";
        this.dropAll();
        if (!this.server) {
            await this.listen();
        }
    }

    /** Forwards again, on the same port. */
    async restore(): Promise<void> {
        this.mode = "forward";
        for (const socket of this.sockets) {
            socket.destroy();
        }
        if (!this.server) {
            await this.listen();
        }
    }

    async close(): Promise<void> {
        await this.refuse();
    }
}
