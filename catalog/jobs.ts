/**
 * Jobs: tasks run on a schedule, AWS Copilot's "Scheduled Job". A job has no port and no load balancer; EventBridge
 * Scheduler starts a Step Functions state machine on its schedule, and the state machine runs one Fargate task
 * of the job's image with its timeout and retries (components/jobs/scheduledJob.ts). Locally, `npm start` runs
 * it on the same schedule, and `berth job run <name>` runs it now.
 *
 * Pure: the catalogue's validation, with the same grammar as the services'.
 */
import { describeFargateMemory, isFargateSize } from "../core/fargate";
import type { Platform } from "../core/platform";
import { scheduleExpressionProblem } from "../core/schedule";

/** A job as the catalogue declares it. */
export interface JobDeclaration {
    /**
     * The folder under `services/` and the base of every AWS name of the job: lowercase letters, digits and
     * hyphens, starting with a letter, at most 16 characters, and no service's name.
     */
    name: string;
    /** Copilot's "Scheduled Job". */
    kind: "job";
    /**
     * When it runs, as EventBridge Scheduler reads it, in UTC: `cron(minutes hours day-of-month month day-of-week
     * year)` or `rate(value unit)` (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
     * @example "cron(0 3 * * ? *)"
     * @example "rate(1 day)"
     */
    schedule: string;
    /**
     * How long one run may take, every attempt included, as `<n>h`, `<n>m`, `<n>s` or a sum such as `1h30m`,
     * from 1 minute to 24 hours: past it the run fails and its task is stopped.
     * @default "1h"
     */
    timeout?: string;
    /**
     * Attempts after a failed one, 0-10, 10 s apart and then 1.5 times longer each (Copilot's backoff).
     * @default 0
     */
    retries?: number;
    /**
     * Task CPU units (1024 = 1 vCPU); with `memory`, a pair Fargate accepts.
     * @default 256
     */
    cpu?: number;
    /**
     * Task memory in MiB.
     * @default 512
     */
    memory?: number;
    /**
     * The command, replacing the image's `CMD`.
     * @default the image's own
     */
    command?: string[];
    /**
     * The job connects to the stack's PostgreSQL database, with the same variables as a service (`DB_HOST`, ...).
     * @default undefined: no database
     */
    database?: true;
    /**
     * The CPU architecture the image is built for.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /**
     * The non-root `uid:gid` the image runs as.
     * @default "10001:10001"
     */
    user?: string;
}

/** A job with every default applied. */
export interface CatalogJob {
    readonly name: string;
    readonly kind: "job";
    readonly schedule: string;
    /** The declared timeout, in seconds. */
    readonly timeoutSeconds: number;
    readonly retries: number;
    readonly cpu: number;
    readonly memory: number;
    readonly command?: readonly string[];
    readonly database: boolean;
    readonly platform: Platform;
    readonly user: string;
    /** The folder of the job's code, relative to the repository root. */
    readonly directory: string;
    /** The image's build context and Dockerfile, relative to the repository root. */
    readonly build: { readonly context: string; readonly dockerfile: string };
}

/** The most retries a job declares. */
export const MAX_JOB_RETRIES = 10;
/** The bounds of a job's timeout, in seconds: a Fargate task takes most of a minute to start. */
export const JOB_TIMEOUT_BOUNDS = { min: 60, max: 24 * 3600 } as const;

const NAME = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `1h30m` in seconds; undefined when it is not a duration of hours, minutes and seconds. */
export function durationSeconds(text: string): number | undefined {
    const match = DURATION.exec(text);
    if (!match || text === "") {
        return undefined;
    }
    const [h, m, s] = match.slice(1).map((v) => Number(v ?? 0));
    return h * 3600 + m * 60 + s;
}

/** Why a job's schedule is not one Berth runs, or undefined: cron or rate, as Application Auto Scaling's check reads them. */
export function jobScheduleProblem(schedule: unknown): string | undefined {
    if (typeof schedule !== "string" || !/^(cron|rate)\(/.test(schedule)) {
        return "cron(minutes hours day-of-month month day-of-week year) or rate(value unit), e.g. cron(0 3 * * ? *) or rate(1 day)";
    }
    return scheduleExpressionProblem(schedule);
}

/**
 * Applies defaults and checks the jobs; throws an error that names the job and the field, in the catalogue's
 * grammar. `serviceNames` are taken: a job's AWS names (log group, repository, task family) would collide.
 */
export function resolveJobs(decls: readonly JobDeclaration[], serviceNames: readonly string[]): CatalogJob[] {
    const seen = new Set<string>();
    return decls.map((d): CatalogJob => {
        const where = `catalog/index.ts: job "${d.name}"`;
        if (!NAME.test(d.name)) {
            throw new Error(`${where}: "name" must be 1-16 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`);
        }
        if (seen.has(d.name) || serviceNames.includes(d.name)) {
            throw new Error(`${where}: "name" is ${seen.has(d.name) ? "declared twice" : "a service's"}; a job needs a name of its own`);
        }
        seen.add(d.name);
        if (d.kind !== "job") {
            throw new Error(`${where}: "kind" is ${JSON.stringify(d.kind)}; allowed: "job"`);
        }
        const problem = jobScheduleProblem(d.schedule);
        if (problem !== undefined) {
            throw new Error(
                `${where}: "schedule" is ${JSON.stringify(d.schedule)}; allowed: ${problem.startsWith("cron(") ? problem : `a valid expression (${problem})`}`,
            );
        }
        const timeoutSeconds = durationSeconds(d.timeout ?? "1h");
        if (timeoutSeconds === undefined || timeoutSeconds < JOB_TIMEOUT_BOUNDS.min || timeoutSeconds > JOB_TIMEOUT_BOUNDS.max) {
            throw new Error(`${where}: "timeout" is ${JSON.stringify(d.timeout)}; allowed: a duration such as "30m", "2h" or "1h30m", from 1m to 24h`);
        }
        const retries = d.retries ?? 0;
        if (!Number.isInteger(retries) || retries < 0 || retries > MAX_JOB_RETRIES) {
            throw new Error(`${where}: "retries" is ${JSON.stringify(d.retries)}; allowed: a whole number from 0 to ${MAX_JOB_RETRIES}`);
        }
        const cpu = d.cpu ?? 256;
        const memory = d.memory ?? 512;
        if (!isFargateSize(cpu, memory)) {
            throw new Error(`${where}: "cpu" and "memory" are ${cpu} and ${memory}; allowed: a pair Fargate runs (${describeFargateMemory(cpu)})`);
        }
        if (d.command !== undefined && !(Array.isArray(d.command) && d.command.length > 0 && d.command.every((c) => typeof c === "string" && c.length > 0))) {
            throw new Error(`${where}: "command" is ${JSON.stringify(d.command)}; allowed: a command as a list of strings, such as ["node", "main.js"]`);
        }
        const user = d.user ?? "10001:10001";
        if (!/^\d+:\d+$/.test(user) || /^0:/.test(user)) {
            throw new Error(`${where}: "user" is ${JSON.stringify(d.user)}; allowed: a non-root uid:gid such as 10001:10001`);
        }
        return {
            name: d.name,
            kind: "job",
            schedule: d.schedule,
            timeoutSeconds,
            retries,
            cpu,
            memory,
            command: d.command,
            database: d.database === true,
            platform: d.platform ?? "linux/amd64",
            user,
            directory: `services/${d.name}`,
            build: { context: ".", dockerfile: `services/${d.name}/Dockerfile` },
        };
    });
}
