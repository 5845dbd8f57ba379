/**
 * The environment contract between a service that uses the database and whatever runs it (`pulumi up`, the
 * local run, the tests): the one declaration of the variable names, which the program, the catalogue and the
 * services import as `@berth/kit/contract`. It imports nothing, so that importing it loads no client library
 * into the program and no infrastructure into an image.
 *
 * A service reads, in this order:
 * 1. `DATABASE_URL` (`postgresql://user:password@host:port/name`), when set: the local run and the tests
 *    hand over a whole URL.
 * 2. Otherwise five variables, with the names of the ToDo workshop that Berth's users come from:
 *    `DB_HOST`, `DB_PORT` (default 5432), `DB_NAME` (default `postgres`), `DB_USER`, `DB_PASSWORD`. In AWS
 *    the host, port and name arrive as plain environment, the user and password through the task
 *    definition's `secrets`, from the JSON keys `username` and `password` of the secret RDS manages.
 *
 * And in both cases:
 * - `DB_SSL`: `verify-full` (the default) encrypts and verifies the server's certificate against the Amazon
 *   RDS certificate authorities, `disable` connects in plain text (the local run, a server on loopback).
 *   An `sslmode` inside `DATABASE_URL` takes precedence, as node-postgres reads it.
 * - `DB_POOL_MAX`: connections per process (default 4, see `DEFAULT_POOL_MAX`).
 */

/** The names of the variables that carry the connection settings; a catalogue entry may rename them. */
export interface DatabaseEnvNames {
    /** @default "DB_HOST" */
    host: string;
    /** @default "DB_PORT" */
    port: string;
    /** @default "DB_NAME" */
    name: string;
    /** @default "DB_USER" */
    user: string;
    /** @default "DB_PASSWORD" */
    password: string;
}

export const DEFAULT_DATABASE_ENV: Readonly<DatabaseEnvNames> = {
    host: "DB_HOST",
    port: "DB_PORT",
    name: "DB_NAME",
    user: "DB_USER",
    password: "DB_PASSWORD",
};

/** `disable`: plain text. `verify-full`: TLS, certificate signed by an Amazon RDS CA and issued to the host. */
export type DatabaseSsl = "disable" | "verify-full";

/** The variable that tells a service how to verify the database's certificate (a `DatabaseSsl`). */
export const DATABASE_TLS_VARIABLE = "DB_SSL";

/**
 * Connections per process. A 0.25 vCPU task serves a few hundred simple requests per second, each holding a
 * connection for about a millisecond, so one or two connections are busy on average; four absorb bursts
 * and a slow query without queueing, and more would only move the queue from the pool into PostgreSQL.
 * Every task of every service that declares the database opens up to this many, so the instance's
 * `max_connections` must cover them, twice over while a deployment runs old and new tasks side by side.
 * RDS's default is LEAST(DBInstanceClassMemory/9531392, 5000)
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections),
 * about 80 for 1 GiB of memory: the `test` preset's 2 services x 1 task x 4 (16 during a deployment) fit a
 * micro class; 2 x 6 tasks x 4 at `prod`'s autoscaling ceiling (96 during a deployment) need 2 GiB.
 */
export const DEFAULT_POOL_MAX = 4;

/** Where and how to connect, read from the environment; `password` is never logged or shown. */
export interface DatabaseSettings {
    /** Set when the settings came from `DATABASE_URL`; then the other location fields are empty. */
    url?: string;
    host: string;
    /** @default 5432 */
    port: number;
    /** @default "postgres" */
    database: string;
    user: string;
    /** @default "" (for servers that trust loopback) */
    password: string;
    /** @default "verify-full" */
    ssl: DatabaseSsl;
    /** @default DEFAULT_POOL_MAX (4) */
    poolMax: number;
    /**
     * The Secrets Manager secret the credentials came from (`DB_SECRET_ARN`, in AWS: the secret RDS manages):
     * where the pool reads them again when the server refuses them after a rotation.
     * @default none: the credentials in hand are the only ones
     */
    secretArn?: string;
}

/**
 * The variable naming the secret the database credentials come from (see `DatabaseSettings.secretArn`): in
 * AWS the RDS-managed secret, which the service's task role may read. RDS changes the master password at
 * once when it rotates it (a single user, not alternating ones:
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html), and the password ECS put
 * in the task's environment at start stops working then: the pool reads the secret again when the server
 * refuses a new connection's password (`database.ts`). Connections already open are not affected, since
 * PostgreSQL checks the password only when a connection starts.
 */
export const DATABASE_SECRET_VARIABLE = "DB_SECRET_ARN";

/**
 * Reads the settings from `env` under `names` (see the module's comment), or throws an error naming every
 * variable that is missing or wrong and what is allowed. The error never repeats a value that may hold a
 * password.
 */
export function databaseSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, names: Readonly<DatabaseEnvNames> = DEFAULT_DATABASE_ENV): DatabaseSettings {
    const problems: string[] = [];
    const ssl = env[DATABASE_TLS_VARIABLE] ?? "verify-full";
    if (ssl !== "disable" && ssl !== "verify-full") {
        problems.push(`${DATABASE_TLS_VARIABLE} is ${JSON.stringify(ssl)}; allowed: verify-full (the default) or disable`);
    }
    const poolMax = wholeNumber(env, "DB_POOL_MAX", DEFAULT_POOL_MAX, 1, 100, problems);
    const common = { ssl: ssl as DatabaseSsl, poolMax };

    const url = env.DATABASE_URL;
    if (url !== undefined && url !== "") {
        let protocol = "";
        try {
            protocol = new URL(url).protocol;
        } catch {
            // Reported below, without the value.
        }
        if (protocol !== "postgresql:" && protocol !== "postgres:") {
            problems.push("DATABASE_URL is not a URL of the form postgresql://user:password@host:port/name");
        }
        fail(problems);
        return { url, host: "", port: 0, database: "", user: "", password: "", ...common };
    }

    const required = (name: string) => {
        const value = env[name];
        if (value === undefined || value === "") {
            problems.push(`${name} is not set (nor DATABASE_URL); the service declares the database and needs it`);
        }
        return value ?? "";
    };
    const host = required(names.host);
    const user = required(names.user);
    const port = wholeNumber(env, names.port, 5432, 1, 65535, problems);
    const database = env[names.name] || "postgres";
    fail(problems);
    const secretArn = env[DATABASE_SECRET_VARIABLE] || undefined;
    return { host, port, database, user, password: env[names.password] ?? "", ...common, ...(secretArn ? { secretArn } : {}) };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
    const text = env[name];
    if (text === undefined || text === "") {
        return fallback;
    }
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
        problems.push(`${name} is ${JSON.stringify(text)}; allowed: a whole number from ${min} to ${max}`);
    }
    return value;
}

function fail(problems: string[]): void {
    if (problems.length > 0) {
        throw new Error(`Invalid database settings:\n  - ${problems.join("\n  - ")}`);
    }
}

/**
 * How the gateway guards a route, as the catalogue declares it (`auth`) and writes it into the gateway's
 * `ROUTES` variable: the one list both sides read.
 */
export const AUTH_MODES = ["none", "jwt", "apiKey"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * The topics a service may publish to, as JSON from topic name to where it is: an SNS topic ARN in AWS,
 * `http://127.0.0.1:<port>/topics/<name>` under `npm start` (set by catalog/messaging.ts and the local run,
 * read by the kit's messaging client).
 * @example {"product-changed":"arn:aws:sns:eu-west-1:123456789012:berth-dev-product-changed"}
 */
export const TOPICS_VARIABLE = "BERTH_TOPICS";

/**
 * A worker's queue: an SQS queue URL in AWS, `http://127.0.0.1:<port>/queues/<worker>` under `npm start`.
 */
export const QUEUE_VARIABLE = "BERTH_QUEUE_URL";

/**
 * How long the gateway waits for a backend's response headers (and each later part of its body) before it
 * answers 504, when its `TIMEOUT_MS` variable does not say: the program gives it this value too
 * (core/rollout.ts, `UPSTREAM_TIMEOUT_MS`), so a bare gateway (`npm run bench`, an image run alone) and a
 * deployed one wait alike.
 */
export const GATEWAY_TIMEOUT_MS = 10_000;
