import * as assert from "node:assert";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { Client, DatabaseError } from "pg";
import { Database, databaseSettingsFromEnv, DatabaseUnavailableError, DuplicateError, isUnavailable, TableRepository, type Migration } from "../src";
import { poolConfig } from "../src/database";
import { parseCredentials } from "../src/secretCredentials";
import { databaseTargets, type TestDatabase } from "../../../tests/support/database";
import { TcpProxy } from "../../../tests/support/tcpProxy";

describe("database settings from the environment", () => {
    it("reads the ToDo-style variables, with defaults for port, name, TLS and pool", () => {
        const s = databaseSettingsFromEnv({ DB_HOST: "db.internal", DB_USER: "app", DB_PASSWORD: "secret" });
        assert.deepStrictEqual(s, { host: "db.internal", port: 5432, database: "postgres", user: "app", password: "secret", ssl: "verify-full", poolMax: 4 });
    });

    it("prefers DATABASE_URL", () => {
        const s = databaseSettingsFromEnv({ DATABASE_URL: "postgresql://u:p@127.0.0.1:5433/x", DB_HOST: "ignored", DB_SSL: "disable" });
        assert.strictEqual(s.url, "postgresql://u:p@127.0.0.1:5433/x");
        assert.strictEqual(s.ssl, "disable");
    });

    it("reads the names a catalogue entry chose", () => {
        const names = { host: "PGHOST_X", port: "PGPORT_X", name: "PGDB_X", user: "PGUSER_X", password: "PGPASS_X" };
        const s = databaseSettingsFromEnv({ PGHOST_X: "h", PGPORT_X: "6543", PGDB_X: "todo", PGUSER_X: "u", PGPASS_X: "p", DB_HOST: "not this" }, names);
        assert.deepStrictEqual([s.host, s.port, s.database, s.user, s.password], ["h", 6543, "todo", "u", "p"]);
    });

    it("names every missing or wrong variable at once, and never echoes a URL that may hold a password", () => {
        assert.throws(
            () => databaseSettingsFromEnv({ DB_PORT: "54x", DB_SSL: "require", DB_POOL_MAX: "0" }),
            (err: Error) => {
                for (const name of ["DB_HOST", "DB_USER", 'DB_PORT is "54x"', 'DB_SSL is "require"', 'DB_POOL_MAX is "0"']) {
                    assert.ok(err.message.includes(name), `${name} missing from: ${err.message}`);
                }
                return true;
            },
        );
        assert.throws(
            () => databaseSettingsFromEnv({ DATABASE_URL: "mysql://u:hunter2@h/db" }),
            (err: Error) => /DATABASE_URL is not a URL of the form postgresql:/.test(err.message) && !err.message.includes("hunter2"),
        );
    });
});

describe("TLS to the database", () => {
    const settings = { host: "localhost", port: 0, database: "d", user: "u", password: "p", poolMax: 1 };

    it("verifies the server against the Amazon RDS certificate authorities with DB_SSL=verify-full", () => {
        const ssl = poolConfig({ name: "t", settings: { ...settings, ssl: "verify-full" } }).ssl as tls.ConnectionOptions;
        assert.strictEqual(ssl.rejectUnauthorized, true);
        const cas = (ssl.ca as string[]).map((pem) => new X509Certificate(pem));
        assert.ok(cas.length > 0);
        for (const ca of cas) {
            assert.ok(ca.ca, `${ca.subject} is no CA certificate`);
            assert.match(ca.subject, /^OU=Amazon RDS$/m, ca.subject);
        }
        assert.strictEqual(poolConfig({ name: "t", settings: { ...settings, ssl: "disable" } }).ssl, false);
    });

    describe("against a server with a certificate no RDS CA signed", () => {
        let dir: string;
        let server: net.Server;
        let port: number;
        before(function () {
            dir = mkdtempSync(path.join(tmpdir(), "berth-tls-"));
            execFileSync(
                "openssl",
                [
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=localhost",
                    "-keyout",
                    path.join(dir, "key.pem"),
                    "-out",
                    path.join(dir, "cert.pem"),
                ],
                { stdio: "ignore" },
            );
            const context = tls.createSecureContext({ key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) });
            // Answers PostgreSQL's SSLRequest with "S", then speaks TLS as a server would.
            server = net.createServer((socket) => {
                socket.once("data", () => {
                    socket.write("S");
                    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
                    secure.on("error", () => socket.destroy());
                });
            });
            return new Promise<void>((resolve) =>
                server.listen(0, "127.0.0.1", () => {
                    port = (server.address() as net.AddressInfo).port;
                    resolve();
                }),
            );
        });
        after(() => {
            server.close();
            rmSync(dir, { recursive: true, force: true });
        });

        it("refuses to connect", async () => {
            const database = new Database({ name: "t", settings: { ...settings, port, ssl: "verify-full" }, connectTimeoutMs: 2_000 });
            await assert.rejects(database.pool.query("SELECT 1"), /self[- ]signed certificate/);
            await database.close();
        });
    });
});

describe("isUnavailable", () => {
    const sqlError = (code: string) => Object.assign(new DatabaseError("x", 0, "error"), { code });
    const cases: Array<[string, unknown, boolean]> = [
        ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }), true],
        ["a pool that waited too long", new Error("timeout exceeded when trying to connect"), true],
        ["a connection that dropped", new Error("Connection terminated unexpectedly"), true],
        ["a client-side query timeout", new Error("Query read timeout"), true],
        ["a server shutting down (57P01)", sqlError("57P01"), true],
        ["a statement timeout (57014)", sqlError("57014"), true],
        ["too many connections (53300)", sqlError("53300"), true],
        ["a serialisation failure (40001)", sqlError("40001"), true],
        ["a unique violation (23505)", sqlError("23505"), false],
        ["a syntax error (42601)", sqlError("42601"), false],
        ["a bug in the code", new TypeError("x is not a function"), false],
    ];
    for (const [what, err, expected] of cases) {
        it(`${expected ? "takes" : "does not take"} ${what} for an outage`, () => assert.strictEqual(isUnavailable(err), expected));
    }
});

for (const target of databaseTargets) {
    describe(`migrations and repositories on ${target.name}`, function () {
        this.timeout(60_000);
        let db: TestDatabase;
        const open: Database[] = [];
        const database = (url?: string, connectTimeoutMs?: number) => {
            const d = new Database({ name: "kit-test", settings: { ...db.settings(2), url: url ?? db.url }, connectTimeoutMs });
            open.push(d);
            return d;
        };
        const things: Migration[] = [
            {
                version: 1,
                name: "create things",
                up: "CREATE TABLE things (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text NOT NULL CONSTRAINT things_label_key UNIQUE, n integer NOT NULL DEFAULT 0 CHECK (n >= 0))",
            },
            { version: 2, name: "seed things", up: (q) => q.query("INSERT INTO things (label) VALUES ($1), ($2)", ["a", "b"]) },
        ];
        const applied = async (d: Database, service: string) =>
            (await d.query<{ version: number }>("SELECT version FROM berth_migrations WHERE service = $1 ORDER BY version", [service])).rows.map(
                (r) => r.version,
            );

        before(async function () {
            this.timeout(120_000);
            db = await target.create(this);
        });
        after(async () => {
            await Promise.all(open.map((d) => d.close()));
            await db?.drop();
        });

        it("applies each migration once, however often and however many start", async () => {
            const [a, b, c] = [database(), database(), database()];
            await Promise.all([a.migrate("things", things), b.migrate("things", things), c.migrate("things", things)]);
            await a.migrate("things", things);
            assert.deepStrictEqual(await applied(a, "things"), [1, 2]);
            assert.strictEqual((await a.query("SELECT count(*)::int AS n FROM things")).rows[0].n, 2);
        });

        it("applies only the new version of a later release", async () => {
            const d = database();
            await d.migrate("things", [...things, { version: 3, name: "add note", up: "ALTER TABLE things ADD COLUMN note text" }]);
            assert.deepStrictEqual(await applied(d, "things"), [1, 2, 3]);
            assert.strictEqual((await d.query("SELECT count(*)::int AS n FROM things")).rows[0].n, 2, "the seed did not run again");
        });

        it("applies all pending migrations or none: a migration the server refuses rejects and leaves no trace", async () => {
            const d = database();
            const broken: Migration[] = [
                { version: 1, name: "create parts", up: "CREATE TABLE parts (id integer)" },
                { version: 2, name: "broken", up: "ALTER TABLE parts ADD COLUMN" },
            ];
            await assert.rejects(d.migrate("parts", broken), (err: Error) => err instanceof DatabaseError && !isUnavailable(err));
            assert.strictEqual(d.ready, false);
            const check = database();
            await check.migrate("things", things);
            assert.deepStrictEqual(await applied(check, "parts"), []);
            assert.strictEqual((await check.query("SELECT to_regclass('parts') AS t")).rows[0].t, null);
        });

        it("refuses migration versions that repeat or are not whole numbers", async () => {
            await assert.rejects(database().migrate("x", [things[0], { ...things[1], version: 1 }]), /distinct whole numbers/);
            await assert.rejects(database().migrate("x", [{ ...things[0], version: 1.5 }]), /distinct whole numbers/);
        });

        it("waits for a database that is not there yet, then migrates", async () => {
            const proxy = await TcpProxy.start(db.url);
            try {
                await proxy.refuse();
                const d = database(proxy.urlFor(db.url), 500);
                let done = false;
                const migrated = d.migrate("things", things).then(() => {
                    done = true;
                });
                await new Promise((r) => setTimeout(r, 800));
                assert.strictEqual(done, false);
                await assert.rejects(d.query("SELECT 1"), DatabaseUnavailableError);
                await proxy.restore();
                await migrated;
                assert.strictEqual(d.ready, true);
            } finally {
                await proxy.close();
            }
        });

        it("stops waiting when closed", async () => {
            const proxy = await TcpProxy.start(db.url);
            await proxy.refuse();
            const d = database(proxy.urlFor(db.url), 500);
            const migrated = d.migrate("things", things);
            await new Promise((r) => setTimeout(r, 300));
            await d.close();
            await migrated;
            assert.strictEqual(d.ready, false);
            await proxy.close();
        });

        it("repository: creates, reads, lists, deletes, and names the field of a duplicate", async () => {
            const d = database();
            await d.migrate("things", things);
            const repo = new TableRepository<{ id: number; label: string; n: number }, { label: string; n?: number }>(d, {
                table: "things",
                columns: { id: "id", label: "label", n: "n" },
                unique: { things_label_key: "label" },
            });
            const c = await repo.create({ label: "c" });
            assert.deepStrictEqual(c, { id: c.id, label: "c", n: 0 }, "a left-out field takes the column's default");
            assert.deepStrictEqual(await repo.get(c.id), c);
            assert.deepStrictEqual(
                (await repo.list({ after: 0, limit: 10 })).map((t) => t.label),
                ["a", "b", "c"],
            );
            await assert.rejects(repo.create({ label: "a" }), (err: unknown) => err instanceof DuplicateError && err.field === "label" && err.value === "a");
            await assert.rejects(repo.create({ label: "d", n: -1 }), (err: unknown) => err instanceof DatabaseError && err.code === "23514");
            assert.strictEqual(await repo.delete(c.id), true);
            assert.strictEqual(await repo.delete(c.id), false);
            assert.strictEqual(await repo.get(c.id), undefined);
        });
    });
}

describe("credentials read again after a password rotation", () => {
    it("takes username and password from a secret of the form RDS manages, and never echoes it", () => {
        assert.deepStrictEqual(parseCredentials('{"username":"berth","password":"p","engine":"postgres"}'), { username: "berth", password: "p" });
        assert.throws(
            () => parseCredentials("hunter2"),
            (err: Error) => !err.message.includes("hunter2"),
        );
        assert.throws(() => parseCredentials('{"username":"berth"}'), /no string username and password/);
    });
});

// RDS rotates its managed master password in place: the old one stops working at once, while tasks hold it
// until they restart. Connections already open stay authenticated; every new one needs the new password.
describe("password rotation on PostgreSQL", function () {
    this.timeout(60_000);
    const target = databaseTargets.find((t) => t.name === "PostgreSQL")!;
    let db: TestDatabase;
    let admin: Client;
    let role: string;
    const open: Database[] = [];
    /** What the secret says: the test changes it with the role's password, as RDS changes both. */
    const secret = { username: "", password: "old-password" };
    /** Reads of the secret that still hand out the previous version, as Secrets Manager may right after a rotation. */
    let staleReads = 0;
    let previous = "";
    let reads = 0;
    const source = async () => {
        reads++;
        if (staleReads > 0) {
            staleReads--;
            return { username: secret.username, password: previous };
        }
        return { ...secret };
    };

    before(async function () {
        this.timeout(120_000);
        db = await target.create(this);
        admin = new Client({ connectionString: db.url });
        await admin.connect();
        role = `berth_rotation_${process.pid}`;
        secret.username = role;
        try {
            await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${secret.password}'`);
        } catch (err) {
            // scripts/postgres/server.sh gives the test role CREATEROLE; a server of one's own may not.
            if (process.env.CI) {
                throw err;
            }
            console.log(
                `    (skipped: the role of BERTH_TEST_DATABASE_URL cannot create roles: ${(err as Error).message}; scripts/postgres/server.sh grants CREATEROLE)`,
            );
            this.skip();
        }
        await admin.query(`GRANT CREATE ON SCHEMA public TO ${role}`);
    });
    after(async () => {
        await Promise.all(open.map((d) => d.close()));
        await admin?.end();
        await db?.drop();
        if (!role) {
            return; // skipped before the role existed: no server to clean up
        }
        // The role owned objects in the dropped database only; it goes last, from the server's own database.
        const server = new Client({ connectionString: process.env.BERTH_TEST_DATABASE_URL });
        await server.connect();
        await server.query(`DROP ROLE IF EXISTS ${role}`).finally(() => server.end());
    });

    const database = (password: string, credentials?: () => Promise<{ username: string; password: string }>) => {
        const url = new URL(db.url);
        const d = new Database({
            name: "rotation-test",
            settings: { host: url.hostname, port: Number(url.port), database: url.pathname.slice(1), user: role, password, ssl: "disable", poolMax: 6 },
            credentials,
        });
        open.push(d);
        return d;
    };
    const rotate = async (password: string, stale: number) => {
        previous = secret.password;
        await admin.query(`ALTER ROLE ${role} PASSWORD '${password}'`);
        secret.password = password;
        staleReads = stale;
    };
    /** `workers` loops of queries for `ms`; the errors they met. */
    const stream = async (d: Database, workers: number, ms: number) => {
        const errors: string[] = [];
        let queries = 0;
        const until = Date.now() + ms;
        await Promise.all(
            Array.from({ length: workers }, async () => {
                while (Date.now() < until) {
                    try {
                        await d.query("SELECT pg_sleep(0.02)");
                        queries++;
                    } catch (err) {
                        errors.push((err as Error).message);
                    }
                }
            }),
        );
        return { errors, queries };
    };

    it("serves every query through a rotation: new connections read the new password, open ones keep going", async () => {
        const d = database(secret.password, source);
        await d.migrate("rotation", []);
        // One connection open before the rotation; after it the pool opens five more, each with the new password.
        const before = await stream(d, 1, 300);
        await rotate("new-password-1", 1);
        const during = await stream(d, 6, 2_500);
        assert.deepStrictEqual([...before.errors, ...during.errors], []);
        assert.ok(during.queries > 50, `${during.queries} queries`);
        assert.ok(reads >= 2, "the secret was never read again (or the stale version was taken for the new one)");
        const connections = (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [role])).rows[0].n;
        assert.ok(connections >= 2, `${connections} connections: the pool opened none with the new password`);
    });

    it("starts a task whose environment still holds the old password: migrations read the new one", async () => {
        const stalePassword = secret.password;
        await rotate("new-password-2", 0);
        const d = database(stalePassword, source);
        await d.migrate("rotation", []);
        assert.strictEqual((await d.query("SELECT 1 AS one")).rows[0].one, 1);
    });

    it("without a credential source fails its migration on a refused password, so that such a release fails its deployment", async () => {
        const d = database("not-the-password");
        await assert.rejects(d.migrate("rotation", []), (err: unknown) => err instanceof DatabaseError && err.code === "28P01");
    });
});
