/**
 * The embedded default: every service of the catalogue on this machine, wired as in AWS (the gateway gets
 * the same `ROUTES`, with loopback addresses instead of Service Connect names). No Docker, no AWS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { catalog as defaultCatalog, databaseEnvironment, deployOrder, serviceEnvironment, type CatalogService } from "../services/catalog";
import { startEmbeddedPostgres } from "./embeddedPostgres";
import { freePort, waitHealthy } from "./net";

const ROOT = path.resolve(__dirname, "..");

export interface LocalOptions {
    /** The gateway's port; 0 picks a free one. @default 8080 */
    port?: number;
    /** The services to run. @default the catalogue */
    services?: readonly CatalogService[];
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
    url: string;
    process: ChildProcess;
}

export interface LocalSystem {
    /** The public entry point: the gateway's URL. */
    url: string;
    services: LocalService[];
    /** Where the services keep their data, for people (no password); undefined when none declares the database. */
    database?: string;
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

/** Starts every service, callees before callers, and resolves once each answers its health check. */
export async function startLocal(options: LocalOptions = {}): Promise<LocalSystem> {
    const services = options.services ?? defaultCatalog;
    const output = options.output ?? process.stdout;
    const ports = new Map<string, number>();
    for (const s of services) {
        ports.set(s.name, s.gateway ? (options.port ?? 8080) || await freePort() : await freePort());
    }
    const address = (s: CatalogService) => `http://127.0.0.1:${ports.get(s.name)}`;
    const started: LocalService[] = [];
    const database = await startLocalDatabase(options.database ?? localDatabaseChoice(), services);
    const stop = async () => {
        await Promise.all(started.map((s) => stopProcess(s.process)));
        await database?.stop();
    };

    try {
        for (const service of deployOrder(services)) {
            const env = {
                ...process.env,
                ...serviceEnvironment(service, services, { addressOf: address, port: ports.get(service.name) }),
                ...database?.environment(service),
                HOST: "127.0.0.1",
                ...options.env,
            };
            const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, service.directory, "src", "main.ts")], {
                cwd: ROOT,
                env,
                stdio: ["ignore", "pipe", "pipe"],
            });
            prefixLines(service.name, child.stdout!, output);
            prefixLines(service.name, child.stderr!, output);
            const local = { service, url: address(service), process: child };
            started.push(local);
            await waitHealthy(`${local.url}${service.healthPath}`, {
                timeoutMs: options.startTimeoutMs ?? 30_000,
                alive: () => {
                    if (child.exitCode !== null || child.signalCode !== null) {
                        throw new Error(`${service.name} exited at start (code ${child.exitCode ?? child.signalCode}); see its log lines above`);
                    }
                },
            });
        }
    } catch (err) {
        await stop();
        throw err;
    }
    const gateway = started.find((s) => s.service.gateway) ?? started[0];
    return { url: gateway.url, services: started, database: database?.description, stop };
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
