/**
 * `npm run bench`: first the proxy's own cost, the gateway and nginx each alone on one core in front of a
 * static backend that costs next to nothing, in requests per CPU-second the proxy used (its utime + stime
 * from /proc/<pid>/stat around the run) and their ratio; then, with the users backend on PostgreSQL, the
 * gateway against a direct connection and nginx as a keep-alive reverse proxy, with wrk; then the gateway
 * with authentication, under 1000 connections, and pinned to one core with tracing. Everything listens on
 * 127.0.0.1 and stops by itself. The services run as they do in their images: the esbuild bundle of each
 * (`npm run build`), under `node`.
 *
 * Needs `wrk`, `nginx` and `taskset` (Debian: `apt-get install wrk nginx-light util-linux`), and the users
 * backend's PostgreSQL in `DATABASE_URL` (e.g. `postgresql://berth:berth@127.0.0.1:5432/berth` from
 * scripts/postgres/server.sh; plain TCP on loopback unless `DB_SSL` says otherwise).
 * Settings: BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS
 * (alternating rounds of the pinned comparison, default 3), BENCH_ONLY=pinned (the pinned comparison
 * alone, without PostgreSQL).
 *
 * Tracing: the gateway runs once more with OpenTelemetry on, exporting OTLP/HTTP protobuf to a stand-in
 * collector on loopback that accepts and drops every batch: every request sampled, and 5 % sampled (the
 * prod preset's `tracingSampleRatio`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { freePort, waitHealthy } from "../scripts/net";

const ROOT = path.resolve(__dirname, "..");
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "berth-bench-"));
const children: ChildProcess[] = [];

function need(tool: string): string {
    const found = spawnSync("sh", ["-c", `command -v ${tool} || ls /usr/sbin/${tool} 2>/dev/null`], { encoding: "utf8" })
        .stdout.trim()
        .split("\n")[0];
    if (!found) {
        throw new Error(`${tool} is not installed (Debian: apt-get install wrk nginx-light util-linux)`);
    }
    return found;
}

/** Starts a process, optionally pinned to CPUs with taskset. */
function start(name: string, command: string, args: string[], env: Record<string, string> = {}, cpus?: string): ChildProcess {
    const log = fs.openSync(path.join(work, `${name}.log`), "a");
    const [cmd, argv] = cpus ? [need("taskset"), ["-c", cpus, command, ...args]] : [command, args];
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", log, log] });
    children.push(child);
    return child;
}

function startService(name: string, service: string, env: Record<string, string>, cpus?: string): ChildProcess {
    return start(
        name,
        process.execPath,
        [path.join(ROOT, "services", service, "dist", "main.js")],
        {
            HOST: "127.0.0.1",
            NODE_ENV: "production",
            LOG_LEVEL: "info",
            ...env,
        },
        cpus,
    );
}

/** Resident memory of a process in MB (Linux). */
function rssMb(pid: number | undefined): string {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return (Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024).toFixed(0);
}

/** CPU seconds a process has used (Linux; user + system). */
function cpuSeconds(pid: number | undefined): number {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Result {
    name: string;
    rps: number;
    p50: string;
    p99: string;
    errors: string;
    rss?: string;
    /** Requests wrk completed in the measured run. */
    requests: number;
    /** CPU seconds the proxy used during the measured run (not the warm-up). */
    cpu?: number;
}

function wrk(name: string, url: string, options: { connections?: number; headers?: string[]; cpus?: string; pid?: number } = {}): Result {
    const c = options.connections ?? connections;
    const base = [`-t2`, `-c${c}`, ...(options.headers ?? []).flatMap((h) => ["-H", h])];
    const [cmd, prefix] = options.cpus ? [need("taskset"), ["-c", options.cpus, need("wrk")]] : [need("wrk"), []];
    spawnSync(cmd, [...prefix, ...base, "-d3s", url], { encoding: "utf8" }); // warm-up: JIT, pools
    const cpuBefore = options.pid === undefined ? 0 : cpuSeconds(options.pid);
    const out = spawnSync(cmd, [...prefix, ...base, `-d${duration}s`, "--latency", url], { encoding: "utf8" }).stdout;
    const cpu = options.pid === undefined ? undefined : cpuSeconds(options.pid) - cpuBefore;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
    const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?";
    const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?";
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1];
    const socket = /Socket errors:(.*)/.exec(out)?.[1]?.trim();
    return {
        name,
        rps,
        p50,
        p99,
        requests,
        errors: [non2xx && `${non2xx} non-2xx`, socket].filter(Boolean).join("; ") || "0",
        rss: options.pid === undefined ? undefined : rssMb(options.pid),
        cpu,
    };
}

function table(results: Result[]): void {
    console.log("| Path | Requests/s | p50 | p99 | Errors | Proxy memory after the run |");
    console.log("| --- | ---: | ---: | ---: | --- | ---: |");
    for (const r of results) {
        console.log(`| ${r.name} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.rss ? `${r.rss} MB RSS` : "–"} |`);
    }
}

function nginxConfig(nginxPort: number, upstreamPort: number): string {
    return `
worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log ${work}/nginx-access.log;
    client_body_temp_path ${work}/body;
    proxy_temp_path ${work}/proxy;
    fastcgi_temp_path ${work}/fastcgi;
    uwsgi_temp_path ${work}/uwsgi;
    scgi_temp_path ${work}/scgi;
    upstream users { server 127.0.0.1:${upstreamPort}; keepalive 64; }
    server {
        listen 127.0.0.1:${nginxPort};
        location /users {
            proxy_pass http://users;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Request-Id $request_id;
        }
    }
}
`;
}

/** nginx's temporary paths and pid file, inside the run's own directory. */
function nginxCommon(name: string): string {
    return `
daemon off;
pid ${work}/${name}.pid;
error_log ${work}/${name}-error.log warn;
events { worker_connections 4096; }`;
}

function nginxTemp(name: string): string {
    return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${work}/${name}-${t};`).join("\n    ");
}

/** A backend that costs next to nothing, for measuring a proxy's own CPU use: a fixed JSON body. */
function staticConfig(port: number, body: string): string {
    return `${nginxCommon("static")}
worker_processes 1;
http {
    access_log off;
    ${nginxTemp("static")}
    server {
        listen 127.0.0.1:${port} backlog=4096;
        keepalive_requests 1000000;
        location / { default_type application/json; return 200 '${body.replace(/'/g, "\\'")}'; }
    }
}
`;
}

/**
 * nginx as the gateway's peer on one core: one process (no master, so that /proc/<pid>/stat is the
 * process doing the work), a keep-alive upstream, a request id, and an access log like the gateway's.
 */
function pinnedProxyConfig(port: number, upstreamPort: number): string {
    return `${nginxCommon("proxy-pinned")}
master_process off;
http {
    access_log ${work}/proxy-pinned-access.log;
    ${nginxTemp("proxy-pinned")}
    upstream users { server 127.0.0.1:${upstreamPort}; keepalive 64; keepalive_requests 1000000; }
    server {
        listen 127.0.0.1:${port} backlog=4096;
        keepalive_requests 1000000;
        location / {
            proxy_pass http://users;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Request-Id $request_id;
        }
    }
}
`;
}

/** A stand-in OTLP collector: answers every export with an empty ExportTraceServiceResponse, keeps nothing. */
const OTLP_SINK = `require("node:http").createServer((req, res) => {
    req.resume().on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
}).listen(Number(process.env.PORT), "127.0.0.1");`;

/** What the static backend answers: a fixed list of users, like the users backend's `GET /users`. */
const STATIC_BODY = JSON.stringify({
    users: ["Ada Lovelace", "Grace Hopper", "Edsger Dijkstra"].map((name, i) => ({
        id: `0000000${i}-1b2c-4d3e-8f40-5a6b7c8d9e0f`,
        name,
        email: `${name.split(" ")[0].toLowerCase()}@example.com`,
        createdAt: "2026-01-01T00:00:00.000Z",
    })),
});

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Requests per CPU-second the proxy used in one run. */
function perCpuSecond(r: Result): number {
    return r.requests / r.cpu!;
}

/** Checks the tools and builds the services the run starts; returns nginx's path. */
function prepare(pinnedOnly: boolean): string {
    const nginx = need("nginx");
    need("wrk");
    need("taskset");
    const build = spawnSync("npm", ["run", "build", ...(pinnedOnly ? [] : ["--workspace", "services/users"]), "--workspace", "services/api"], {
        cwd: ROOT,
        encoding: "utf8",
    });
    if (build.status !== 0) {
        throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }
    return nginx;
}

/** The proxies' own cost: each alone on core 0; the static backend and wrk on core 1. Returns the gateway's median. */
async function proxyCost(nginx: string, rounds: number, machine: string, ports: number[], staticRoutes: string): Promise<number> {
    const [staticPort, pinnedPort, nginxPinnedPort] = ports;
    fs.writeFileSync(path.join(work, "static.conf"), staticConfig(staticPort, STATIC_BODY));
    fs.writeFileSync(path.join(work, "proxy-pinned.conf"), pinnedProxyConfig(nginxPinnedPort, staticPort));
    start("static", nginx, ["-c", path.join(work, "static.conf"), "-p", work], {}, "1");
    const nginxPinned = start("nginx-pinned", nginx, ["-c", path.join(work, "proxy-pinned.conf"), "-p", work], {}, "0");
    // Access log on, as in production: one JSON line per request, written to a file like nginx's.
    const pinned = startService("api-pinned", "api", { PORT: String(pinnedPort), ROUTES: staticRoutes }, "0");
    await waitHealthy(`http://127.0.0.1:${staticPort}/users`);
    await waitHealthy(`http://127.0.0.1:${pinnedPort}/users`);
    await waitHealthy(`http://127.0.0.1:${nginxPinnedPort}/users`);
    const gatewayRuns: Result[] = [];
    const nginxRuns: Result[] = [];
    for (let i = 0; i < rounds; i++) {
        gatewayRuns.push(wrk(`Berth gateway on one core, round ${i + 1}`, `http://127.0.0.1:${pinnedPort}/users`, { pid: pinned.pid, cpus: "1" }));
        nginxRuns.push(wrk(`nginx on one core, round ${i + 1}`, `http://127.0.0.1:${nginxPinnedPort}/users`, { pid: nginxPinned.pid, cpus: "1" }));
    }
    const gatewayCost = median(gatewayRuns.map(perCpuSecond));
    const nginxCost = median(nginxRuns.map(perCpuSecond));
    printProxyCost(rounds, machine, gatewayRuns, gatewayCost, nginxRuns, nginxCost);
    return gatewayCost;
}

function printProxyCost(rounds: number, machine: string, gatewayRuns: Result[], gatewayCost: number, nginxRuns: Result[], nginxCost: number): void {
    console.log(`\nThe proxy's own cost: GET /users from a static nginx backend (a fixed ${STATIC_BODY.length}-byte JSON body), each proxy alone`);
    console.log(`pinned to core 0 (taskset -c 0), the backend and wrk -t2 -c${connections} -d${duration}s on core 1, access logs on in both;`);
    console.log(`${rounds} alternating rounds, medians; ${machine}\n`);
    console.log("| Proxy | Requests/s | p50 | p99 | Errors | Requests per CPU-second (each round) | Median |");
    console.log("| --- | ---: | ---: | ---: | --- | --- | ---: |");
    for (const [name, runs, cost] of [
        ["nginx (one process, keep-alive upstream)", nginxRuns, nginxCost],
        ["Berth gateway", gatewayRuns, gatewayCost],
    ] as const) {
        const mid = runs[Math.floor(runs.length / 2)];
        console.log(
            `| ${name} | ${Math.round(median(runs.map((r) => r.rps))).toLocaleString("en-US")} | ${mid.p50} | ${mid.p99} | ${runs.map((r) => r.errors).join(", ")} | ${runs.map((r) => Math.round(perCpuSecond(r)).toLocaleString("en-US")).join(", ")} | ${Math.round(cost).toLocaleString("en-US")} |`,
        );
    }
    console.log(
        `\nGateway / nginx, requests per CPU-second: ${(gatewayCost / nginxCost).toFixed(2)}. On 0.25 vCPU (Fargate's smallest task), if one vCPU matches one core here: about ${Math.round(gatewayCost / 4).toLocaleString("en-US")} requests/s for the gateway, ${Math.round(nginxCost / 4).toLocaleString("en-US")} for nginx.`,
    );
}

/** A JWT and an API key the authenticating gateways accept, and those gateways' AUTH_* variables. */
async function benchAuth(): Promise<{ token: string; apiKey: string; auth: Record<string, string> }> {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT({})
        .setProtectedHeader({ alg: "RS256" })
        .setSubject("bench")
        .setIssuer("bench")
        .setAudience("bench")
        .setExpirationTime("1h")
        .sign(privateKey);
    const apiKey = "bench-key-0123456789abcdefghijklmnopqrstuvwxyz";
    const auth = {
        AUTH_ISSUER: "bench",
        AUTH_AUDIENCE: "bench",
        AUTH_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
        AUTH_JWT_ALGORITHMS: "RS256",
        AUTH_API_KEYS: JSON.stringify({ bench: apiKey }),
    };
    return { token, apiKey, auth };
}

/** The gateways of the comparison, each on its own port in front of `backend`; resolves once each answers. */
async function startGateways(ports: number[], backend: string, staticRoutes: string, token: string, apiKey: string, auth: Record<string, string>) {
    const [, nginxPort, gatewayPort, jwtPort, keyPort, sinkPort, tracedPort, sampledPort, pinnedTracedPort] = ports;
    const gateway = startService("api", "api", { PORT: String(gatewayPort), ROUTES: JSON.stringify({ "/users": backend }) });
    const jwtGateway = startService("api-jwt", "api", {
        ...auth,
        PORT: String(jwtPort),
        ROUTES: JSON.stringify({ "/users": { origins: backend, auth: "jwt" } }),
    });
    const keyGateway = startService("api-key", "api", {
        ...auth,
        PORT: String(keyPort),
        ROUTES: JSON.stringify({ "/users": { origins: backend, auth: "apiKey" } }),
    });
    start("otlp-sink", process.execPath, ["-e", OTLP_SINK], { PORT: String(sinkPort) });
    const tracing = (ratio: number) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: String(ratio),
    });
    const traced = startService("api-traced", "api", { ...tracing(1), PORT: String(tracedPort), ROUTES: JSON.stringify({ "/users": backend }) });
    const sampled = startService("api-sampled", "api", { ...tracing(0.05), PORT: String(sampledPort), ROUTES: JSON.stringify({ "/users": backend }) });
    const pinnedTraced = startService("api-pinned-traced", "api", { ...tracing(1), PORT: String(pinnedTracedPort), ROUTES: staticRoutes }, "0");
    await waitHealthy(`http://127.0.0.1:${gatewayPort}/health`);
    await waitHealthy(`http://127.0.0.1:${jwtPort}/users`, { headers: { authorization: `Bearer ${token}` } });
    await waitHealthy(`http://127.0.0.1:${keyPort}/users`, { headers: { "x-api-key": apiKey } });
    await waitHealthy(`http://127.0.0.1:${tracedPort}/users`);
    await waitHealthy(`http://127.0.0.1:${sampledPort}/users`);
    await waitHealthy(`http://127.0.0.1:${pinnedTracedPort}/users`);
    await waitHealthy(`http://127.0.0.1:${nginxPort}/users`);

    return { gateway, jwtGateway, keyGateway, traced, sampled, pinnedTraced };
}

/** GET /users through each proxy at 32 and 1000 connections, then the pinned gateway with tracing, each as a table. */
function compare(
    ports: number[],
    backend: string,
    machine: string,
    gatewayCost: number,
    token: string,
    apiKey: string,
    nginxProcess: ChildProcess,
    gateways: Awaited<ReturnType<typeof startGateways>>,
): void {
    const [, nginxPort, gatewayPort, jwtPort, keyPort, , tracedPort, sampledPort, pinnedTracedPort] = ports;
    const { gateway, jwtGateway, keyGateway, traced, sampled, pinnedTraced } = gateways;
    const main = [
        wrk("direct to the backend", `${backend}/users`),
        wrk("nginx (1 worker, keep-alive upstream)", `http://127.0.0.1:${nginxPort}/users`, { pid: nginxProcess.pid }),
        wrk("Berth gateway (node:http + undici Pool)", `http://127.0.0.1:${gatewayPort}/users`, { pid: gateway.pid }),
        wrk("Berth gateway, JWT required (RS256)", `http://127.0.0.1:${jwtPort}/users`, { pid: jwtGateway.pid, headers: [`authorization: Bearer ${token}`] }),
        wrk("Berth gateway, API key required", `http://127.0.0.1:${keyPort}/users`, { pid: keyGateway.pid, headers: [`x-api-key: ${apiKey}`] }),
        wrk("Berth gateway, tracing on, every request sampled", `http://127.0.0.1:${tracedPort}/users`, { pid: traced.pid }),
        wrk("Berth gateway, tracing on, 5 % sampled", `http://127.0.0.1:${sampledPort}/users`, { pid: sampled.pid }),
    ];
    console.log(`\nGET /users, wrk -t2 -c${connections} -d${duration}s after a 3 s warm-up; ${machine}\n`);
    table(main);
    console.log(
        `\nGateway: ${Math.round((100 * main[2].rps) / main[1].rps)} % of nginx, ${Math.round((100 * main[2].rps) / main[0].rps)} % of direct; JWT verification costs ${Math.round(100 - (100 * main[3].rps) / main[2].rps)} % of its throughput; tracing every request ${Math.round(100 - (100 * main[5].rps) / main[2].rps)} %, 5 % of them ${Math.round(100 - (100 * main[6].rps) / main[2].rps)} %.`,
    );

    const many = [
        wrk("direct to the backend", `${backend}/users`, { connections: 1000 }),
        wrk("nginx (1 worker, keep-alive upstream)", `http://127.0.0.1:${nginxPort}/users`, { connections: 1000, pid: nginxProcess.pid }),
        wrk("Berth gateway", `http://127.0.0.1:${gatewayPort}/users`, { connections: 1000, pid: gateway.pid }),
    ];
    console.log(`\nGET /users, wrk -t2 -c1000 -d${duration}s\n`);
    table(many);

    console.log(`\nThe gateway pinned to one core as above, tracing every request (exported to the stand-in collector)\n`);
    const tracedOnOneCore = wrk("Berth gateway on one core, tracing every request", `http://127.0.0.1:${pinnedTracedPort}/users`, {
        pid: pinnedTraced.pid,
        cpus: "1",
    });
    const tracedPerCpuSecond = perCpuSecond(tracedOnOneCore);
    table([tracedOnOneCore]);
    console.log(
        `\nTracing every request: ${Math.round(tracedPerCpuSecond).toLocaleString("en-US")} requests per CPU-second (${tracedOnOneCore.cpu!.toFixed(1)} CPU-seconds), ${change(tracedPerCpuSecond, gatewayCost)} than the median without.`,
    );
}

async function main(): Promise<void> {
    const pinnedOnly = process.env.BENCH_ONLY === "pinned";
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl && !pinnedOnly) {
        throw new Error(
            "DATABASE_URL is not set; the users backend keeps its records in PostgreSQL (start one with scripts/postgres/server.sh and export its URL), or run only the proxies' own cost with BENCH_ONLY=pinned",
        );
    }
    const nginx = prepare(pinnedOnly);
    const [staticPort, pinnedPort, nginxPinnedPort] = await Promise.all(Array.from({ length: 3 }, freePort));
    const cpus = os.cpus();
    const machine = `${cpus.length} x ${cpus[0]?.model ?? "cpu"}, Node ${process.version}, load average before the run ${os.loadavg()[0].toFixed(1)}`;
    const staticRoutes = JSON.stringify({ "/users": `http://127.0.0.1:${staticPort}` });
    const gatewayCost = await proxyCost(nginx, rounds, machine, [staticPort, pinnedPort, nginxPinnedPort], staticRoutes);
    if (pinnedOnly) {
        return;
    }

    const [backendPort, nginxPort, gatewayPort, jwtPort, keyPort, sinkPort, tracedPort, sampledPort, pinnedTracedPort] = await Promise.all(
        Array.from({ length: 9 }, freePort),
    );
    const backend = `http://127.0.0.1:${backendPort}`;

    startService("users", "users", { PORT: String(backendPort), DATABASE_URL: databaseUrl!, DB_SSL: process.env.DB_SSL ?? "disable" });
    // 200 once the schema is migrated (503 before).
    await waitHealthy(`${backend}/users`);
    fs.writeFileSync(path.join(work, "nginx.conf"), nginxConfig(nginxPort, backendPort));
    const nginxProcess = start("nginx", nginx, ["-c", path.join(work, "nginx.conf"), "-p", work]);
    const { token, apiKey, auth } = await benchAuth();
    const ports = [backendPort, nginxPort, gatewayPort, jwtPort, keyPort, sinkPort, tracedPort, sampledPort, pinnedTracedPort];
    const gateways = await startGateways(ports, backend, staticRoutes, token, apiKey, auth);
    compare(ports, backend, machine, gatewayCost, token, apiKey, nginxProcess, gateways);
}

/** `12 % fewer` or `3 % more`: `value` against `base`. */
function change(value: number, base: number): string {
    const percent = Math.round(100 - (100 * value) / base);
    return percent >= 0 ? `${percent} % fewer` : `${-percent} % more`;
}

function cleanup(): void {
    for (const child of children) {
        child.kill("SIGTERM");
    }
    fs.rmSync(work, { recursive: true, force: true });
}

main().then(cleanup, (err: Error) => {
    console.error(err.message);
    cleanup();
    process.exitCode = 1;
});
