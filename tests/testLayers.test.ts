/**
 * `npm test` runs every test file (.mocharc.json); `npm run test:unit` runs the unit layer (.mocharc.unit.json):
 * mocks, pure logic and services in process, without PostgreSQL, Docker, a local run or a spawned process.
 * Every test file is in exactly one layer, so that none is left out of both.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./support/pulumi";

/** The files outside the unit layer, each with what takes it out. */
const NOT_UNIT: Record<string, string> = {
    "tests/acceptance.test.ts": "spawns scripts/acceptance.ts",
    "tests/catalog.test.ts": "spawns node on the catalogue",
    "tests/cli.test.ts": "starts the local run",
    "tests/containers.test.ts": "Docker and PostgreSQL",
    "tests/e2e.test.ts": "starts the local run",
    "tests/embeddedPostgres.test.ts": "embedded PostgreSQL",
    "tests/jobContainers.test.ts": "Docker and PostgreSQL",
    "tests/local-auth.test.ts": "starts the local run",
    "tests/localData.test.ts": "starts the local run and spawns it",
    "tests/localJobs.test.ts": "spawns the jobs' processes",
    "tests/localStop.test.ts": "starts the local run",
    "tests/rolling.test.ts": "starts the local run",
    "tests/traces.test.ts": "starts the local run",
    "services/api/test/shutdown.test.ts": "spawns the gateway",
    "services/kit/test/database.test.ts": "PostgreSQL",
    "services/kit/test/requests.test.ts": "spawns the gateway",
    "services/kit/test/shutdown.test.ts": "spawns services",
    "services/products/test/products.test.ts": "PostgreSQL",
    "services/retention/test/retention.test.ts": "PostgreSQL",
    "services/users/test/users.test.ts": "PostgreSQL",
    "services/products/test/events.test.ts": "PostgreSQL",
    "tests/workersLocal.test.ts": "starts the local run",
};

/** What .mocharc.json's spec globs match, as regular expressions. */
const ALL_SPEC = ["tests/**/*.test.ts", "services/*/test/**/*.test.ts"];
const ALL = [/^tests\/(?:.+\/)?[^/]+\.test\.ts$/, /^services\/[^/]+\/test\/(?:.+\/)?[^/]+\.test\.ts$/];

function testFiles(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
            return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : testFiles(relative);
        }
        return entry.name.endsWith(".test.ts") ? [relative] : [];
    });
}

function mocharc(name: string): { spec: string[] } {
    return JSON.parse(fs.readFileSync(path.join(ROOT, name), "utf8"));
}

describe("test layers", () => {
    const files = testFiles("");
    const unit = mocharc(".mocharc.unit.json").spec;

    it("npm test runs every test file", () => {
        assert.deepStrictEqual(mocharc(".mocharc.json").spec, ALL_SPEC, "the globs below no longer say what .mocharc.json runs");
        assert.ok(files.length > 30, "found almost no test file");
        assert.deepStrictEqual(
            files.filter((f) => !ALL.some((glob) => glob.test(f))),
            [],
            "test files npm test does not run",
        );
    });

    it("each test file is unit or not, listed once", () => {
        assert.deepStrictEqual(
            unit.filter((f, i) => unit.indexOf(f) !== i),
            [],
            "listed twice in .mocharc.unit.json",
        );
        assert.deepStrictEqual(
            [...unit, ...Object.keys(NOT_UNIT)].filter((f) => !files.includes(f)),
            [],
            "listed but not a test file",
        );
        assert.deepStrictEqual(
            unit.filter((f) => f in NOT_UNIT),
            [],
            "listed as unit and not",
        );
        assert.deepStrictEqual(
            files.filter((f) => !unit.includes(f) && !(f in NOT_UNIT)),
            [],
            "in no layer",
        );
    });
});
