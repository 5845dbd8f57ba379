import { Database } from "@berth/kit/database";
import { purgeExpiredEvents, USER_EVENTS_RETENTION_DAYS, USER_EVENTS_TABLE } from "@berth/users/events";

/** One line of the job's log, in the services' JSON form (pino's `level`, `time`, `msg`). */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/**
 * One run of the nightly job: waits for the database (the kit's `migrate` retries while it is unreachable; the
 * job has no schema of its own), deletes the expired user events, and reports what it did. Resolves to the exit
 * code: 0 done, 1 failed (the state machine's retries run it again).
 */
export async function runRetention(database: Database, log: (line: LogLine) => void, retentionDays: number = USER_EVENTS_RETENTION_DAYS): Promise<number> {
    const started = Date.now();
    try {
        await database.migrate("retention", []);
        const deleted = await purgeExpiredEvents(database, retentionDays);
        log({ level: 30, msg: `deleted ${deleted} ${USER_EVENTS_TABLE} older than ${retentionDays} days`, deleted, retentionDays, ms: Date.now() - started });
        return 0;
    } catch (err) {
        log({ level: 50, msg: `retention failed: ${(err as Error).message}`, ms: Date.now() - started });
        return 1;
    } finally {
        await database.close();
    }
}
