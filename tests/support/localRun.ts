/**
 * `npm start` as a user runs it: `scripts/start.ts` in a process group of its own (as a terminal or a
 * supervisor starts it), on a loopback port, with a data directory of the test's; and a stream of POSTs
 * whose every outcome is written down, to compare with what the database holds afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { Client } from "pg";

const ROOT = path.resolve(__dirname, "../..");

export interface Run {
    child: ChildProcess;
    /** What the run printed, stdout and stderr together. */
    output(): string;
    /** Resolves with the exit code (or the signal's name) once the process has exited. */
    exited: Promise<number | string>;
}

export interface StartedRun extends Run {
    url: string;
    /** The embedded database's loopback port, to look at the data with a client of the test's. */
    databasePort: number;
}

/** Spawns `npm start`'s entry with `args` and `env` (PORT, ...) over the test's environment. */
export function spawnRun(args: string[], env: Record<string, string | undefined> = {}): Run {
    const merged: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn", ...env };
    for (const [k, v] of Object.entries(env)) {
        if (v === undefined) {
            delete merged[k];
        }
    }
    if (!("DATABASE_URL" in env)) {
        delete merged.DATABASE_URL;
    }
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "start.ts"), ...args], {
        cwd: ROOT,
        env: merged,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
    });
    let text = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
        text += c;
    });
    child.stderr!.setEncoding("utf8").on("data", (c: string) => {
        text += c;
    });
    const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
    return { child, output: () => text, exited };
}

/** Spawns a run and resolves once it prints its banner; rejects with its output if it exits first. */
export async function startRun(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<StartedRun> {
    const run = spawnRun(args, env);
    const deadline = Date.now() + timeoutMs;
    let exitedWith: number | string | undefined;
    void run.exited.then((c) => {
        exitedWith = c;
    });
    for (;;) {
        const text = run.output();
        const api = /^\s+api\s+(http:\/\/127\.0\.0\.1:\d+)/m.exec(text);
        const db = /^\s+database\s+embedded PGlite.* on 127\.0\.0\.1:(\d+)/m.exec(text);
        if (api && db && text.includes("Try: curl")) {
            return { ...run, url: api[1], databasePort: Number(db[1]) };
        }
        if (exitedWith !== undefined || Date.now() > deadline) {
            killGroup(run, "SIGKILL");
            throw new Error(`the run ${exitedWith !== undefined ? `exited (${exitedWith})` : "did not start"}:\n${text}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** Signals the run's whole process group (`kill -<signal> -<pgid>`), as a terminal or a supervisor does. */
export function killGroup(run: Run, signal: NodeJS.Signals): void {
    try {
        process.kill(-run.child.pid!, signal);
    } catch {
        // Already gone.
    }
}

/** The pid of the run's process for a service (`services/<name>/src/main.ts`), from /proc. */
export function servicePid(run: Run, name: string): number {
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === run.child.pid && readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(path.join("services", name, "src", "main.ts"))) {
                return Number(entry);
            }
        } catch {
            // Exited meanwhile.
        }
    }
    throw new Error(`no process of ${name} under ${run.child.pid}`);
}

export interface Outcome {
    email: string;
    name: string;
    /** The status, when an answer came. */
    status?: number;
    body?: string;
    /** Why no answer came. */
    error?: string;
    /** The answer's `Connection` header. */
    connection?: string;
}

/** One POST /users on a keep-alive agent; its outcome. */
function post(url: string, agent: http.Agent, email: string, name: string): Promise<Outcome> {
    const body = JSON.stringify({ name, email, role: "member" });
    return new Promise((resolve) => {
        const req = http.request(
            `${url}/users`,
            {
                method: "POST",
                agent,
                headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
                timeout: 30_000,
            },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => {
                    text += c;
                });
                res.on("end", () => resolve({ email, name, status: res.statusCode, body: text, connection: res.headers.connection }));
                res.on("error", (err) => resolve({ email, name, error: `response cut: ${err.message}` }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("no answer within 30 s")));
        req.on("error", (err: NodeJS.ErrnoException) => resolve({ email, name, error: err.code ?? err.message }));
        req.end(body);
    });
}

/**
 * Clients that each POST new users one after another on a keep-alive connection, until `stop()` or until
 * the gateway refuses connections. Every request's outcome is kept.
 */
export function postStream(url: string, tag: string, clients = 4): { outcomes: Outcome[]; stop(): Promise<Outcome[]>; acknowledged(): number } {
    const outcomes: Outcome[] = [];
    let stopped = false;
    const worker = async (n: number) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        let refused = 0;
        for (let i = 0; !stopped && refused < 3; i++) {
            const outcome = await post(url, agent, `${tag}-${n}-${i}@example.com`, `Stream ${tag} ${n} ${i}`);
            outcomes.push(outcome);
            refused = outcome.error === "ECONNREFUSED" ? refused + 1 : 0;
            if (outcome.error === "ECONNREFUSED") {
                await new Promise((r) => setTimeout(r, 50));
            }
        }
        agent.destroy();
    };
    const workers = Array.from({ length: clients }, (_, n) => worker(n));
    return {
        outcomes,
        acknowledged: () => outcomes.filter((o) => o.status === 201).length,
        stop: async () => {
            stopped = true;
            await Promise.all(workers);
            return outcomes;
        },
    };
}

/** The users whose e-mail starts with `tag`, read straight from the embedded database. */
export async function storedUsers(databasePort: number, tag: string): Promise<Map<string, { name: string; role: string }>> {
    const client = new Client({ host: "127.0.0.1", port: databasePort, user: "postgres", password: "postgres", database: "postgres" });
    await client.connect();
    try {
        const { rows } = await client.query<{ name: string; email: string; role: string }>("SELECT name, email, role FROM users WHERE email LIKE $1", [
            `${tag}-%`,
        ]);
        return new Map(rows.map((r) => [r.email, { name: r.name, role: r.role }]));
    } finally {
        await client.end();
    }
}

/**
 * What the stored users must be after a stream: every acknowledged (201) record there and whole, no
 * record that was not sent, and, when `unansweredAbsent`, none of the requests that got no answer or an
 * error answer (a request the system executes gets its answer).
 */
export function ledgerProblems(outcomes: Outcome[], stored: Map<string, { name: string; role: string }>, unansweredAbsent: boolean): string[] {
    const problems: string[] = [];
    const sent = new Map(outcomes.map((o) => [o.email, o]));
    for (const o of outcomes) {
        const row = stored.get(o.email);
        if (o.status === 201 && (!row || row.name !== o.name || row.role !== "member")) {
            problems.push(`${o.email}: acknowledged with 201 but ${row ? `stored as ${JSON.stringify(row)}` : "not stored"}`);
        }
        if (unansweredAbsent && o.status !== 201 && row) {
            problems.push(`${o.email}: stored, but its client got ${o.status !== undefined ? `${o.status} ${o.body}` : `no answer (${o.error})`}`);
        }
    }
    for (const [email, row] of stored) {
        const o = sent.get(email);
        if (!o || o.name !== row.name) {
            problems.push(`${email}: stored as ${JSON.stringify(row)}, which no request sent`);
        }
    }
    return problems;
}
