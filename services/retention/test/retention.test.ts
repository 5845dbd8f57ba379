import * as assert from "node:assert";
import { Database } from "@berth/kit/database";
import { databaseTargets, type TestDatabase } from "../../../tests/support/database";
import { migrations } from "../../users/src/users";
import { USER_EVENTS_RETENTION_DAYS } from "@berth/users/events";
import { runRetention, type LogLine } from "../src/retention";

for (const target of databaseTargets) {
    describe(`the retention job on ${target.name}`, function () {
        this.timeout(60_000);
        let db: TestDatabase;
        let users: Database;

        before(async function () {
            this.timeout(120_000);
            db = await target.create(this);
            users = new Database({ name: "users", settings: { ...db.settings(), url: db.url } });
            await users.migrate("users", migrations);
        });
        after(async () => {
            await users?.close();
            await db?.drop();
        });

        const job = () => new Database({ name: "retention", settings: { ...db.settings(), url: db.url } });
        const events = async () =>
            (await users.query<{ user_id: string; action: string }>("SELECT user_id, action FROM user_events ORDER BY id")).rows.map(
                (r) => `${r.action} ${r.user_id}`,
            );

        it("finds the users service's audit trail written by the database: one event per account created and deleted", async () => {
            const { rows } = await users.query<{ id: string }>(
                "INSERT INTO users (name, email, role) VALUES ('Edsger', 'edsger@example.com', 'member') RETURNING id",
            );
            await users.query("DELETE FROM users WHERE id = $1", [rows[0].id]);
            assert.deepStrictEqual(await events(), [`created ${rows[0].id}`, `deleted ${rows[0].id}`]);
        });

        it("deletes the events past the retention, keeps the others, and exits 0 saying how many", async () => {
            await users.query("DELETE FROM user_events");
            await users.query(`INSERT INTO user_events (user_id, action, at) VALUES
                (1, 'created', now() - make_interval(days => ${USER_EVENTS_RETENTION_DAYS + 1})),
                (2, 'deleted', now() - make_interval(days => ${USER_EVENTS_RETENTION_DAYS + 400})),
                (3, 'created', now() - make_interval(days => ${USER_EVENTS_RETENTION_DAYS - 1})),
                (4, 'created', now())`);
            const lines: LogLine[] = [];
            assert.strictEqual(await runRetention(job(), (l) => lines.push(l)), 0);
            assert.deepStrictEqual(await events(), ["created 3", "created 4"]);
            assert.deepStrictEqual([lines.length, lines[0].level, lines[0].deleted], [1, 30, 2]);
            assert.strictEqual(await runRetention(job(), (l) => lines.push(l)), 0);
            assert.strictEqual(lines[1].deleted, 0);
        });

        it("exits 1 with an error line when it cannot do its work", async () => {
            const lines: LogLine[] = [];
            assert.strictEqual(await runRetention(job(), (l) => lines.push(l), 0), 1);
            assert.deepStrictEqual([lines[0].level, lines[0].msg], [50, "retention failed: retention is 0 days; allowed: a whole number of days, at least 1"]);
        });
    });
}
