/**
 * The embedded default: every service of the catalogue on this machine, wired as in AWS (the gateway gets
 * the same `ROUTES`, with loopback addresses instead of Service Connect names). No Docker, no AWS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { catalog as defaultCatalog, databaseEnvironment, deployOrder, serviceEnvironment, type CatalogService } from "../services/catalog";
import { startEmbeddedPostgres } from "./embeddedPostgres";
import { freePort, waitHealthy } from "./net";

const ROOT = path.resolve(__dirname, "..");

export interface LocalOptions {
    /** The gateway's port; 0 picks a free one. @default 8080 */
    port?: number;
    /** The services to run. @default the catalogue */
    services?: readonly CatalogService[];
    /**
     * Instances per backend, each on its own port; the gateway balances over them (as Service Connect
     * does over a service's tasks).
     * @default 1 for every backend
     * @example { users: 2 }
     */
    instances?: Record<string, number>;
    /** Extra environment for every service, over the catalogue's, e.g. `{ TIMEOUT_MS: "500" }`. */
    env?: Record<string, string>;
    /** Where the services' log lines go, each prefixed with its service's name. @default stdout */
    output?: NodeJS.WritableStream;
    /** How long a service may take to answer its health check at start. @default 30000 */
    startTimeoutMs?: number;
    /**
     * The database of the services that declare one (see `localDatabaseChoice`).
     * @default `DATABASE_URL` when set, else the embedded PGlite in `.berth/pgdata`
     */
    database?: LocalDatabaseChoice;
}

export interface LocalService {
    service: CatalogService;
    /** Which instance of the service, from 0. */
    index: number;
    url: string;
    process: ChildProcess;
}

/** Credentials made up for this run when a route requires authentication (see `devCredentials`). */
export interface DevCredentials {
    /** A JWT the gateway accepts, valid for 12 hours: `Authorization: Bearer <token>`. */
    token: string;
    /** An API key the gateway accepts: `x-api-key: <key>`. */
    apiKey: string;
    /** The gateway's `AUTH_*` variables that accept them. */
    env: Record<string, string>;
}

export interface LocalSystem {
    /** The public entry point: the gateway's URL. */
    url: string;
    services: LocalService[];
    /** Where the services keep their data, for people (no password); undefined when none declares the database. */
    database?: string;
    /** Present when a route requires authentication and the environment brought no `AUTH_*` settings. */
    credentials?: DevCredentials;
    /**
     * Replaces one instance as a rolling deployment does: SIGTERM, wait for it to exit, start a new
     * process on the same address, wait until it answers its health check.
     */
    restart(name: string, index?: number): Promise<LocalService>;
    /** Sends SIGTERM to every service and waits until all have exited. */
    stop(): Promise<void>;
}

function prefixLines(name: string, from: NodeJS.ReadableStream, to: NodeJS.WritableStream): void {
    let rest = "";
    from.setEncoding("utf8");
    from.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
            to.write(`${name.padEnd(10)}| ${line}\n`);
        }
    });
}

function stopProcess(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve();
    }
    return new Promise((resolve) => {
        const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.once("exit", () => {
            clearTimeout(force);
            resolve();
        });
        // A stopped (SIGSTOP) child must run again to handle SIGTERM.
        child.kill("SIGCONT");
        child.kill("SIGTERM");
    });
}

/**
 * A development key pair, token and API key for a local run in which a route requires authentication.
 * They exist only in this process and its children; nothing is written to disk.
 */
export async function devCredentials(): Promise<DevCredentials> {
    const issuer = "berth-local";
    const audience = "berth-local";
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const token = await new SignJWT({})
        .setProtectedHeader({ alg: "ES256" })
        .setSubject("local-developer")
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime("12h")
        .sign(privateKey);
    const apiKey = `dev_${randomBytes(24).toString("base64url")}`;
    return {
        token,
        apiKey,
        env: {
            AUTH_ISSUER: issuer,
            AUTH_AUDIENCE: audience,
            AUTH_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
            AUTH_JWT_ALGORITHMS: "ES256",
            AUTH_API_KEYS: JSON.stringify({ "local-developer": apiKey }),
        },
    };
}

/** Starts every service, callees before callers, and resolves once each answers its health check. */
export async function startLocal(options: LocalOptions = {}): Promise<LocalSystem> {
    const services = options.services ?? defaultCatalog;
    const output = options.output ?? process.stdout;
    const ports = new Map<string, number[]>();
    for (const s of services) {
        const count = s.gateway ? 1 : options.instances?.[s.name] ?? 1;
        const list: number[] = [];
        for (let i = 0; i < count; i++) {
            list.push(s.gateway ? (options.port ?? 8080) || await freePort() : await freePort());
        }
        ports.set(s.name, list);
    }
    const addresses = (s: CatalogService) => ports.get(s.name)!.map((p) => `http://127.0.0.1:${p}`);
    const baseEnv = { ...process.env, ...options.env };
    const guarded = services.some((s) => s.auth !== "none");
    const credentials = guarded && !baseEnv.AUTH_ISSUER && !baseEnv.AUTH_API_KEYS ? await devCredentials() : undefined;
    const started: LocalService[] = [];
    const database = await startLocalDatabase(options.database ?? localDatabaseChoice(), services);
    const stop = async () => {
        await Promise.all(started.map((s) => stopProcess(s.process)));
        await database?.stop();
    };

    const launch = (service: CatalogService, index: number): LocalService => {
        const env = {
            ...process.env,
            ...serviceEnvironment(service, services, { addressOf: addresses, port: ports.get(service.name)![index], behindLoadBalancer: false }),
            ...database?.environment(service),
            HOST: "127.0.0.1",
            ...options.env,
            // Made up only when neither the environment nor `options.env` brought AUTH_* settings.
            ...(service.gateway ? credentials?.env : {}),
        };
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, service.directory, "src", "main.ts")], {
            cwd: ROOT,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const label = ports.get(service.name)!.length > 1 ? `${service.name}.${index}` : service.name;
        prefixLines(label, child.stdout!, output);
        prefixLines(label, child.stderr!, output);
        return { service, index, url: addresses(service)[index], process: child };
    };
    const healthy = (s: LocalService) => waitHealthy(`${s.url}${s.service.healthPath}`, {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        alive: () => {
            if (s.process.exitCode !== null || s.process.signalCode !== null) {
                throw new Error(`${s.service.name} exited at start (code ${s.process.exitCode ?? s.process.signalCode}); see its log lines above`);
            }
        },
    });

    try {
        for (const service of deployOrder(services)) {
            const instances = ports.get(service.name)!.map((_, i) => launch(service, i));
            started.push(...instances);
            await Promise.all(instances.map(healthy));
        }
    } catch (err) {
        await stop();
        throw err;
    }
    const gateway = started.find((s) => s.service.gateway) ?? started[0];
    return {
        url: gateway.url,
        services: started,
        database: database?.description,
        credentials,
        stop,
        restart: async (name, index = 0) => {
            const at = started.findIndex((s) => s.service.name === name && s.index === index);
            if (at === -1) {
                throw new Error(`no instance ${index} of ${name} runs`);
            }
            await stopProcess(started[at].process);
            const next = launch(started[at].service, index);
            started[at] = next;
            await healthy(next);
            return next;
        },
    };
}

/**
 * A PostgreSQL server of your own (`url`), or the embedded PGlite: in `dataDir` (kept across runs; `fresh`
 * empties it first) or, without `dataDir`, in memory.
 */
export type LocalDatabaseChoice = { url: string } | { dataDir?: string; fresh?: boolean };

/** `DATABASE_URL` when set, else PGlite in `.berth/pgdata`; `--fresh` empties that first. */
export function localDatabaseChoice(env: NodeJS.ProcessEnv = process.env, fresh = false): LocalDatabaseChoice {
    if (env.DATABASE_URL) {
        if (fresh) {
            throw new Error("--fresh empties the embedded database; with DATABASE_URL set, empty your server yourself");
        }
        return { url: env.DATABASE_URL };
    }
    return { dataDir: path.join(ROOT, ".berth", "pgdata"), fresh };
}

interface LocalDatabase {
    description: string;
    /** What a service that declares the database gets, as in AWS but in plain text and without TLS. */
    environment(service: CatalogService): Record<string, string>;
    stop(): Promise<void>;
}

/**
 * Starts the embedded database when a service needs one and no server is given. Every service process
 * connects through the same client and SQL as in AWS; PGlite runs one statement at a time for all of
 * them (see `embeddedPostgres.ts`), so each process keeps one connection: more would only wait there.
 */
async function startLocalDatabase(choice: LocalDatabaseChoice, services: readonly CatalogService[]): Promise<LocalDatabase | undefined> {
    if (!services.some((s) => s.database)) {
        return undefined;
    }
    const embedded = "url" in choice ? undefined : await startEmbeddedPostgres({ dataDir: choice.dataDir, fresh: choice.fresh });
    const url = new URL(embedded?.url ?? (choice as { url: string }).url);
    const environment = (service: CatalogService) => ({
        ...databaseEnvironment(service, {
            host: url.hostname,
            port: url.port || "5432",
            name: decodeURIComponent(url.pathname.slice(1)) || "postgres",
            user: decodeURIComponent(url.username),
            password: decodeURIComponent(url.password),
        }),
        // The kit reads the URL first (query parameters such as sslmode included); DB_SSL may override for a
        // server of your own that wants TLS.
        DATABASE_URL: url.toString(),
        ...(embedded ? { DB_POOL_MAX: "1" } : process.env.DB_SSL ? { DB_SSL: process.env.DB_SSL } : {}),
    });
    const shown = new URL(url);
    shown.password = shown.password ? "***" : "";
    return {
        description: embedded
            ? `embedded PGlite, ${"dataDir" in choice && choice.dataDir ? `data in ${path.relative(ROOT, choice.dataDir) || choice.dataDir}` : "in memory"}, on ${embedded.host}:${embedded.port}`
            : `${shown.toString()} (DATABASE_URL)`,
        environment: (service) => (service.database ? environment(service) : {}),
        stop: async () => {
            await embedded?.stop();
        },
    };
}
