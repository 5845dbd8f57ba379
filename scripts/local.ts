/**
 * The embedded default: every service of the catalogue on this machine, wired as in AWS (the gateway gets
 * the same `ROUTES`, with loopback addresses instead of Service Connect names). No Docker, no AWS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import {
    catalog as defaultCatalog,
    databaseEnvironment,
    deployOrder,
    jobs as defaultJobs,
    serviceEnvironment,
    type CatalogJob,
    type CatalogService,
} from "../catalog";
import { startLocalJobs, type LocalJobs } from "./localJobs";
import { Client } from "pg";
import { EXIT_ADDRESS_IN_USE } from "@berth/kit/listen";
import { catalogTopics, messagingEnvironment } from "../catalog/messaging";
import { startBroker, type LocalBroker } from "./localBroker";
import { startEmbeddedPostgres } from "./embeddedPostgres";
import { reservePort, waitHealthy, type PortReservation } from "./net";

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
    /** Also receives each log line, with its service's label (`npm start` writes them to `.berth/local.log`). */
    logSink?: (service: string, line: string) => void;
    /** How long a service may take to answer its health check at start. @default 30000 */
    startTimeoutMs?: number;
    /**
     * The database of the services that declare one (see `localDatabaseChoice`).
     * @default `DATABASE_URL` when set, else the embedded PGlite in `.berth/pgdata`
     */
    database?: LocalDatabaseChoice;
    /**
     * Holds a port until its service starts (0: one the kernel picks). Tests replace it to take a port
     * in the moment between its release and the service's `listen`.
     * @default `reservePort`
     */
    reservePort?: (port: number) => Promise<PortReservation>;
    /** Notices for people (the database's, e.g. a stale lock taken over). @default stderr */
    log?: (line: string) => void;
    /**
     * The jobs to run on their schedules and on demand (scripts/localJobs.ts).
     * @default the catalogue's jobs with the catalogue's services, none with services of your own
     */
    jobs?: readonly CatalogJob[];
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
    /** The topics and workers' queues (scripts/localBroker.ts); undefined when no service publishes. */
    broker?: LocalBroker;
    /** Present when a route requires authentication and the environment brought no `AUTH_*` settings. */
    credentials?: DevCredentials;
    /**
     * Replaces one instance as a rolling deployment does: SIGTERM, wait for it to exit, start a new
     * process on the same address, wait until it answers its health check.
     */
    restart(name: string, index?: number): Promise<LocalService>;
    /** Sends SIGTERM to every service and waits until all have exited. */
    stop(): Promise<void>;
    /** The jobs, run on their schedules and on demand; undefined when there are none. */
    jobs?: LocalJobs;
}

function prefixLines(name: string, from: NodeJS.ReadableStream, to: NodeJS.WritableStream, sink?: (name: string, line: string) => void): void {
    let rest = "";
    from.setEncoding("utf8");
    from.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
            to.write(`${name.padEnd(10)}| ${line}\n`);
            sink?.(name, line);
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

/** How many times a backend whose picked port was taken in the meantime is started on another. */
const PORT_ATTEMPTS = 3;

/**
 * Starts every service, callees before callers, and resolves once each answers its health check.
 * Everything that can refuse the start (the gateway's port, a server of your own) is checked before the
 * embedded database opens its data directory.
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalSystem> {
    const services = options.services ?? defaultCatalog;
    const output = options.output ?? process.stdout;
    const reserve = options.reservePort ?? ((port: number) => reservePort(port));
    const gatewayPort = options.port ?? 8080;
    const ports = new Map<string, number[]>();
    /** Ports held until their instance is launched, by "name/index". */
    const held = new Map<string, PortReservation>();
    const releaseAll = () => Promise.all([...held.values()].map((r) => r.release()));
    try {
        for (const s of services) {
            const count = s.gateway ? 1 : (options.instances?.[s.name] ?? 1);
            const list: number[] = [];
            // A worker listens on no port: it is reached through its queue.
            for (let i = 0; i < count && s.kind === "worker"; i++) {
                list.push(0);
            }
            for (let i = 0; i < count && s.kind !== "worker"; i++) {
                const reservation = await reserve(s.gateway ? gatewayPort : 0);
                held.set(`${s.name}/${i}`, reservation);
                list.push(reservation.port);
            }
            ports.set(s.name, list);
        }
    } catch (err) {
        await releaseAll();
        throw err;
    }
    const addresses = (s: CatalogService) => ports.get(s.name)!.map((p) => `http://127.0.0.1:${p}`);
    let broker: LocalBroker | undefined;
    try {
        broker = catalogTopics(services).length > 0 ? await startBroker(services) : undefined;
    } catch (err) {
        await releaseAll();
        throw err;
    }
    // A worker's address is its queue's: its health there says whether it polls (scripts/localBroker.ts).
    const urlOf = (s: CatalogService, index: number) => (s.kind === "worker" && broker ? broker.queueUrl(s.name) : addresses(s)[index]);
    const messagingEnv = (s: CatalogService) =>
        broker ? messagingEnvironment<string>(s, { topic: (t) => broker!.topicUrl(t), queue: (w) => broker!.queueUrl(w) }, JSON.stringify) : {};
    const baseEnv = { ...process.env, ...options.env };
    const guarded = services.some((s) => s.auth !== "none");
    const credentials = guarded && !baseEnv.AUTH_ISSUER && !baseEnv.AUTH_API_KEYS ? await devCredentials() : undefined;
    const started: LocalService[] = [];
    let database: LocalDatabase | undefined;
    try {
        database = await startLocalDatabase(options.database ?? localDatabaseChoice(), services, {
            note: `npm start, gateway on port ${ports.get(services.find((s) => s.gateway)?.name ?? "")?.[0] ?? "?"}`,
            log: options.log,
        });
    } catch (err) {
        await releaseAll();
        await broker?.close();
        throw err;
    }
    let jobs: LocalJobs | undefined;
    const stop = async () => {
        await jobs?.stop();
        await releaseAll();
        await Promise.all(started.map((s) => stopProcess(s.process)));
        await database?.stop();
        await broker?.close();
    };

    const launch = async (service: CatalogService, index: number): Promise<LocalService> => {
        const reservation = held.get(`${service.name}/${index}`);
        held.delete(`${service.name}/${index}`);
        await reservation?.release();
        const env = {
            ...process.env,
            ...serviceEnvironment(service, services, { addressOf: addresses, port: ports.get(service.name)![index], behindLoadBalancer: false }),
            ...database?.environment(service),
            ...messagingEnv(service),
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
        prefixLines(label, child.stdout!, output, options.logSink);
        prefixLines(label, child.stderr!, output, options.logSink);
        return { service, index, url: urlOf(service, index), process: child };
    };
    const healthy = (s: LocalService) =>
        waitHealthy(`${s.url}${s.service.healthPath}`, {
            timeoutMs: options.startTimeoutMs ?? 30_000,
            alive: () => {
                if (s.process.exitCode !== null || s.process.signalCode !== null) {
                    const port = ports.get(s.service.name)![s.index];
                    throw Object.assign(
                        new Error(
                            s.process.exitCode === EXIT_ADDRESS_IN_USE
                                ? `${s.service.name} could not listen: port ${port} on 127.0.0.1 is in use by another program${s.service.gateway ? `; choose another (e.g. PORT=${port + 1})` : ""}`
                                : `${s.service.name} exited at start (code ${s.process.exitCode ?? s.process.signalCode}); see its log lines above`,
                        ),
                        { exitCode: s.process.exitCode },
                    );
                }
            },
        });
    /**
     * Launches one instance and waits until it is healthy. A port picked here (every backend's, and the
     * gateway's with port 0) may be taken by another program between its release and the service's
     * `listen`; the instance then starts on another, which its callers, started later, are given.
     */
    const bringUp = async (service: CatalogService, index: number): Promise<LocalService> => {
        for (let attempt = 1; ; attempt++) {
            const instance = await launch(service, index);
            started.push(instance);
            try {
                await healthy(instance);
                return instance;
            } catch (err) {
                const picked = !service.gateway || gatewayPort === 0;
                if ((err as { exitCode?: number }).exitCode !== EXIT_ADDRESS_IN_USE || !picked || attempt >= PORT_ATTEMPTS) {
                    throw err;
                }
                started.splice(started.indexOf(instance), 1);
                const reservation = await reserve(0);
                held.set(`${service.name}/${index}`, reservation);
                ports.get(service.name)![index] = reservation.port;
                output.write(`${service.name.padEnd(10)}| port taken before it listened; starting again on ${reservation.port}\n`);
            }
        }
    };

    try {
        for (const service of deployOrder(services)) {
            await Promise.all(ports.get(service.name)!.map((_, i) => bringUp(service, i)));
        }
    } catch (err) {
        await stop();
        throw err;
    }
    const jobList = options.jobs ?? (options.services ? [] : defaultJobs);
    if (jobList.length > 0) {
        // A job reaches the database by the URL the services' variables carry (the kit reads DATABASE_URL first).
        const withDatabase = services.find((s) => s.database);
        const databaseEnv = withDatabase && database ? database.environment(withDatabase) : {};
        jobs = await startLocalJobs({
            jobs: jobList,
            root: ROOT,
            env: (job) => ({ ...process.env, ...(job.database ? databaseEnv : {}), ...options.env }),
            output,
            logSink: options.logSink,
        });
    }
    const gateway = started.find((s) => s.service.gateway) ?? started[0];
    return {
        jobs,
        url: gateway.url,
        services: started,
        database: database?.description,
        broker,
        credentials,
        stop,
        restart: async (name, index = 0) => {
            const at = started.findIndex((s) => s.service.name === name && s.index === index);
            if (at === -1) {
                throw new Error(`no instance ${index} of ${name} runs`);
            }
            await stopProcess(started[at].process);
            const next = await launch(started[at].service, index);
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

/** The embedded database's data directory when none is given. */
export const DEFAULT_DATA_DIR = path.join(ROOT, ".berth", "pgdata");

/**
 * `DATABASE_URL` when set, else PGlite in `dataDir` (default `.berth/pgdata`); `fresh` empties that first.
 */
export function localDatabaseChoice(env: NodeJS.ProcessEnv = process.env, fresh = false, dataDir?: string): LocalDatabaseChoice {
    if (env.DATABASE_URL) {
        if (fresh) {
            throw new Error("--fresh empties the embedded database; with DATABASE_URL set, empty your server yourself");
        }
        if (dataDir !== undefined) {
            throw new Error("--data-dir is the embedded database's directory; with DATABASE_URL set, the data is on your server");
        }
        return { url: env.DATABASE_URL };
    }
    return { dataDir: path.resolve(dataDir ?? DEFAULT_DATA_DIR), fresh };
}

interface LocalDatabase {
    description: string;
    /** What a service that declares the database gets, as in AWS but in plain text and without TLS. */
    environment(service: CatalogService): Record<string, string>;
    stop(): Promise<void>;
}

/** `url` with its password hidden, for messages. */
function shownUrl(url: URL): string {
    const shown = new URL(url);
    shown.password = shown.password ? "***" : "";
    return shown.toString();
}

/** Throws a one-line error when the server at `url` does not accept a connection within a few seconds. */
async function checkReachable(url: URL): Promise<void> {
    const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
    client.on("error", () => undefined);
    try {
        await client.connect();
    } catch (err) {
        throw new Error(`DATABASE_URL ${shownUrl(url)} cannot be reached: ${(err as Error).message || (err as { code?: string }).code}`);
    } finally {
        await client.end().catch(() => undefined);
    }
}

/**
 * Starts the embedded database when a service needs one and no server is given (a server of yours is
 * checked to accept connections instead). Every service process connects through the same client and SQL
 * as in AWS; PGlite runs one statement at a time for all of them (see `embeddedPostgres.ts`), so each
 * process keeps one connection: more would only wait there.
 */
async function startLocalDatabase(
    choice: LocalDatabaseChoice,
    services: readonly CatalogService[],
    options: { note?: string; log?: (line: string) => void } = {},
): Promise<LocalDatabase | undefined> {
    if (!services.some((s) => s.database)) {
        return undefined;
    }
    if ("url" in choice) {
        await checkReachable(new URL(choice.url));
    }
    const embedded =
        "url" in choice
            ? undefined
            : await startEmbeddedPostgres({
                  dataDir: choice.dataDir,
                  fresh: choice.fresh,
                  lockNote: options.note,
                  log: options.log,
              });
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
    const dataDir = "dataDir" in choice ? choice.dataDir : undefined;
    return {
        description: embedded
            ? `embedded PGlite, ${dataDir ? `data in ${path.relative(ROOT, dataDir).startsWith("..") ? dataDir : path.relative(ROOT, dataDir)}${embedded.created ? " (new, empty: seeded now)" : ""}, locked by this run` : "in memory"}, on ${embedded.host}:${embedded.port}`
            : `${shownUrl(url)} (DATABASE_URL)`,
        environment: (service) => (service.database ? environment(service) : {}),
        stop: async () => {
            await embedded?.stop();
        },
    };
}
