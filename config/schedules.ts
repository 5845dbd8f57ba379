/** `berth:scaleSchedules`: scheduled changes of the services' task-count bounds. */
import { z } from "zod";
import { isTimeZone, scheduleExpressionProblem, type ScaleSchedule } from "../core/schedule";
import type { CatalogService } from "../catalog";
import { MAX_TASKS, TASK_COUNT, TASK_COUNT_ALLOWED, wholeNumber } from "./parsers";

const scheduleShape = z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9-]{1,40}$/),
    schedule: z.string(),
    timezone: z.string().optional(),
    minCount: TASK_COUNT,
    maxCount: wholeNumber(0, MAX_TASKS).optional(),
    services: z.array(z.string()).min(1).optional(),
});

const SCHEDULE_FIELDS: Record<string, string> = {
    name: "letters, digits and hyphens, at most 40, unique among the schedules",
    schedule: "cron(minutes hours day-of-month month day-of-week year), at(yyyy-mm-ddThh:mm:ss) or rate(5 minutes)",
    timezone: "an IANA time zone such as Europe/Berlin (default UTC)",
    minCount: TASK_COUNT_ALLOWED,
    maxCount: `a whole number from 0 to ${MAX_TASKS}, at least minCount`,
    services: "a non-empty list of catalogue service names",
};

/**
 * `scaleSchedules`: a list such as
 * `[{"name": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "timezone": "Europe/Berlin", "minCount": 0, "maxCount": 0}]`.
 */
export function parseSchedules(key: string, text: string, services: readonly CatalogService[], problems: string[]): ScaleSchedule[] {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = undefined;
    }
    if (!Array.isArray(value)) {
        problems.push(
            `${key} is ${JSON.stringify(text)}; allowed: a list such as [{"name": "night", "schedule": "cron(0 20 ? * MON-FRI *)", "minCount": 0, "maxCount": 0}]`,
        );
        return [];
    }
    const names = services.map((s) => s.name);
    const out: ScaleSchedule[] = [];
    const seen = new Set<string>();
    for (const [i, entry] of value.entries()) {
        const where = `${key}[${i}]`;
        const result = scheduleShape.safeParse(entry);
        if (!result.success) {
            for (const issue of result.error.issues) {
                const field = String(issue.path[0] ?? "");
                problems.push(
                    issue.code === "unrecognized_keys"
                        ? `${where} has unknown keys ${issue.keys.join(", ")}; allowed: ${Object.keys(SCHEDULE_FIELDS).join(", ")}`
                        : field
                          ? `${where}.${field} is ${JSON.stringify((entry as Record<string, unknown>)[field])}; allowed: ${SCHEDULE_FIELDS[field] ?? issue.message}`
                          : `${where} is ${JSON.stringify(entry)}; allowed: an object with ${Object.keys(SCHEDULE_FIELDS).join(", ")}`,
                );
            }
            continue;
        }
        const schedule = result.data;
        const before = problems.length;
        const expressionProblem = scheduleExpressionProblem(schedule.schedule);
        if (expressionProblem) {
            problems.push(`${where}.schedule is ${JSON.stringify(schedule.schedule)}: ${expressionProblem}; allowed: ${SCHEDULE_FIELDS.schedule}`);
        }
        if (schedule.timezone !== undefined && !isTimeZone(schedule.timezone)) {
            problems.push(`${where}.timezone is ${JSON.stringify(schedule.timezone)}; allowed: ${SCHEDULE_FIELDS.timezone}`);
        }
        if (schedule.maxCount !== undefined && schedule.maxCount < schedule.minCount) {
            problems.push(`${where}.maxCount is ${schedule.maxCount}, below its minCount ${schedule.minCount}; allowed: at least minCount`);
        }
        for (const service of schedule.services ?? []) {
            if (!names.includes(service)) {
                problems.push(`${where}.services names ${JSON.stringify(service)}, no service of the catalogue; allowed: ${names.join(", ")}`);
            }
        }
        if (seen.has(schedule.name)) {
            problems.push(`${where}.name is ${JSON.stringify(schedule.name)}, which an earlier schedule has; allowed: ${SCHEDULE_FIELDS.name}`);
        }
        seen.add(schedule.name);
        if (problems.length === before) {
            out.push(schedule);
        }
    }
    return out;
}
