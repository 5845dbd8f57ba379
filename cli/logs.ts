/**
 * `berth logs <service>` (Copilot's `svc logs`): the service's log group, all its tasks or one, from
 * `--since` ago; `--follow` keeps polling until Ctrl-C. `--filter` is a CloudWatch Logs filter pattern
 * (a term, `"an exact phrase"`, or `{ $.level >= 50 }` on the JSON lines:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
 */
import type { FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { CliError, EXIT, serviceOutput, type AwsApis, type Deps, type StackOutputs, type StackView } from "./context";

/** How often `--follow` asks again: a few seconds keeps a tail live and well inside FilterLogEvents' quota. */
export const FOLLOW_INTERVAL_MS = 2000;
const DEFAULT_SINCE = "10m";

export interface LogsOptions {
    since?: string;
    filter?: string;
    task?: string;
    follow?: boolean;
    json?: boolean;
}

/** One line of a service's log, wherever it comes from (CloudWatch Logs or the local run's file). */
export interface LogLine {
    timestamp: number;
    /** The task ID (the last part of the awslogs stream name), or the local process. */
    task: string;
    message: string;
    /** As CloudWatch gives it, for `--json`. */
    raw: Record<string, unknown>;
}

export async function logs(deps: Deps, stack: StackView, aws: AwsApis, service: string | undefined, options: LogsOptions): Promise<number> {
    if (!service) {
        throw new CliError("logs needs a service: berth logs <service> [--follow] [--since 10m] [--filter pattern] [--json]");
    }
    const outputs = (await stack.outputs()) as StackOutputs;
    // A job's task logs like a service's (docs/jobs.md).
    const job = outputs.jobs?.[service];
    const logGroupName = job ? job.logGroupName : serviceOutput(outputs, stack.name, service).logGroupName;
    if (!logGroupName) {
        throw new CliError(`stack ${stack.name} has no services.${service}.logGroupName output; has it been deployed?`);
    }
    let startTime = deps.now() - sinceMs(options.since ?? DEFAULT_SINCE);
    deps.term.progress(`Reading ${logGroupName}${options.follow ? ", then following it (Ctrl-C ends)" : ""}`);
    // Events at the last timestamp seen are asked for again on the next poll; their IDs keep them from repeating.
    let seenAtStart = new Set<string>();
    for (;;) {
        let nextToken: string | undefined;
        const batch: FilteredLogEvent[] = [];
        do {
            const page = await aws.logs.filterLogEvents({ logGroupName, startTime, filterPattern: options.filter, nextToken });
            batch.push(...(page.events ?? []));
            nextToken = page.nextToken;
        } while (nextToken && !deps.interrupted.aborted);
        batch.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
        const fresh = batch.filter((e) => !seenAtStart.has(e.eventId ?? ""));
        for (const event of fresh) {
            const line: LogLine = {
                timestamp: event.timestamp ?? 0,
                task: taskOf(event.logStreamName ?? ""),
                message: event.message ?? "",
                raw: { logStreamName: event.logStreamName, timestamp: event.timestamp, ingestionTime: event.ingestionTime, message: event.message },
            };
            if (!options.task || line.task.startsWith(options.task)) {
                deps.term.out(options.json ? JSON.stringify(line.raw) : formatLine(line));
            }
        }
        if (!options.follow || deps.interrupted.aborted) {
            return EXIT.ok;
        }
        if (fresh.length > 0) {
            const last = fresh[fresh.length - 1].timestamp ?? startTime;
            const atLast = fresh.filter((e) => e.timestamp === last).map((e) => e.eventId ?? "");
            seenAtStart = new Set([...(last === startTime ? seenAtStart : []), ...atLast]);
            startTime = last;
        }
        await deps.sleep(FOLLOW_INTERVAL_MS, deps.interrupted);
        if (deps.interrupted.aborted) {
            return EXIT.ok;
        }
    }
}

/** `30s`, `10m`, `2h`, `1d` in milliseconds. */
export function sinceMs(text: string): number {
    const match = /^(\d+)(s|m|h|d)$/.exec(text);
    if (!match || Number(match[1]) === 0) {
        throw new CliError(`--since is ${JSON.stringify(text)}; allowed: a duration such as 30s, 10m, 2h or 1d`);
    }
    return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
}

/** awslogs names a stream `<prefix>/<container>/<task ID>`. */
function taskOf(streamName: string): string {
    return streamName.split("/").pop() ?? streamName;
}

/** pino's numeric levels. */
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** Fields each line shows in its own columns, or that say nothing on a terminal. */
const SHOWN = new Set(["level", "time", "msg", "message", "pid", "hostname"]);

/** `<time> <task> <LEVEL> <message> <other fields as compact JSON>`; a line that is not JSON stays as it is. */
export function formatLine(line: LogLine): string {
    const time = new Date(line.timestamp).toISOString();
    const task = line.task.slice(0, 8).padEnd(8);
    let parsed: unknown;
    try {
        parsed = JSON.parse(line.message);
    } catch {
        parsed = undefined;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        return `${time} ${task} ${"-".padEnd(5)} ${line.message.trimEnd()}`;
    }
    const fields = parsed as Record<string, unknown>;
    const level = typeof fields.level === "number" ? (LEVELS[fields.level] ?? String(fields.level)) : String(fields.level ?? "-").toUpperCase();
    const message = String(fields.msg ?? fields.message ?? "");
    const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => !SHOWN.has(k)));
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
    return `${time} ${task} ${level.padEnd(5)} ${message}${extra}`;
}
