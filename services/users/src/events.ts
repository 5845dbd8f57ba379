import type { Migration, Queryable } from "@berth/kit/database";

/**
 * `user_events`: an audit trail of the accounts created and deleted, one row each, written by the database
 * itself (a trigger on `users`), so that no code path, old task or manual statement leaves one out. It is kept
 * `USER_EVENTS_RETENTION_DAYS`; the nightly job `retention` (services/retention) deletes what is older.
 */
export const USER_EVENTS_TABLE = "user_events";

/** Days an event is kept. */
export const USER_EVENTS_RETENTION_DAYS = 90;

/** Rows one DELETE removes: each statement stays short whatever the backlog, well within the kit's query timeout. */
export const PURGE_BATCH = 5_000;

export const userEventsMigration: Migration = {
    version: 4,
    name: "users: an audit trail of accounts created and deleted",
    up: `
        CREATE TABLE ${USER_EVENTS_TABLE} (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id bigint NOT NULL,
            action text NOT NULL CHECK (action IN ('created', 'deleted')),
            at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ${USER_EVENTS_TABLE}_at ON ${USER_EVENTS_TABLE} (at);
        CREATE FUNCTION user_events_record() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO ${USER_EVENTS_TABLE} (user_id, action) VALUES (NEW.id, 'created');
            ELSE
                INSERT INTO ${USER_EVENTS_TABLE} (user_id, action) VALUES (OLD.id, 'deleted');
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER user_events_record AFTER INSERT OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION user_events_record();`,
};

/**
 * Deletes the events older than `retentionDays`, a batch at a time; resolves to how many it deleted. A database
 * where the users service has not yet created the table holds nothing to delete.
 */
export async function purgeExpiredEvents(db: Queryable, retentionDays: number = USER_EVENTS_RETENTION_DAYS): Promise<number> {
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
        throw new Error(`retention is ${retentionDays} days; allowed: a whole number of days, at least 1`);
    }
    const { rows } = await db.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [USER_EVENTS_TABLE]);
    if (rows[0]?.found == null) {
        return 0;
    }
    let deleted = 0;
    for (;;) {
        const result = await db.query(
            `DELETE FROM ${USER_EVENTS_TABLE} WHERE id IN (
                SELECT id FROM ${USER_EVENTS_TABLE} WHERE at < now() - make_interval(days => $1) ORDER BY id LIMIT ${PURGE_BATCH})`,
            [retentionDays],
        );
        deleted += result.rowCount ?? 0;
        if ((result.rowCount ?? 0) < PURGE_BATCH) {
            return deleted;
        }
    }
}
