import { Pool } from "undici";
import type { Route } from "./routes";

/**
 * How long an origin that refused a connection is skipped by the balancer. Long enough that a restarting
 * backend is not asked again on every request, short enough that a replacement on the same address gets
 * traffic within a second or two of listening.
 */
export const EJECT_MS = 1000;

export interface PoolSettings {
    /** Keep-alive connections per origin. */
    connections: number;
    /** undici's headers and body timeouts, in milliseconds. */
    timeoutMs: number;
}

/** One keep-alive pool per origin, shared by every route that points there. */
export class Pools {
    private readonly pools = new Map<string, Pool>();

    constructor(private readonly settings: PoolSettings) {}

    get(origin: string): Pool {
        let pool = this.pools.get(origin);
        if (!pool) {
            pool = new Pool(origin, {
                connections: this.settings.connections,
                headersTimeout: this.settings.timeoutMs,
                bodyTimeout: this.settings.timeoutMs,
            });
            this.pools.set(origin, pool);
        }
        return pool;
    }

    /** Waits for running requests, then closes every connection. */
    async close(): Promise<void> {
        await Promise.all([...this.pools.values()].map((p) => p.close()));
    }

    /** Ends every connection now, failing what runs on them. */
    async destroy(): Promise<void> {
        await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    }
}

/**
 * A route's upstream: its origins, balanced round-robin, skipping for `EJECT_MS` an origin that refused a
 * connection (unless all did). It also watches whether the route still moves: requests waiting for a
 * connection while none has been granted for a long time mean the route is stuck (see `stuckFor`).
 */
export class Upstream {
    private next = 0;
    private readonly downUntil: number[];
    /** Requests handed to a pool that have not been given a connection yet. */
    private waiting = 0;
    /** When a request last got a connection or failed to, or when waiting began. */
    private lastProgress = Date.now();

    constructor(
        readonly route: Route,
        private readonly pools: Pools,
    ) {
        this.downUntil = route.origins.map(() => 0);
    }

    get origins(): readonly string[] {
        return this.route.origins;
    }

    /** The origin for the next attempt: the next one up, and another than `avoid` when there is one. */
    pick(avoid?: number): number {
        const n = this.route.origins.length;
        const now = Date.now();
        for (let tried = 0; tried < n; tried++) {
            const i = this.next++ % n;
            if (this.downUntil[i] <= now && (i !== avoid || n === 1)) {
                return i;
            }
        }
        // Every origin is down (or only the one to avoid is up): try the next one anyway; a refused
        // connection answers fast.
        const i = this.next++ % n;
        return i === avoid && n > 1 ? (i + 1) % n : i;
    }

    pool(index: number): Pool {
        return this.pools.get(this.route.origins[index]);
    }

    /** An origin refused a connection: skip it for a while. */
    eject(index: number): void {
        this.downUntil[index] = Date.now() + EJECT_MS;
    }

    /** A request was handed to a pool and waits for a connection. */
    queued(): void {
        if (this.waiting++ === 0) {
            this.lastProgress = Date.now();
        }
    }

    /** A waiting request got a connection, or failed before getting one. */
    dequeued(): void {
        this.waiting--;
        this.lastProgress = Date.now();
    }

    /** Milliseconds requests have waited without any getting a connection; 0 when none waits. */
    stuckFor(now = Date.now()): number {
        return this.waiting > 0 ? now - this.lastProgress : 0;
    }
}
