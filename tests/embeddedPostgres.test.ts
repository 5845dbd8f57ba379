/**
 * The embedded database of the local run: PGlite behind a loopback port, shared by every service process.
 */
import * as assert from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Client, Pool } from "pg";
import { parse, serialize } from "pg-protocol";
import type { BackendMessage } from "pg-protocol/dist/messages";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../scripts/embeddedPostgres";

/** A client that speaks the wire protocol message by message, to send a batch in parts. */
async function rawClient(port: number) {
    const socket = net.connect(port, "127.0.0.1");
    const received: BackendMessage[] = [];
    let wake = () => {};
    // A protocol error ends the connection, which fails the test's next read instead of passing unseen.
    parse(socket, (m) => {
        received.push(m);
        wake();
    }).catch((error: unknown) => socket.destroy(error instanceof Error ? error : new Error(String(error))));
    await new Promise((r) => socket.once("connect", r));
    /** Every message up to and including the next ReadyForQuery. */
    const untilReady = async (): Promise<BackendMessage[]> => {
        while (!received.some((m) => m.name === "readyForQuery")) {
            await new Promise<void>((r) => {
                wake = r;
            });
        }
        return received.splice(0, received.findIndex((m) => m.name === "readyForQuery") + 1);
    };
    socket.write(serialize.startup({ user: "postgres", database: "postgres" }));
    await untilReady();
    return { socket, untilReady };
}

const rows = (messages: BackendMessage[]) => messages.filter((m) => m.name === "dataRow").map((m) => (m as unknown as { fields: unknown[] }).fields);

describe("embedded PostgreSQL (PGlite on a loopback port)", function () {
    this.timeout(60_000);
    let pg: EmbeddedPostgres;
    before(async function () {
        this.timeout(120_000);
        pg = await startEmbeddedPostgres({ turnTimeoutMs: 500 });
    });
    after(() => pg?.stop());

    it("keeps each client's parameterised query whole while another client's arrives in between", async () => {
        // PGlite is one session: if B's Parse ran between A's Parse and A's Bind, A would execute B's statement.
        const [a, b] = [await rawClient(pg.port), await rawClient(pg.port)];
        a.socket.write(serialize.parse({ text: "SELECT $1::text AS who" }));
        await new Promise((r) => setTimeout(r, 50));
        b.socket.write(
            Buffer.concat([
                serialize.parse({ text: "SELECT 'b'::text AS who, $1::text AS extra" }),
                serialize.bind({ values: ["x"] }),
                serialize.describe({ type: "P" }),
                serialize.execute({}),
                serialize.sync(),
            ]),
        );
        await new Promise((r) => setTimeout(r, 50));
        a.socket.write(Buffer.concat([serialize.bind({ values: ["a"] }), serialize.describe({ type: "P" }), serialize.execute({}), serialize.sync()]));
        assert.deepStrictEqual(rows(await a.untilReady()), [["a"]]);
        assert.deepStrictEqual(rows(await b.untilReady()), [["b", "x"]]);
        a.socket.destroy();
        b.socket.destroy();
    });

    it("gives concurrent pooled clients their own rows", async () => {
        // Statements differ per query, and some rows outgrow one TCP read, so that batches split and overlap.
        const pool = new Pool({ connectionString: pg.url, max: 3 });
        const results = await Promise.all(
            Array.from({ length: 60 }, (_, i) => pool.query(`SELECT $1::int AS i, ${i} AS tag, repeat('x', $2) AS pad`, [i, (i % 4) * 70_000])),
        );
        results.forEach((r, i) => assert.deepStrictEqual([r.rows[0].i, r.rows[0].tag, r.rows[0].pad.length], [i, i, (i % 4) * 70_000]));
        assert.strictEqual(pool.totalCount, 3);
        await pool.end();
    });

    it("keeps another client out of an open transaction, and rolls it back when its client leaves", async () => {
        const a = new Client({ connectionString: pg.url });
        const b = new Client({ connectionString: pg.url });
        await Promise.all([a.connect(), b.connect()]);
        a.on("error", () => undefined); // its connection is cut below, on purpose
        await b.query("CREATE TABLE tx_probe (n integer)");
        await a.query("BEGIN");
        await a.query("INSERT INTO tx_probe VALUES (1)");
        const seen = b.query("SELECT count(*)::int AS n FROM tx_probe");
        await new Promise((r) => setTimeout(r, 100));
        a.connection.stream.destroy();
        assert.strictEqual((await seen).rows[0].n, 0, "B ran inside A's transaction, or saw its uncommitted row");
        await b.end();
        await a.end().catch(() => undefined);
    });

    it("disconnects a client that holds the session in a transaction without a word, so the others go on", async () => {
        const stuck = new Client({ connectionString: pg.url });
        const other = new Client({ connectionString: pg.url });
        await Promise.all([stuck.connect(), other.connect()]);
        const lost = new Promise((r) => stuck.once("error", r));
        await stuck.query("BEGIN");
        assert.deepStrictEqual((await other.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
        await lost;
        await other.end();
    });

    it("keeps its data in its directory across restarts, and starts empty when fresh", async function () {
        this.timeout(120_000);
        const dataDir = path.join(mkdtempSync(path.join(tmpdir(), "berth-pglite-")), "pgdata");
        const count = async (server: EmbeddedPostgres) => {
            const c = new Client({ connectionString: server.url });
            await c.connect();
            try {
                return (await c.query("SELECT count(*)::int AS n FROM kept")).rows[0].n as number;
            } finally {
                await c.end();
            }
        };
        try {
            let server = await startEmbeddedPostgres({ dataDir });
            const c = new Client({ connectionString: server.url });
            await c.connect();
            await c.query("CREATE TABLE kept (n integer)");
            await c.query("INSERT INTO kept VALUES (1), (2)");
            await c.end();
            await server.stop();

            server = await startEmbeddedPostgres({ dataDir });
            assert.strictEqual(await count(server), 2);
            await server.stop();

            server = await startEmbeddedPostgres({ dataDir, fresh: true });
            await assert.rejects(count(server), /relation "kept" does not exist/);
            await server.stop();
        } finally {
            rmSync(path.dirname(dataDir), { recursive: true, force: true });
        }
    });
});
