/**
 * The jobs in the local run (`npm start`): each runs on its schedule, in this process's timers (the next run from
 * its expression: core/jobSchedule.ts), and on demand through a small HTTP endpoint on loopback that
 * `berth job run <job> --local` calls. A run is the job's `src/main.ts` in a child process, with the job's timeout
 * (the process is stopped past it) and retries, as the state machine does in AWS (core/jobStateMachine.ts).
 */
import { spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { CatalogJob } from "../catalog";
import { JOB_RETRY } from "../core/jobStateMachine";
import { localSchedule, nextRun } from "../core/jobSchedule";

/** What one run came to: the same fields `berth job run` prints for a run in AWS. */
export interface LocalJobOutcome {
    job: string;
    status: "SUCCEEDED" | "FAILED" | "TIMED_OUT";
    seconds: number;
    error?: string;
}

export interface LocalJobsOptions {
    jobs: readonly CatalogJob[];
    /** The repository root: a job's code is `<root>/<directory>/src/main.ts`. */
    root: string;
    /** The environment of a job's process (the local database's variables for a job that declares it). */
    env(job: CatalogJob): NodeJS.ProcessEnv;
    /** Where the jobs' lines go, prefixed with the job's name. */
    output: NodeJS.WritableStream;
    /** Also given every line, as `npm start`'s log file takes them. */
    logSink?: (name: string, line: string) => void;
    /** @default Date.now */
    now?: () => number;
    /**
     * Seconds between attempts are these times the first retry's interval: 1 keeps AWS's 10 s; tests shorten it.
     * @default 1
     */
    retryScale?: number;
}

export interface LocalJobs {
    /** Where `POST /jobs/<name>/run` runs a job now. */
    url: string;
    names: string[];
    /** When each job runs next on its schedule; undefined for one the local run does not schedule. */
    next: Map<string, Date | undefined>;
    run(name: string): Promise<LocalJobOutcome>;
    stop(): Promise<void>;
}

/** The longest delay Node's timers take (2^31-1 ms, about 24.8 days); a later run is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The jobs' run: its options, armed timers, running processes and next runs. */
interface JobsState {
    options: LocalJobsOptions;
    now: () => number;
    timers: Set<NodeJS.Timeout>;
    running: Set<ReturnType<typeof spawn>>;
    next: Map<string, Date | undefined>;
    stopped: boolean;
}

function prefixJobLines(state: JobsState, job: CatalogJob, stream: NodeJS.ReadableStream): void {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
            state.options.output.write(`${job.name.padEnd(10)}| ${line}\n`);
            state.options.logSink?.(job.name, line);
        }
    });
}

/** One process of the job; SIGTERM when it runs past `deadline`. */
function attempt(state: JobsState, job: CatalogJob, deadline: number): Promise<{ code: number | null; timedOut: boolean }> {
    const { options, now, running } = state;
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(options.root, job.directory, "src", "main.ts")], {
            cwd: options.root,
            env: options.env(job),
            stdio: ["ignore", "pipe", "pipe"],
        });
        running.add(child);
        for (const stream of [child.stdout!, child.stderr!]) {
            prefixJobLines(state, job, stream);
        }
        let timedOut = false;
        const timer = setTimeout(
            () => {
                timedOut = true;
                child.kill("SIGTERM");
            },
            Math.max(0, deadline - now()),
        );
        child.once("exit", (code) => {
            clearTimeout(timer);
            running.delete(child);
            resolve({ code, timedOut });
        });
    });
}

/** Runs the job until it succeeds, times out or has used its retries, waiting longer before each retry. */
async function runJob(state: JobsState, name: string): Promise<LocalJobOutcome> {
    const { options, now } = state;
    const job = options.jobs.find((j) => j.name === name);
    if (!job) {
        throw new Error(`job ${JSON.stringify(name)} not found; jobs: ${options.jobs.map((j) => j.name).join(", ") || "none"}`);
    }
    const started = now();
    const deadline = started + job.timeoutSeconds * 1000;
    const seconds = () => Math.round((now() - started) / 1000);
    let wait = JOB_RETRY.intervalSeconds * 1000 * (options.retryScale ?? 1);
    for (let i = 0; ; i++) {
        const { code, timedOut } = await attempt(state, job, deadline);
        if (timedOut) {
            return { job: name, status: "TIMED_OUT", seconds: seconds(), error: `past its timeout of ${job.timeoutSeconds} s` };
        }
        if (code === 0) {
            return { job: name, status: "SUCCEEDED", seconds: seconds() };
        }
        if (i >= job.retries || state.stopped || now() + wait >= deadline) {
            return { job: name, status: "FAILED", seconds: seconds(), error: `exit code ${code}${i > 0 ? ` after ${i + 1} attempts` : ""}` };
        }
        await new Promise((r) => setTimeout(r, wait));
        wait *= JOB_RETRY.backoffRate;
    }
}

function report(state: JobsState, outcome: LocalJobOutcome): void {
    state.options.output.write(`${outcome.job.padEnd(10)}| run ${outcome.status} in ${outcome.seconds} s${outcome.error ? `: ${outcome.error}` : ""}\n`);
}

function arm(state: JobsState, ms: number, fn: () => void): void {
    const timer = setTimeout(
        () => {
            state.timers.delete(timer);
            fn();
        },
        Math.max(0, ms),
    );
    state.timers.add(timer);
}

/** Runs the job at each time its schedule names, from now on; a schedule the local run cannot follow is said so. */
function schedule(state: JobsState, job: CatalogJob): void {
    const { options, now, next } = state;
    const parsed = localSchedule(job.schedule);
    if ("problem" in parsed) {
        next.set(job.name, undefined);
        options.output.write(`${job.name.padEnd(10)}| not scheduled locally (${parsed.problem}); berth job run ${job.name} --local runs it\n`);
        return;
    }
    const plan = (after: number) => {
        const at = nextRun(parsed, new Date(after));
        next.set(job.name, at);
        if (at === undefined || state.stopped) {
            return;
        }
        const wake = () => {
            if (now() < at.getTime()) {
                arm(state, Math.min(at.getTime() - now(), MAX_TIMER_MS), wake);
                return;
            }
            void runJob(state, job.name)
                .then(
                    (outcome) => report(state, outcome),
                    (e: Error) => options.output.write(`${job.name.padEnd(10)}| ${e.message}\n`),
                )
                .finally(() => plan(at.getTime()));
        };
        arm(state, Math.min(at.getTime() - now(), MAX_TIMER_MS), wake);
    };
    plan(now());
}

/** `POST /jobs/<name>/run`: runs the job now and answers its outcome. */
function handle(state: JobsState, req: http.IncomingMessage, res: http.ServerResponse): void {
    const { options } = state;
    const match = /^\/jobs\/([^/]+)\/run$/.exec(req.url ?? "");
    const answer = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
    };
    if (!match) {
        return answer(404, { error: "not found; POST /jobs/<job>/run" });
    }
    if (req.method !== "POST") {
        res.setHeader("allow", "POST");
        return answer(405, { error: "method not allowed; POST /jobs/<job>/run" });
    }
    const name = decodeURIComponent(match[1]);
    if (!options.jobs.some((j) => j.name === name)) {
        return answer(404, { error: `job ${JSON.stringify(name)} not found; jobs: ${options.jobs.map((j) => j.name).join(", ") || "none"}` });
    }
    runJob(state, name).then(
        (outcome) => {
            report(state, outcome);
            answer(200, outcome);
        },
        (e: Error) => answer(500, { error: e.message }),
    );
}

export async function startLocalJobs(options: LocalJobsOptions): Promise<LocalJobs> {
    const state: JobsState = { options, now: options.now ?? Date.now, timers: new Set(), running: new Set(), next: new Map(), stopped: false };
    const server = http.createServer((req, res) => handle(state, req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    for (const job of options.jobs) {
        schedule(state, job);
    }
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        names: options.jobs.map((j) => j.name),
        next: state.next,
        run: (name) => runJob(state, name),
        stop: async () => {
            state.stopped = true;
            for (const t of state.timers) {
                clearTimeout(t);
            }
            for (const child of state.running) {
                child.kill("SIGTERM");
            }
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
