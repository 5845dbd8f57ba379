/**
 * `berth job run <name>`: runs a job now, as its schedule would (Copilot's `job run`), and waits for the outcome.
 * On a stack it starts the job's state machine (the stack output `jobs`), so the run has the timeout and retries
 * of the scheduled ones; with `--local` it asks the local run (`npm start`) to run it once.
 *
 * Exit codes: 0 the run succeeded, 1 it failed, timed out or was stopped, 2 no answer (unknown job, no stack,
 * AWS refused, waiting interrupted).
 */
import { readLocalRun } from "./local";
import { CliError, EXIT, type AwsApis, type Deps, type StackOutputs, type StackView } from "./context";

/** How often the execution's status is read: Step Functions' runs of a Fargate task take minutes. */
export const JOB_POLL_INTERVAL_MS = 5000;

/** Statuses of an execution that has ended (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html). */
const ENDED = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

/** What one run came to, as `--json` prints it. */
export interface JobOutcome {
    job: string;
    status: string;
    seconds: number;
    error?: string;
    cause?: string;
    executionArn?: string;
}

export async function jobRun(deps: Deps, stack: StackView, aws: AwsApis, name: string | undefined, asJson: boolean): Promise<number> {
    const job = jobOutput((await stack.outputs()) as StackOutputs, stack.name, name);
    const started = deps.now();
    deps.term.progress(`Starting job ${name}`);
    const { executionArn } = await aws.sfn.startExecution({ stateMachineArn: job.stateMachineArn, name: executionName(started), input: "{}" });
    for (;;) {
        const execution = await aws.sfn.describeExecution({ executionArn });
        const status = execution.status ?? "UNKNOWN";
        const seconds = Math.round((deps.now() - started) / 1000);
        if (ENDED.includes(status)) {
            return report(deps, { job: name!, status, seconds, error: execution.error, cause: execution.cause, executionArn }, asJson, job.logGroupName);
        }
        deps.term.progress(`job ${name}: ${status} for ${duration(seconds)}`);
        await deps.sleep(JOB_POLL_INTERVAL_MS, deps.interrupted);
        if (deps.interrupted.aborted) {
            throw new CliError(`stopped waiting; the run goes on (execution ${executionArn})`);
        }
    }
}

/** `--local`: the local run (`npm start`) runs the job once, in the same way as on its schedule, and answers when it ends. */
export async function localJobRun(deps: Deps, name: string | undefined, asJson: boolean): Promise<number> {
    if (!name) {
        throw new CliError("which job? berth job run <name>");
    }
    const run = readLocalRun(deps);
    if (!run.jobs || !run.jobs.names.includes(name)) {
        throw new CliError(`job ${JSON.stringify(name)} not found in the local run; jobs: ${run.jobs?.names.join(", ") || "none"}`);
    }
    deps.term.progress(`Running job ${name} in the local run (npm start, pid ${run.pid})`);
    const response = await deps.fetch(`${run.jobs.url}/jobs/${encodeURIComponent(name)}/run`, { method: "POST", signal: deps.interrupted });
    const body = (await response.json()) as JobOutcome | { error: string };
    if (!response.ok || !("status" in body)) {
        throw new CliError(`the local run could not run job ${name}: ${"error" in body ? body.error : `HTTP ${response.status}`}`);
    }
    return report(deps, body, asJson, "the local run's log (berth logs " + name + " --local)");
}

function jobOutput(outputs: StackOutputs, stack: string, name: string | undefined): { stateMachineArn: string; logGroupName?: string } {
    const jobs = outputs.jobs ?? {};
    if (!name) {
        throw new CliError(`which job? berth job run <name>; jobs in stack ${stack}: ${Object.keys(jobs).join(", ") || "none"}`);
    }
    const found = jobs[name];
    if (!found?.stateMachineArn) {
        const known = Object.keys(jobs);
        throw new CliError(
            `job ${JSON.stringify(name)} not found in stack ${stack}; jobs: ${known.length > 0 ? known.join(", ") : "none (has the stack been deployed?)"}`,
        );
    }
    return { stateMachineArn: found.stateMachineArn, logGroupName: found.logGroupName };
}

/** A name of its own for each run: Step Functions refuses a name used in the last 90 days. */
function executionName(now: number): string {
    const stamp = new Date(now)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
    return `berth-run-${stamp}-${Math.random().toString(16).slice(2, 8)}`;
}

function report(deps: Deps, outcome: JobOutcome, asJson: boolean, logs: string | undefined): number {
    const ok = outcome.status === "SUCCEEDED";
    if (asJson) {
        deps.term.out(JSON.stringify(outcome, null, 2));
        return ok ? EXIT.ok : EXIT.unhealthy;
    }
    const took = duration(outcome.seconds);
    const what: Record<string, string> = {
        SUCCEEDED: `succeeded in ${took}`,
        FAILED: `failed after ${took}`,
        TIMED_OUT: `timed out after ${took} (its timeout, every attempt included)`,
        ABORTED: `was stopped after ${took}`,
    };
    deps.term.out(`job ${outcome.job} ${what[outcome.status] ?? `ended ${outcome.status} after ${took}`}`);
    if (!ok) {
        const cause = (outcome.cause ?? "").split("\n")[0];
        if (outcome.error || cause) {
            deps.term.out(`  ${[outcome.error, cause.length > 300 ? `${cause.slice(0, 300)}...` : cause].filter(Boolean).join(": ")}`);
        }
        if (logs) {
            deps.term.out(`  logs: ${logs}`);
        }
    }
    return ok ? EXIT.ok : EXIT.unhealthy;
}

function duration(seconds: number): string {
    return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}
