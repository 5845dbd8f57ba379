/**
 * When a job runs next, for the local run (`npm start`), which has no EventBridge Scheduler: the next time an
 * expression fires after a given instant, in UTC, as Scheduler reads `cron(...)` and `rate(...)`
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html): six cron fields, minutes hours
 * day-of-month month day-of-week year, day-of-week 1-7 from Sunday (or SUN-SAT), months 1-12 (or JAN-DEC), and
 * one of the two day fields `?`. A rate fires every interval from when the schedule starts.
 *
 * Pure. The catalogue has checked the expression (catalog/jobs.ts); `L`, `W` and `#` are left to AWS: the local
 * run names them and runs such a job on demand only.
 */

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface Field {
    min: number;
    max: number;
    /** Names for the values from `min` on. */
    names?: readonly string[];
}

const FIELDS: readonly Field[] = [
    { min: 0, max: 59 },
    { min: 0, max: 23 },
    { min: 1, max: 31 },
    { min: 1, max: 12, names: MONTHS },
    { min: 1, max: 7, names: DAYS },
    { min: 1970, max: 2199 },
];

/** A schedule the local run can follow: either an interval, or the values each cron field allows. */
export type LocalSchedule = { kind: "rate"; intervalMs: number } | { kind: "cron"; fields: ReadonlyArray<ReadonlySet<number> | "any"> };

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The schedule of an expression, or a reason the local run cannot follow it. */
export function localSchedule(expression: string): LocalSchedule | { problem: string } {
    const rate = RATE.exec(expression);
    if (rate) {
        return { kind: "rate", intervalMs: Number(rate[1]) * UNIT_MS[rate[2].replace(/s$/, "")] };
    }
    const cron = /^cron\((.*)\)$/.exec(expression);
    const parts = cron?.[1].trim().split(/\s+/) ?? [];
    if (parts.length !== 6) {
        return { problem: `${expression} is neither cron(...) with six fields nor rate(...)` };
    }
    const fields: Array<ReadonlySet<number> | "any"> = [];
    for (const [i, text] of parts.entries()) {
        const values = fieldValues(text.toUpperCase(), FIELDS[i]);
        if (values !== "any" && typeof values === "string") {
            return { problem: values };
        }
        fields.push(values);
    }
    return { kind: "cron", fields };
}

function fieldValues(text: string, field: Field): ReadonlySet<number> | "any" | string {
    if (text === "*" || text === "?") {
        return "any";
    }
    if (/[LW#]/.test(text.replace(/[A-Z]{3}/g, (n) => (field.names?.includes(n) ? "" : n)))) {
        return `"${text}" uses L, W or #, which only EventBridge Scheduler computes`;
    }
    const value = (v: string): number => {
        const named = field.names?.indexOf(v) ?? -1;
        return named >= 0 ? field.min + named : Number(v);
    };
    const set = new Set<number>();
    for (const part of text.split(",")) {
        const [range, stepText] = part.split("/");
        const step = stepText === undefined ? 1 : Number(stepText);
        let from: number;
        let to: number;
        if (range === "*") {
            [from, to] = [field.min, field.max];
        } else if (range.includes("-")) {
            [from, to] = range.split("-").map(value);
        } else {
            from = value(range);
            to = stepText === undefined ? from : field.max;
        }
        if (![from, to, step].every(Number.isInteger) || step < 1 || from < field.min || to > field.max || from > to) {
            return `"${text}" is out of ${field.min}-${field.max}`;
        }
        for (let v = from; v <= to; v += step) {
            set.add(v);
        }
    }
    return set;
}

const has = (field: ReadonlySet<number> | "any", value: number) => field === "any" || field.has(value);

/**
 * The first run strictly after `after` (minute precision, as Scheduler fires); for a rate, one interval after
 * `after`. Undefined when the expression never fires again (a past year).
 */
export function nextRun(schedule: LocalSchedule, after: Date): Date | undefined {
    if (schedule.kind === "rate") {
        return new Date(after.getTime() + schedule.intervalMs);
    }
    const [minutes, hours, days, months, weekdays, years] = schedule.fields;
    const start = new Date(after.getTime());
    start.setUTCSeconds(0, 0);
    start.setUTCMinutes(start.getUTCMinutes() + 1);
    const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
    // Past the last year a cron field takes, nothing fires.
    for (let d = 0; day.getUTCFullYear() <= 2199 && d < 366 * 230; d++, day.setUTCDate(day.getUTCDate() + 1)) {
        if (!has(years, day.getUTCFullYear()) || !has(months, day.getUTCMonth() + 1) || !has(days, day.getUTCDate()) || !has(weekdays, day.getUTCDay() + 1)) {
            continue;
        }
        const first = day.getTime() === Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
        for (let h = first ? start.getUTCHours() : 0; h < 24; h++) {
            if (!has(hours, h)) {
                continue;
            }
            for (let m = first && h === start.getUTCHours() ? start.getUTCMinutes() : 0; m < 60; m++) {
                if (has(minutes, m)) {
                    return new Date(day.getTime() + h * 3_600_000 + m * 60_000);
                }
            }
        }
    }
    return undefined;
}

/** Days in the average month, as AWS's calculator counts (730 hours). */
const MONTH_MS = 730 * 3_600_000;

/**
 * How many times an expression fires in an average month: a rate's intervals in 730 hours, a cron's runs in a
 * year (from 2027-01-01, not a leap year) over twelve. Undefined for what the local run cannot follow either.
 */
export function runsPerMonth(expression: string): number | undefined {
    const schedule = localSchedule(expression);
    if ("problem" in schedule) {
        return undefined;
    }
    if (schedule.kind === "rate") {
        return MONTH_MS / schedule.intervalMs;
    }
    const start = Date.UTC(2027, 0, 1) - 60_000;
    const end = Date.UTC(2028, 0, 1);
    let runs = 0;
    // Every minute of the year at most: 525,600 runs.
    for (let at = nextRun(schedule, new Date(start)); at && at.getTime() < end; at = nextRun(schedule, at)) {
        runs++;
    }
    return runs / 12;
}
