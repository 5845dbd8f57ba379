/**
 * The local run's data directory: one owner, checks before it is opened, damage reported, and no
 * acknowledged write lost to a second run or to `kill -9`. Each run here is `npm start`'s entry in its own
 * process group, as a user starts it, on a loopback port and a temporary `--data-dir`.
 */
import * as assert from "node:assert";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import { DataDirectoryError, lockDataDirectory } from "../scripts/dataDirectory";
import { startEmbeddedPostgres } from "../scripts/embeddedPostgres";
import { freePort } from "../scripts/net";
import { killGroup, ledgerProblems, postStream, spawnRun, startRun, storedUsers, type StartedRun } from "./support/localRun";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens the data directory as the next start would (the database alone, without the services) and reads
 * the users of each tag; `said` gets the start's notices.
 */
async function storedIn(dataDir: string, tags: string[], said: string[] = []) {
    const pg = await startEmbeddedPostgres({ dataDir, log: (line) => said.push(line) });
    try {
        const stored = new Map<string, { name: string; role: string }>();
        for (const tag of tags) {
            for (const [email, row] of await storedUsers(pg.port, tag)) {
                stored.set(email, row);
            }
        }
        return stored;
    } finally {
        await pg.stop();
    }
}

/** The stderr line of a run that refused to start. */
async function refusal(args: string[], env: Record<string, string | undefined>): Promise<{ code: number | string; text: string }> {
    const run = spawnRun(args, env);
    const timer = setTimeout(() => killGroup(run, "SIGKILL"), 60_000);
    const code = await run.exited;
    clearTimeout(timer);
    return { code, text: run.output().trim() };
}

describe("the local run's data directory", function () {
    this.timeout(180_000);
    let root: string;
    before(() => {
        root = mkdtempSync(path.join(tmpdir(), "berth-localdata-"));
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    describe("checks before the data directory is opened", () => {
        it("refuses a PORT that is not a port, a port in use and an unreachable DATABASE_URL with one line each, and creates nothing", async () => {
            const dataDir = path.join(root, "untouched", "pgdata");
            const taken = net.createServer();
            await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
            const takenPort = (taken.address() as net.AddressInfo).port;
            try {
                const cases: [Record<string, string>, RegExp][] = [
                    [{ PORT: "0x1F90" }, /^PORT is "0x1F90"; allowed: a whole number from 0 to 65535$/],
                    [{ PORT: "-1" }, /^PORT is "-1"; allowed/],
                    [{ PORT: "70000" }, /^PORT is "70000"; allowed/],
                    [{ PORT: "eighty" }, /^PORT is "eighty"; allowed/],
                    [{ PORT: String(takenPort) }, new RegExp(`^Port ${takenPort} on 127\\.0\\.0\\.1 is in use by another program`)],
                ];
                const results = await Promise.all(cases.map(([env]) => refusal(["--data-dir", dataDir], env)));
                results.forEach(({ code, text }, i) => {
                    assert.notStrictEqual(code, 0, `${JSON.stringify(cases[i][0])} started:\n${text}`);
                    assert.match(text, cases[i][1]);
                    assert.strictEqual(text.split("\n").length, 1, text);
                });
                const url = await refusal([], { PORT: String(await freePort()), DATABASE_URL: "postgresql://me:secret@127.0.0.1:9/berth" });
                assert.notStrictEqual(url.code, 0);
                assert.match(url.text, /^DATABASE_URL postgresql:\/\/me:\*\*\*@127\.0\.0\.1:9\/berth cannot be reached: .*ECONNREFUSED/);
                assert.strictEqual(url.text.split("\n").length, 1, url.text);
                assert.ok(!existsSync(path.dirname(dataDir)), "the data directory's parent was created");
            } finally {
                taken.close();
            }
        });
    });

    describe("has one owner", () => {
        let first: StartedRun | undefined;
        after(() => first && killGroup(first, "SIGKILL"));

        it("refuses a second run on the same port and on another, and the first run's writes survive its restart", async () => {
            const dataDir = path.join(root, "owned", "pgdata");
            const port = await freePort();
            first = await startRun(["--data-dir", dataDir], { PORT: String(port) });
            const before = postStream(first.url, "before", 2);
            await sleep(500);
            await before.stop();

            const samePort = await refusal(["--data-dir", dataDir], { PORT: String(port) });
            assert.notStrictEqual(samePort.code, 0);
            assert.match(samePort.text, new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is in use`));
            const otherPort = await refusal(["--data-dir", dataDir], { PORT: String(await freePort()) });
            assert.notStrictEqual(otherPort.code, 0, `a second run started on the same data directory:\n${otherPort.text}`);
            assert.match(
                otherPort.text,
                new RegExp(
                    `^The data directory ${dataDir.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is in use by process ${first.child.pid} \\(npm start, gateway on port ${port}\\).*--data-dir <another directory>`,
                ),
            );

            // Acknowledged by the first run after the second one tried.
            const after = postStream(first.url, "after", 2);
            await sleep(500);
            const outcomes = [...before.outcomes, ...(await after.stop())];
            assert.ok(after.acknowledged() > 0 && before.acknowledged() > 0);
            killGroup(first, "SIGTERM");
            assert.strictEqual(await first.exited, 0, first.output());
            first = undefined;
            assert.ok(!existsSync(`${dataDir}.lock`), "the lock outlived its run");

            assert.deepStrictEqual(ledgerProblems(outcomes, await storedIn(dataDir, ["before", "after"]), true), []);
        });
    });

    describe("its lock", () => {
        it("is taken over from a process that no longer runs, and refused while its owner runs", async () => {
            const dataDir = path.join(root, "locks", "pgdata");
            mkdirSync(path.dirname(dataDir), { recursive: true });
            const gone = spawn(process.execPath, ["-e", ""]);
            const pid = gone.pid!;
            await new Promise((r) => gone.once("exit", r));
            writeFileSync(`${dataDir}.lock`, JSON.stringify({ pid, hostname: hostname(), since: "2026-01-01T00:00:00.000Z", note: "crashed" }));
            const said: string[] = [];
            const lock = lockDataDirectory(dataDir, { log: (l) => said.push(l) });
            assert.strictEqual(JSON.parse(readFileSync(lock.path, "utf8")).pid, process.pid);
            assert.match(said.join("\n"), new RegExp(`from process ${pid} \\(crashed\\).*no longer runs`));

            // This process holds it now: a second taker is refused, naming it.
            assert.throws(
                () => lockDataDirectory(dataDir),
                (err: Error) => err instanceof DataDirectoryError && err.message.includes(`in use by process ${process.pid}`),
            );
            lock.release();
            assert.ok(!existsSync(lock.path));
        });

        it("is taken over when its pid now belongs to another process or another boot", () => {
            const dataDir = path.join(root, "reused", "pgdata");
            mkdirSync(path.dirname(dataDir), { recursive: true });
            const probe = lockDataDirectory(path.join(root, "probe"));
            const mine = JSON.parse(readFileSync(probe.path, "utf8"));
            probe.release();
            for (const stale of [{ processStart: "1" }, { bootId: "00000000-0000-0000-0000-000000000000" }]) {
                // This very process's pid, as a pid reused after a crash or a reboot would be.
                writeFileSync(`${dataDir}.lock`, JSON.stringify({ ...mine, ...stale, note: "before" }));
                const said: string[] = [];
                const lock = lockDataDirectory(dataDir, { log: (l) => said.push(l) });
                assert.match(said.join("\n"), /\(before\).*no longer runs/, JSON.stringify(stale));
                lock.release();
            }
        });
    });

    describe("when damaged", () => {
        let template: string;
        before(async function () {
            this.timeout(120_000);
            template = path.join(root, "template", "pgdata");
            const pg = await startEmbeddedPostgres({ dataDir: template });
            await pg.stop();
        });
        const copy = (name: string) => {
            const dir = path.join(root, name, "pgdata");
            mkdirSync(path.dirname(dir), { recursive: true });
            cpSync(template, dir, { recursive: true });
            return dir;
        };

        it("refuses a directory without PG_VERSION and leaves it as it was", async () => {
            const dir = copy("no-version");
            rmSync(path.join(dir, "PG_VERSION"));
            const control = readFileSync(path.join(dir, "global", "pg_control"));
            await assert.rejects(
                startEmbeddedPostgres({ dataDir: dir }),
                (err: Error) =>
                    err instanceof DataDirectoryError &&
                    err.message.includes(`The data directory ${dir} is not empty but holds no PostgreSQL database (PG_VERSION is missing)`) &&
                    err.message.includes(`mv ${dir} ${dir}.damaged`),
            );
            assert.ok(!existsSync(path.join(dir, "PG_VERSION")), "the directory was initialised again");
            assert.deepStrictEqual(readFileSync(path.join(dir, "global", "pg_control")), control);
            assert.ok(!existsSync(`${dir}.lock`));
        });

        it("names the directory and what PostgreSQL says of a truncated file, instead of Aborted()", async () => {
            const dir = copy("truncated");
            truncateSync(path.join(dir, "global", "pg_control"), 10);
            await assert.rejects(
                startEmbeddedPostgres({ dataDir: dir }),
                (err: Error) =>
                    err instanceof DataDirectoryError &&
                    err.message.startsWith(
                        `The data directory ${dir} cannot be opened: it is damaged. PostgreSQL says: PANIC: could not read file "global/pg_control"`,
                    ) &&
                    err.message.includes(`mv ${dir} ${dir}.damaged`),
            );
            assert.ok(!existsSync(`${dir}.lock`));
        });
    });

    describe("under kill -9", () => {
        it("loses no acknowledged record and leaves no half-written one, round after round", async () => {
            const dataDir = path.join(root, "killed", "pgdata");
            const port = String(await freePort());
            const rounds = 3;
            const outcomes = [];
            let run: StartedRun | undefined = await startRun(["--data-dir", dataDir], { PORT: port });
            try {
                for (let round = 0; round < rounds; round++) {
                    const current: StartedRun = run!;
                    const stream = postStream(current.url, `k${round}`, 4);
                    // Kill once writes are flowing, at a moment that varies from round to round.
                    while (stream.acknowledged() < 20 + 15 * round) {
                        await sleep(10);
                    }
                    killGroup(current, "SIGKILL");
                    await current.exited;
                    outcomes.push(...(await stream.stop()));
                    run = undefined;
                    // The killed run's lock is stale: the next start takes it over, and finds every
                    // acknowledged record (the last round's through the database alone, to save a whole run).
                    const said: string[] = [];
                    let stored;
                    if (round < rounds - 1) {
                        run = await startRun(["--data-dir", dataDir], { PORT: port });
                        said.push(run.output());
                        stored = await storedUsers(run.databasePort, `k${round}`);
                    } else {
                        stored = await storedIn(dataDir, [`k${round}`], said);
                    }
                    assert.match(said.join("\n"), /Took over the data directory's lock from process \d+/);
                    assert.deepStrictEqual(
                        ledgerProblems(
                            outcomes.filter((o) => o.email.startsWith(`k${round}-`)),
                            stored,
                            false,
                        ),
                        [],
                        `round ${round}`,
                    );
                }
            } finally {
                if (run) {
                    killGroup(run, "SIGTERM");
                    await run.exited;
                }
            }
        });
    });

    describe("deleted while the run serves", () => {
        it("refuses writes with 5xx and a log line, and the next start names what happened", async () => {
            const dataDir = path.join(root, "deleted", "pgdata");
            const port = String(await freePort());
            const run = await startRun(["--data-dir", dataDir], { PORT: port });
            try {
                const stream = postStream(run.url, "gone", 2);
                await sleep(300);
                rmSync(dataDir, { recursive: true, force: true });
                await sleep(700);
                await stream.stop();
                const late = postStream(run.url, "late", 1);
                await sleep(300);
                const after = await late.stop();
                assert.ok(after.length > 0 && after.every((o) => o.status !== undefined && o.status >= 500), JSON.stringify(after.slice(0, 3)));
                assert.match(run.output(), /The data directory .* was deleted while the database served it: every database request is refused from now on/);
                killGroup(run, "SIGTERM");
                await run.exited;

                const said: string[] = [];
                await storedIn(dataDir, [], said);
                assert.match(
                    said.join("\n"),
                    /^The data directory .* vanished while a run served it .*; its records are gone\. Starting with a new, empty database there\.$/,
                );
            } finally {
                killGroup(run, "SIGTERM");
                await run.exited;
            }
        });
    });
});
