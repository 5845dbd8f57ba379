/**
 * The databases the data tests run against: PGlite (always, in this process) and a real PostgreSQL server
 * when `BERTH_TEST_DATABASE_URL` names one (`.ci/run` starts Debian's and sets it). Without that variable, or
 * when the server does not answer, the PostgreSQL suites skip with a message; under `CI` they fail instead.
 *
 * Each suite gets a database of its own: a new PGlite instance, or a new database on the server (the URL's
 * role needs CREATEDB), dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { startEmbeddedPostgres } from "../../scripts/embeddedPostgres";
import type { DatabaseSettings } from "@berth/kit";

export interface TestDatabase {
    /** `postgresql://…` of this suite's own database. */
    readonly url: string;
    /** Settings for `new Database(...)`, with TLS off (loopback). */
    settings(poolMax?: number): DatabaseSettings;
    /** Removes the database. */
    drop(): Promise<void>;
}

export interface DatabaseTarget {
    readonly name: string;
    /** Creates an empty database, or skips the calling suite (fails it under CI) when the target is absent. */
    create(suite: Mocha.Context): Promise<TestDatabase>;
}

const settingsOf =
    (url: string) =>
    (poolMax = 4): DatabaseSettings => ({ url, host: "", port: 0, database: "", user: "", password: "", ssl: "disable", poolMax });

/** A new in-memory PGlite, served on loopback. */
async function createPGlite(): Promise<TestDatabase> {
    const server = await startEmbeddedPostgres();
    return { url: server.url, settings: settingsOf(server.url), drop: () => server.stop() };
}

const pglite: DatabaseTarget = { name: "PGlite", create: createPGlite };

const VARIABLE = "BERTH_TEST_DATABASE_URL";

class Unreachable extends Error {}

/** A new database on the server `admin` points at (its role needs CREATEDB). */
async function createOnServer(admin: string): Promise<TestDatabase> {
    const name = `berth_test_${process.pid}_${randomBytes(4).toString("hex")}`;
    const client = new Client({ connectionString: admin, connectionTimeoutMillis: 5_000 });
    try {
        await client.connect();
    } catch (err) {
        throw new Unreachable(`no PostgreSQL server answers at ${VARIABLE} (${(err as Error).message})`);
    }
    try {
        await client.query(`CREATE DATABASE ${name}`);
    } finally {
        await client.end();
    }
    const url = new URL(admin);
    url.pathname = `/${name}`;
    return {
        url: url.toString(),
        settings: settingsOf(url.toString()),
        drop: async () => {
            const c = new Client({ connectionString: admin });
            await c.connect();
            try {
                await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            } finally {
                await c.end();
            }
        },
    };
}

const postgres: DatabaseTarget = {
    name: "PostgreSQL",
    async create(suite) {
        const absent = (why: string): never => {
            if (process.env.CI) {
                throw new Error(`CI must run the PostgreSQL tests, but ${why}`);
            }
            console.log(`    (skipped: ${why}; set ${VARIABLE}=postgresql://user:password@127.0.0.1:5432/db, a role with CREATEDB, to run them)`);
            suite.skip();
            throw new Error("skipped");
        };
        const admin = process.env[VARIABLE] || absent(`${VARIABLE} is not set`);
        try {
            return await createOnServer(admin);
        } catch (err) {
            return err instanceof Unreachable ? absent(err.message) : Promise.reject(err);
        }
    },
};

export const databaseTargets: readonly DatabaseTarget[] = [pglite, postgres];

/** The server of `BERTH_TEST_DATABASE_URL` when set (it must answer), else PGlite: for tests that need one database. */
export function anyTestDatabase(): Promise<TestDatabase> {
    const admin = process.env[VARIABLE];
    return admin ? createOnServer(admin) : createPGlite();
}
