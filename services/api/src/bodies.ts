import type * as http from "node:http";
import type { Client, Clients } from "./clients";

/** The limits a request body is read within (see `GatewayOptions`). */
export interface BodyLimits {
    /** Largest body. */
    bodyLimit: number;
    /** Most bytes of bodies held at once, over all requests. */
    bufferLimit: number;
    /** Most bytes of bodies one client holds at once. */
    clientBufferLimit: number;
    /** A body up to this size is small. */
    smallBody: number;
    /** What bodies larger than `smallBody` may hold together: `bufferLimit` less the small bodies' reserve. */
    largeBufferLimit: number;
    /** How long a whole body may take to arrive. */
    bodyTimeoutMs: number;
    /** The window over which `minBodyBytes` is measured. */
    timeoutMs: number;
    /** Bytes a body must bring in each `timeoutMs` (see `minBodyRate`). */
    minBodyBytes: number;
}

/** Answers the client with an error status and message. */
export type Refusal = (status: number, message: string) => void;

/** The request bodies being read, and what they hold of the gateway's memory. */
export class BodyBuffers {
    /** Bytes of request bodies held now, until each is sent on or dropped. */
    buffered = 0;
    /** Of `buffered`, the bytes of bodies larger than `smallBody`. */
    bufferedLarge = 0;

    constructor(
        readonly limits: BodyLimits,
        private readonly clients: Clients,
    ) {}

    /**
     * The whole request body, within `bodyLimit`, the buffer budgets (the gateway's, the client's, large
     * bodies'), `bodyTimeoutMs` in all and `minBodyBytes` in each `timeoutMs`; or undefined once the client
     * has been answered (413, 408, 429, 503) through `refuse` or has gone away.
     */
    read(req: http.IncomingMessage, res: http.ServerResponse, client: Client, refuse: Refusal): Promise<Buffer | undefined> {
        const declared = Number(req.headers["content-length"] ?? NaN);
        return new Promise((resolve) => new BodyRead(this, req, res, client, declared, refuse, resolve).start());
    }

    /** A body leaves the budgets once it is handed to undici, which writes it at once, or dropped. */
    release(client: Client, size: number, large: number): void {
        this.buffered -= size;
        this.bufferedLarge -= large;
        client.bodyBytes -= size;
        this.clients.release(client);
    }
}

/** One body being read: its chunks, its share of the budgets, its timers. */
class BodyRead {
    private readonly chunks: Buffer[] = [];
    private size = 0;
    /** Bytes of this body counted in `bufferedLarge`: all of it once it is larger than `smallBody`. */
    private large = 0;
    private windowStart = 0;
    private settled = false;
    private window?: NodeJS.Timeout;
    private deadline?: NodeJS.Timeout;
    private readonly onData = (chunk: Buffer) => this.take(chunk);
    private readonly onEnd = () => this.settle(Buffer.concat(this.chunks, this.size));
    private readonly onGone = () => this.settle(undefined);

    constructor(
        private readonly buffers: BodyBuffers,
        private readonly req: http.IncomingMessage,
        private readonly res: http.ServerResponse,
        private readonly client: Client,
        /** The declared Content-Length; NaN for a chunked body. */
        private readonly declared: number,
        private readonly answer: Refusal,
        private readonly resolve: (body: Buffer | undefined) => void,
    ) {}

    start(): void {
        const { timeoutMs, bodyTimeoutMs } = this.buffers.limits;
        this.window = setTimeout(() => this.checkRate(), timeoutMs);
        this.deadline = setTimeout(() => {
            this.refuse(408, `The request body did not arrive within ${bodyTimeoutMs} ms`);
        }, bodyTimeoutMs);
        this.req.on("data", this.onData).on("end", this.onEnd).on("error", this.onGone);
        this.res.on("close", this.onGone);
    }

    private take(chunk: Buffer): void {
        const { bodyLimit, smallBody, bufferLimit, largeBufferLimit, clientBufferLimit } = this.buffers.limits;
        const grown = this.size + chunk.length;
        if (grown > bodyLimit) {
            return this.refuse(413, `Request body is over the limit of ${bodyLimit} bytes`);
        }
        const growsLarge = grown > smallBody ? grown - this.large : 0;
        if (this.buffers.buffered + chunk.length > bufferLimit || this.buffers.bufferedLarge + growsLarge > largeBufferLimit) {
            return this.refuse(503, "The gateway holds too many request bodies at once; retry shortly");
        }
        if (this.client.bodyBytes + chunk.length > clientBufferLimit) {
            return this.refuse(429, `Your request bodies being sent hold over ${clientBufferLimit} bytes of the gateway; retry once they are through`);
        }
        this.size = grown;
        this.large += growsLarge;
        this.buffers.buffered += chunk.length;
        this.buffers.bufferedLarge += growsLarge;
        this.client.bodyBytes += chunk.length;
        this.chunks.push(chunk);
    }

    /** Each `timeoutMs`, the body must have brought `minBodyBytes` (or the rest of a shorter one). */
    private checkRate(): void {
        const { minBodyBytes, timeoutMs } = this.buffers.limits;
        const owed = Math.min(minBodyBytes, Number.isNaN(this.declared) ? Infinity : this.declared - this.windowStart);
        const arrived = this.size - this.windowStart;
        if (arrived < owed) {
            return this.refuse(
                408,
                arrived === 0
                    ? `The request body stalled: nothing arrived for ${timeoutMs} ms`
                    : `The request body arrives too slowly: ${arrived} bytes in ${timeoutMs} ms; allowed: at least ${minBodyBytes}`,
            );
        }
        this.windowStart = this.size;
        this.window!.refresh();
    }

    private settle(body: Buffer | undefined): void {
        if (this.settled) {
            return;
        }
        this.settled = true;
        clearTimeout(this.window);
        clearTimeout(this.deadline);
        this.req.off("data", this.onData).off("end", this.onEnd).off("error", this.onGone);
        this.res.off("close", this.onGone);
        this.buffers.release(this.client, this.size, this.large);
        this.resolve(body);
    }

    private refuse(status: number, message: string): void {
        this.settle(undefined);
        if (status === 429 || status === 503) {
            this.res.setHeader("retry-after", "1");
        }
        // Keep reading what the client still sends, so that it can read the answer.
        this.req.resume();
        this.answer(status, message);
    }
}
