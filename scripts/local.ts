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

/** One local run: what it has reserved and started, so that any step can undo it all. */
class LocalRun {
    readonly services: readonly CatalogService[];
    readonly output: NodeJS.WritableStream;
    readonly reserve: (port: number) => Promise<PortReservation>;
    readonly gatewayPort: number;
    readonly ports = new Map<string, number[]>();
    /** Ports held until their instance is launched, by "name/index". */
    readonly held = new Map<string, PortReservation>();
    readonly started: LocalService[] = [];
    broker: LocalBroker | undefined;
    database: LocalDatabase | undefined;
    credentials: DevCredentials | undefined;
    jobs: LocalJobs | undefined;

    constructor(readonly options: LocalOptions) {
        this.services = options.services ?? defaultCatalog;
        this.output = options.output ?? process.stdout;
        this.reserve = options.reservePort ?? ((port: number) => reservePort(port));
        this.gatewayPort = options.port ?? 8080;
    }

    releaseAll(): Promise<void[]> {
        return Promise.all([...this.held.values()].map((r) => r.release()));
    }

    async stop(): Promise<void> {
        await this.jobs?.stop();
        await this.releaseAll();
        await Promise.all(this.started.map((s) => stopProcess(s.process)));
        await this.database?.stop();
        await this.broker?.close();
    }

    addresses(s: CatalogService): string[] {
        return this.ports.get(s.name)!.map((p) => `http://127.0.0.1:${p}`);
    }

    // A worker's address is its queue's: its health there says whether it polls (scripts/localBroker.ts).
    urlOf(s: CatalogService, index: number): string {
        return s.kind === "worker" && this.broker ? this.broker.queueUrl(s.name) : this.addresses(s)[index];
    }

    messagingEnv(s: CatalogService): Record<string, string> {
        const broker = this.broker;
        return broker ? messagingEnvironment<string>(s, { topic: (t) => broker.topicUrl(t), queue: (w) => broker.queueUrl(w) }, JSON.stringify) : {};
    }
}

/** Holds a port for every instance of every service that listens (the gateway's is the run's port). */
async function reservePorts(run: LocalRun): Promise<void> {
    try {
        for (const s of run.services) {
            const count = s.gateway ? 1 : (run.options.instances?.[s.name] ?? 1);
            const list: number[] = [];
            // A worker listens on no port: it is reached through its queue.
            for (let i = 0; i < count && s.kind === "worker"; i++) {
                list.push(0);
            }
            for (let i = 0; i < count && s.kind !== "worker"; i++) {
                const reservation = await run.reserve(s.gateway ? run.gatewayPort : 0);
                run.held.set(`${s.name}/${i}`, reservation);
                list.push(reservation.port);
            }
            run.ports.set(s.name, list);
        }
    } catch (err) {
        await run.releaseAll();
        throw err;
    }
}

/** The broker when a service publishes, the credentials when a route requires them, then the database. */
async function startShared(run: LocalRun): Promise<void> {
    const { services, options } = run;
    try {
        run.broker = catalogTopics(services).length > 0 ? await startBroker(services) : undefined;
    } catch (err) {
        await run.releaseAll();
        throw err;
    }
    const baseEnv = { ...process.env, ...options.env };
    const guarded = services.some((s) => s.auth !== "none");
    run.credentials = guarded && !baseEnv.AUTH_ISSUER && !baseEnv.AUTH_API_KEYS ? await devCredentials() : undefined;
    try {
        run.database = await startLocalDatabase(options.database ?? localDatabaseChoice(), services, {
            note: `npm start, gateway on port ${run.ports.get(services.find((s) => s.gateway)?.name ?? "")?.[0] ?? "?"}`,
            log: options.log,
        });
    } catch (err) {
        await run.releaseAll();
        await run.broker?.close();
        throw err;
    }
}

/** Releases the instance's port and starts its process, its log lines prefixed with its label. */
async function launch(run: LocalRun, service: CatalogService, index: number): Promise<LocalService> {
    const { options } = run;
    const reservation = run.held.get(`${service.name}/${index}`);
    run.held.delete(`${service.name}/${index}`);
    await reservation?.release();
    const env = {
        ...process.env,
        ...serviceEnvironment(service, run.services, {
            addressOf: (s) => run.addresses(s),
            port: run.ports.get(service.name)![index],
            behindLoadBalancer: false,
        }),
        ...run.database?.environment(service),
        ...run.messagingEnv(service),
        HOST: "127.0.0.1",
        ...options.env,
        // Made up only when neither the environment nor `options.env` brought AUTH_* settings.
        ...(service.gateway ? run.credentials?.env : {}),
    };
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, service.directory, "src", "main.ts")], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    const label = run.ports.get(service.name)!.length > 1 ? `${service.name}.${index}` : service.name;
    prefixLines(label, child.stdout!, run.output, options.logSink);
    prefixLines(label, child.stderr!, run.output, options.logSink);
    return { service, index, url: run.urlOf(service, index), process: child };
}

/** Resolves once the instance answers its health check; throws when its process exits first. */
function healthy(run: LocalRun, s: LocalService): Promise<void> {
    return waitHealthy(`${s.url}${s.service.healthPath}`, {
        timeoutMs: run.options.startTimeoutMs ?? 30_000,
        alive: () => {
            if (s.process.exitCode !== null || s.process.signalCode !== null) {
                const port = run.ports.get(s.service.name)![s.index];
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
}

/**
 * Launches one instance and waits until it is healthy. A port picked here (every backend's, and the
 * gateway's with port 0) may be taken by another program between its release and the service's
 * `listen`; the instance then starts on another, which its callers, started later, are given.
 */
async function bringUp(run: LocalRun, service: CatalogService, index: number): Promise<LocalService> {
    for (let attempt = 1; ; attempt++) {
        const instance = await launch(run, service, index);
        run.started.push(instance);
        try {
            await healthy(run, instance);
            return instance;
        } catch (err) {
            const picked = !service.gateway || run.gatewayPort === 0;
            if ((err as { exitCode?: number }).exitCode !== EXIT_ADDRESS_IN_USE || !picked || attempt >= PORT_ATTEMPTS) {
                throw err;
            }
            run.started.splice(run.started.indexOf(instance), 1);
            const reservation = await run.reserve(0);
            run.held.set(`${service.name}/${index}`, reservation);
            run.ports.get(service.name)![index] = reservation.port;
            run.output.write(`${service.name.padEnd(10)}| port taken before it listened; starting again on ${reservation.port}\n`);
        }
    }
}

/** Brings every instance up, callees before callers; on a failure stops everything started so far. */
async function bringUpAll(run: LocalRun): Promise<void> {
    try {
        for (const service of deployOrder(run.services)) {
            await Promise.all(run.ports.get(service.name)!.map((_, i) => bringUp(run, service, i)));
        }
    } catch (err) {
        await run.stop();
        throw err;
    }
}

/** Starts the jobs' schedules when there are jobs to run. */
async function startJobs(run: LocalRun): Promise<void> {
    const { options, services, database } = run;
    const jobList = options.jobs ?? (options.services ? [] : defaultJobs);
    if (jobList.length > 0) {
        // A job reaches the database by the URL the services' variables carry (the kit reads DATABASE_URL first).
        const withDatabase = services.find((s) => s.database);
        const databaseEnv = withDatabase && database ? database.environment(withDatabase) : {};
        run.jobs = await startLocalJobs({
            jobs: jobList,
            root: ROOT,
            env: (job) => ({ ...process.env, ...(job.database ? databaseEnv : {}), ...options.env }),
            output: run.output,
            logSink: options.logSink,
        });
    }
}

/**
 * Starts every service, callees before callers, and resolves once each answers its health check.
 * Everything that can refuse the start (the gateway's port, a server of your own) is checked before the
 * embedded database opens its data directory.
 */
export async function startLocal(options: LocalOptions = {}): Promise<LocalSystem> {
    const run = new LocalRun(options);
    await reservePorts(run);
    await startShared(run);
    await bringUpAll(run);
    await startJobs(run);
    const { started } = run;
    const gateway = started.find((s) => s.service.gateway) ?? started[0];
    return {
        jobs: run.jobs,
        url: gateway.url,
        services: started,
        database: run.database?.description,
        broker: run.broker,
        credentials: run.credentials,
        stop: () => run.stop(),
        restart: async (name, index = 0) => {
            const at = started.findIndex((s) => s.service.name === name && s.index === index);
            if (at === -1) {
                throw new Error(`no instance ${index} of ${name} runs`);
            }
            await stopProcess(started[at].process);
            const next = await launch(run, started[at].service, index);
            started[at] = next;
            await healthy(run, next);
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
