/**
 * `npm run bench:slow`: the classic slow-client attacks of Debian's `slowhttptest` against `npm start` on
 * loopback, one after the other, each for a bounded time, while a second client sends ordinary requests
 * and measures their latency and failures. The attacker connects from 127.0.0.1, the ordinary client from
 * 127.0.0.5: two clients, as the gateway counts them.
 *
 * - slowloris (`-H`): request heads that never end, a header line now and then;
 * - slow body (`-B`, R-U-Dead-Yet): POSTs announcing 64 KiB, sent a few bytes at a time;
 * - slow read (`-X`): requests whose responses are read a few bytes a second through a tiny TCP window;
 * - range (`-R`, Apache killer): requests with hundreds of overlapping byte ranges.
 *
 * Needs `slowhttptest` (Debian: `apt-get install slowhttptest`) and a PostgreSQL server in `DATABASE_URL`
 * (e.g. `postgresql://berth:berth@127.0.0.1:5432/berth`; the ordinary requests only read). Settings:
 * BENCH_SLOW_SECONDS (per attack, default 30). Not part of `npm test`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, waitHealthy } from "../scripts/net";

const ROOT = path.resolve(__dirname, "..");
const seconds = Number(process.env.BENCH_SLOW_SECONDS ?? 30);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "berth-slowhttp-"));
const PROBE_FROM = "127.0.0.5";
/** An ordinary request that takes longer than this counts as failed. */
const PROBE_TIMEOUT_MS = 5000;
const children: ChildProcess[] = [];

interface Attack {
    name: string;
    /** slowhttptest's arguments, without the URL and the length. */
    args: string[];
    path: string;
}

const ATTACKS: Attack[] = [
    { name: "slowloris headers (-H)", args: ["-H", "-c", "4000", "-r", "500", "-i", "5"], path: "/users/1" },
    { name: "slow body (-B)", args: ["-B", "-c", "2000", "-r", "400", "-i", "2", "-s", "65536", "-t", "POST", "-f", "application/json"], path: "/users" },
    { name: "slow read (-X)", args: ["-X", "-c", "1000", "-r", "200", "-k", "3", "-n", "1", "-w", "16", "-y", "64", "-z", "16"], path: "/users?limit=1000" },
    { name: "range (-R)", args: ["-R", "-c", "1000", "-r", "200", "-a", "10", "-b", "3000"], path: "/products" },
];

function need(tool: string): string {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (!found) {
        throw new Error(`${tool} is not installed (Debian: apt-get install ${tool})`);
    }
    return found;
}

interface Sample {
    ms: number;
    ok: boolean;
}

/** One ordinary request on a new connection, as an independent client makes it. */
function probe(port: number): Promise<Sample> {
    const started = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    const paths = ["/users/1", "/products/2", "/users?limit=10"];
    return new Promise((resolve) => {
        const req = http.get(
            {
                host: "127.0.0.1",
                port,
                path: paths[Math.floor(Math.random() * paths.length)],
                localAddress: PROBE_FROM,
                agent: false,
                timeout: PROBE_TIMEOUT_MS,
            },
            (res) => {
                res.resume();
                res.on("end", () => resolve({ ms: ms(), ok: res.statusCode === 200 }));
                res.on("error", () => resolve({ ms: ms(), ok: false }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve({ ms: ms(), ok: false }));
    });
}

/** Ordinary requests one after another (about 20 a second) until `stop` resolves. */
async function probeUntil(port: number, stop: Promise<unknown>): Promise<Sample[]> {
    let done = false;
    void stop.then(() => {
        done = true;
    });
    const samples: Sample[] = [];
    while (!done) {
        samples.push(await probe(port));
        await new Promise((r) => setTimeout(r, 50));
    }
    return samples;
}

function percentile(sorted: number[], p: number): number {
    return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function summary(name: string, samples: Sample[]): string {
    const ms = samples
        .filter((s) => s.ok)
        .map((s) => s.ms)
        .sort((a, b) => a - b);
    const failed = samples.filter((s) => !s.ok).length;
    return `| ${name} | ${samples.length} | ${failed} | ${percentile(ms, 0.5).toFixed(1)} | ${percentile(ms, 0.99).toFixed(1)} | ${(ms[ms.length - 1] ?? NaN).toFixed(1)} |`;
}

function runAttack(tool: string, attack: Attack, port: number): Promise<number> {
    const log = fs.openSync(path.join(work, `${attack.args[0]}.log`), "a");
    const child = spawn(tool, [...attack.args, "-l", String(seconds), "-u", `http://127.0.0.1:${port}${attack.path}`, "-p", "3"], {
        stdio: ["ignore", log, log],
    });
    children.push(child);
    return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

/** What the gateway logged about shedding connections during the run. */
function shedCounts(logFile: string): string {
    const lines = fs
        .readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.includes("client connections over the limits"));
    let shed = 0;
    let refused = 0;
    for (const line of lines) {
        const json = JSON.parse(line.slice(line.indexOf("{")));
        shed += json.shed;
        refused += json.refused;
    }
    return `connections shed ${shed}, refused ${refused}`;
}

async function main(): Promise<void> {
    const tool = need("slowhttptest");
    if (!process.env.DATABASE_URL) {
        throw new Error("DATABASE_URL is not set; allowed: a PostgreSQL server, e.g. postgresql://berth:berth@127.0.0.1:5432/berth");
    }
    const port = await freePort();
    const logFile = path.join(work, "start.log");
    const log = fs.openSync(logFile, "a");
    const system = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/start.ts"], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), LOG_LEVEL: "warn" },
        stdio: ["ignore", log, log],
        detached: true,
    });
    children.push(system);
    await waitHealthy(`http://127.0.0.1:${port}/users/1`, {
        timeoutMs: 60_000,
        alive: () => {
            if (system.exitCode !== null) throw new Error(`npm start exited; see ${logFile}`);
        },
    });

    const rows = ["| during | ordinary requests | failed | p50 ms | p99 ms | max ms |", "| --- | ---: | ---: | ---: | ---: | ---: |"];
    rows.push(summary("no attack", await probeUntil(port, new Promise((r) => setTimeout(r, Math.min(10, seconds) * 1000)))));
    console.log(rows.join("\n"));
    for (const attack of ATTACKS) {
        const finished = runAttack(tool, attack, port);
        const samples = await probeUntil(port, finished);
        rows.push(summary(attack.name, samples));
        console.log(rows[rows.length - 1]);
        // Let the gateway close what the attack left before the next one.
        await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(`\n${seconds} s per attack; ${shedCounts(logFile)}; logs in ${work}\n`);
    console.log(rows.join("\n"));
}

function cleanup(): void {
    for (const child of children) {
        if (child.exitCode === null) {
            try {
                // `npm start` runs the services as its children: stop the whole group it leads.
                process.kill(child === children[0] ? -child.pid! : child.pid!, "SIGTERM");
            } catch {
                // Already gone.
            }
        }
    }
}

main().then(cleanup, (err: Error) => {
    console.error(err.message);
    cleanup();
    process.exitCode = 1;
});
