/**
 * Builds each job's image from its Dockerfile, as `pulumi up` does, and runs it as ECS would (read-only root file
 * system, the catalogue's user, the database's variables) against a database the users service has migrated:
 * the retention job deletes what is past its retention and exits 0. Skipped without a Docker engine, as the
 * services' container test is (tests/containers.test.ts), but never under CI.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { jobs, type CatalogJob } from "../catalog";
import { Database } from "@berth/kit/database";
import { USER_EVENTS_RETENTION_DAYS } from "../services/users/src/events";
import { migrations } from "../services/users/src/users";
import { anyTestDatabase, type TestDatabase } from "./support/database";

const ROOT = path.resolve(__dirname, "..");
const STAND_IN = "berth-node-base:local";

function docker(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile("docker", args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr: stderr || (error?.message ?? "") });
        });
    });
}

describe("job images", function () {
    this.timeout(15 * 60_000);
    const image = (j: CatalogJob) => `berth-test-${j.name}:${process.pid}`;
    let database: TestDatabase | undefined;
    let users: Database | undefined;

    before(async function () {
        const info = await docker(["info", "--format", "{{.ServerVersion}}"], 15_000);
        if (info.code !== 0) {
            if (process.env.CI) {
                throw new Error(`CI must run the job container test, but no Docker engine answers: ${info.stderr.trim()}`);
            }
            console.log("    (skipped: no Docker engine answers `docker info`)");
            this.skip();
        }
        const base = process.env.BERTH_BASE_IMAGE ?? ((await docker(["image", "inspect", STAND_IN])).code === 0 ? STAND_IN : undefined);
        for (const j of jobs) {
            const built = await docker(
                [
                    "build",
                    "--network=host",
                    "-q",
                    "-f",
                    j.build.dockerfile,
                    ...(base ? ["--build-arg", `BASE_IMAGE=${base}`] : []),
                    "-t",
                    image(j),
                    j.build.context,
                ],
                10 * 60_000,
            );
            assert.strictEqual(built.code, 0, built.stderr.slice(-4000));
        }
        database = await anyTestDatabase();
        users = new Database({ name: "users", settings: { ...database.settings(), url: database.url } });
        await users.migrate("users", migrations);
    });

    after(async () => {
        for (const j of jobs) {
            await docker(["rmi", "-f", image(j)]);
        }
        await users?.close();
        await database?.drop();
    });

    it("run as the catalogue's non-root user, with no port and no health check: ECS runs a job to its end", async () => {
        for (const j of jobs) {
            const config = JSON.parse(await docker(["image", "inspect", "--format", "{{json .Config}}", image(j)]).then((r) => r.stdout));
            assert.strictEqual(config.User, j.user, j.name);
            assert.deepStrictEqual([config.ExposedPorts ?? null, config.Healthcheck ?? null], [null, null], j.name);
        }
    });

    it("retention: deletes the user events past the retention from its read-only container, and exits 0", async () => {
        const retention = jobs.find((j) => j.name === "retention")!;
        await users!.query("DELETE FROM user_events");
        await users!.query(`INSERT INTO user_events (user_id, action, at) VALUES
            (1, 'created', now() - make_interval(days => ${USER_EVENTS_RETENTION_DAYS + 1})), (2, 'created', now())`);
        const run = await docker(
            [
                "run",
                "--rm",
                "--network=host",
                "--read-only",
                "--user",
                retention.user,
                "-e",
                `DATABASE_URL=${database!.url}`,
                "-e",
                "DB_SSL=disable",
                image(retention),
            ],
            120_000,
        );
        assert.strictEqual(run.code, 0, run.stderr);
        const line = JSON.parse(run.stdout.trim().split("\n").pop()!);
        assert.deepStrictEqual([line.level, line.deleted], [30, 1]);
        const { rows } = await users!.query<{ user_id: string }>("SELECT user_id FROM user_events");
        assert.deepStrictEqual(
            rows.map((r) => Number(r.user_id)),
            [2],
        );
    });
});
