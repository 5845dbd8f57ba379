/**
 * The embedded default: every service of the catalogue on this machine, wired as in AWS (the gateway gets
 * the same `ROUTES`, with loopback addresses instead of Service Connect names). No Docker, no AWS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { catalog as defaultCatalog, deployOrder, serviceEnvironment, type CatalogService } from "../services/catalog";
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
    const stop = async () => {
        await Promise.all(started.map((s) => stopProcess(s.process)));
    };

    try {
        for (const service of deployOrder(services)) {
            const env = {
                ...process.env,
                ...serviceEnvironment(service, services, { addressOf: address, port: ports.get(service.name) }),
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
    return { url: gateway.url, services: started, stop };
}
