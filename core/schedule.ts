/**
 * Scheduled scaling: the shape of one scheduled change of a service's task-count bounds, and the checks
 * that Application Auto Scaling would otherwise make only at `pulumi up`. Pure: config/ validates stack
 * settings with it, autoscaling.ts turns it into `aws.appautoscaling.ScheduledAction`s.
 *
 * Application Auto Scaling takes `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` and
 * `cron(minutes hours day-of-month month day-of-week year)`, in UTC unless a time zone is given by its
 * IANA name (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html,
 * https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html). Its cron
 * fields are EventBridge's: six of them, and one of day-of-month and day-of-week must be `?`.
 */
import cronValidate from "cron-validate";

/** One scheduled change of a service's task-count bounds. */
export interface ScaleSchedule {
    /** A name unique among the stack's schedules: letters, digits and hyphens, at most 40. */
    name: string;
    /**
     * When: `cron(...)` (repeating), `at(...)` (once) or `rate(...)`.
     * @example "cron(0 20 ? * MON-FRI *)"
     */
    schedule: string;
    /**
     * The IANA time zone `cron` and `at` are read in.
     * @default "UTC"
     */
    timezone?: string;
    /** The new floor (and, with autoscaling off, the task count). */
    minCount: number;
    /**
     * The new ceiling.
     * @default the service's own maxCount
     */
    maxCount?: number;
    /**
     * The services it applies to.
     * @default every service of the catalogue
     */
    services?: string[];
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const CRON = /^cron\((.*)\)$/;

/** Why a schedule expression is not one Application Auto Scaling takes, or undefined when it is. */
export function scheduleExpressionProblem(expression: string): string | undefined {
    const rate = RATE.exec(expression);
    if (rate) {
        const value = Number(rate[1]);
        const plural = rate[2].endsWith("s");
        if (value < 1) {
            return "a rate must be at least 1";
        }
        // AWS's own rule: "rate(1 hour)" but "rate(5 hours)".
        if ((value === 1) === plural) {
            return `write rate(${value} ${value === 1 ? rate[2].replace(/s$/, "") : rate[2].replace(/s?$/, "s")})`;
        }
        return undefined;
    }
    const at = AT.exec(expression);
    if (at) {
        const [y, mo, d, h, mi, s] = at.slice(1).map(Number);
        const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
        const real =
            date.getUTCFullYear() === y &&
            date.getUTCMonth() === mo - 1 &&
            date.getUTCDate() === d &&
            date.getUTCHours() === h &&
            date.getUTCMinutes() === mi &&
            date.getUTCSeconds() === s;
        return real ? undefined : "that date or time does not exist";
    }
    const cron = CRON.exec(expression);
    if (cron) {
        const result = cronValidate(cron[1].trim(), { preset: "aws-cloud-watch" });
        return result.isValid() ? undefined : result.getError()[0].replace(/ \(Input cron: .*\)$/, "");
    }
    return "write cron(minutes hours day-of-month month day-of-week year), at(yyyy-mm-ddThh:mm:ss) or rate(5 minutes)";
}

/** Whether `zone` is an IANA time zone name as written (case and all). */
export function isTimeZone(zone: string): boolean {
    if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) {
        return false;
    }
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
        return true;
    } catch {
        return false;
    }
}

/** The schedules that apply to one service, in the stack's order. */
export function schedulesFor(service: string, schedules: readonly ScaleSchedule[]): ScaleSchedule[] {
    return schedules.filter((s) => s.services === undefined || s.services.includes(service));
}
