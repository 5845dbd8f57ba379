/**
 * `npm run bench`: the gateway against a direct connection and nginx as a keep-alive reverse proxy, on one
 * machine, in one run, with wrk. Everything listens on 127.0.0.1 and stops by itself.
 *
 * Needs `wrk` and `nginx` (Debian: `apt-get install wrk nginx-light`).
 * Settings: BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS (default 32).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, waitHealthy } from "../scripts/net";

const ROOT = path.resolve(__dirname, "..");
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "berth-bench-"));
const children: ChildProcess[] = [];

function need(tool: string): string {
    const found = spawnSync("sh", ["-c", `command -v ${tool} || ls /usr/sbin/${tool} 2>/dev/null`], { encoding: "utf8" }).stdout.trim().split("\n")[0];
    if (!found) {
        throw new Error(`${tool} is not installed (Debian: apt-get install wrk nginx-light)`);
    }
    return found;
}

function start(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const log = fs.openSync(path.join(work, `${name}.log`), "a");
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", log, log] });
    children.push(child);
    return child;
}

interface Result {
    name: string;
    rps: number;
    p50: string;
    p99: string;
    errors: string;
}

function wrk(name: string, url: string): Result {
    const bin = need("wrk");
    spawnSync(bin, ["-t2", `-c${connections}`, "-d3s", url], { encoding: "utf8" }); // warm-up: JIT, pools
    const out = spawnSync(bin, ["-t2", `-c${connections}`, `-d${duration}s`, "--latency", url], { encoding: "utf8" }).stdout;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
    const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?";
    const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?";
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1];
    const socket = /Socket errors:(.*)/.exec(out)?.[1]?.trim();
    return { name, rps, p50, p99, errors: [non2xx && `${non2xx} non-2xx`, socket].filter(Boolean).join("; ") || "0" };
}

async function main(): Promise<void> {
    const nginx = need("nginx");
    need("wrk");
    const [backendPort, nginxPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const backend = `http://127.0.0.1:${backendPort}`;

    start("users", process.execPath, ["-r", "ts-node/register/transpile-only", "services/users/src/main.ts"], {
        PORT: String(backendPort), HOST: "127.0.0.1", NODE_ENV: "production",
    });
    await waitHealthy(`${backend}/health`);

    fs.writeFileSync(path.join(work, "nginx.conf"), `
worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log ${work}/nginx-access.log;
    client_body_temp_path ${work}/body;
    proxy_temp_path ${work}/proxy;
    fastcgi_temp_path ${work}/fastcgi;
    uwsgi_temp_path ${work}/uwsgi;
    scgi_temp_path ${work}/scgi;
    upstream users { server 127.0.0.1:${backendPort}; keepalive 64; }
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
`);
    start("nginx", nginx, ["-c", path.join(work, "nginx.conf"), "-p", work]);

    start("api", process.execPath, ["-r", "ts-node/register/transpile-only", "services/api/src/main.ts"], {
        PORT: String(gatewayPort), HOST: "127.0.0.1", NODE_ENV: "production",
        ROUTES: JSON.stringify({ "/users": backend }),
    });
    await waitHealthy(`http://127.0.0.1:${gatewayPort}/health`);
    await waitHealthy(`http://127.0.0.1:${nginxPort}/users`);

    const results = [
        wrk("direct to the backend", `${backend}/users`),
        wrk("nginx (1 worker, keep-alive upstream)", `http://127.0.0.1:${nginxPort}/users`),
        wrk("Berth gateway (node:http + undici Pool)", `http://127.0.0.1:${gatewayPort}/users`),
    ];
    const cpus = os.cpus();
    console.log(`\nGET /users, wrk -t2 -c${connections} -d${duration}s after a 3 s warm-up; ${cpus.length} x ${cpus[0]?.model ?? "cpu"}, Node ${process.version}\n`);
    console.log("| Path | Requests/s | p50 | p99 | Errors |");
    console.log("| --- | ---: | ---: | ---: | --- |");
    for (const r of results) {
        console.log(`| ${r.name} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${r.errors} |`);
    }
    const gateway = results[2].rps;
    console.log(`\nGateway: ${Math.round((100 * gateway) / results[1].rps)} % of nginx, ${Math.round((100 * gateway) / results[0].rps)} % of direct.`);
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
