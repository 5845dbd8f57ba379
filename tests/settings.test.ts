/**
 * The settings table (config/table.ts) and the reference generated from it: docs/settings.md shows what the
 * generator writes, every key has its row, and the pointers in error messages name headings that exist.
 */
import * as assert from "assert";
import * as fs from "fs";
import { parse as parseYaml } from "yaml";
import * as path from "path";
import { catalog } from "../catalog";
import { DATABASE_SETTINGS, loadSettings, PRESETS, SETTINGS } from "../config";
import { settingsMarkdown, SETTINGS_BEGIN, SETTINGS_DOC, SETTINGS_END } from "../scripts/docs/settings";
const ROOT = path.join(__dirname, "..");

const doc = () => fs.readFileSync(SETTINGS_DOC, "utf8");
const row = (key: string) =>
    settingsMarkdown()
        .split("\n")
        .find((line) => line.startsWith(`| \`${key}\` |`));

describe("the settings reference", () => {
    it("is what docs/settings.md shows", () => {
        const block = new RegExp(`${SETTINGS_BEGIN.replace(/[()]/g, "\\$&")}\\n([\\s\\S]*?)\\n${SETTINGS_END}`).exec(doc());
        assert.ok(block, "docs/settings.md has no generated settings table");
        assert.strictEqual(block[1], settingsMarkdown(), "docs/settings.md's settings table is stale: regenerate it with npm run docs");
    });

    it("has a row for every key and every database field", () => {
        for (const key of [...Object.keys(SETTINGS), ...Object.keys(DATABASE_SETTINGS).map((f) => `database.${f}`)]) {
            assert.ok(row(key), `no row for ${key}`);
        }
    });

    it("shows each preset's defaults", () => {
        assert.match(row("natStrategy")!, /^\| `natStrategy` \| `instance` \| `perAz` \|/);
        assert.match(row("logRetentionDays")!, /^\| `logRetentionDays` \| 7 \| 365 \|/);
        assert.match(row("database.instanceClass")!, /^\| `database.instanceClass` \| `db.t4g.micro` \| `db.t4g.medium` \|/);
        assert.match(row("scaleSchedules")!, /^\| `scaleSchedules` \| – \| – \|/);
        assert.match(row("allowHttpOnly")!, /^\| `allowHttpOnly` \| false \| false \|/);
    });

    it("lists every task size Fargate runs, up to 16 vCPU", () => {
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html
        const cpu = row("cpu")!;
        for (const pair of [
            "256 → 512, 1024, 2048",
            "512 → 1024-4096",
            "1024 → 2048-8192",
            "2048 → 4096-16384",
            "4096 → 8192-30720",
            "8192 → 16384-61440 in steps of 4096",
            "16384 → 32768-122880 in steps of 8192",
        ]) {
            assert.ok(cpu.includes(pair), `the cpu row lacks ${pair}: ${cpu}`);
        }
    });

    it("points errors only at headings of the docs that exist", () => {
        const allowed = [...Object.values(SETTINGS), ...Object.values(DATABASE_SETTINGS)].map((s) => s.allowed);
        const pointers = allowed.flatMap((text) => [...text.matchAll(/see (docs\/[a-z-]+\.md), "([^"]+)"/g)].map((m) => [m[1], m[2]] as const));
        assert.ok(
            pointers.some(([, heading]) => heading === "Scheduled scaling"),
            "scaleSchedules' error points to its section",
        );
        for (const [page, heading] of pointers) {
            const headings = fs
                .readFileSync(path.join(ROOT, page), "utf8")
                .split("\n")
                .filter((l) => /^#+ /.test(l))
                .map((l) => l.replace(/^#+ /, ""));
            assert.ok(headings.includes(heading), `${page} has no heading "${heading}"`);
        }
    });

    it("gives the defaults Pulumi.yaml gives for the keys a stack must set", () => {
        const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { default: unknown }> };
        const required = Object.entries(SETTINGS)
            .filter(([, spec]) => spec.kind === "required")
            .map(([key]) => key);
        assert.deepStrictEqual(required, ["environment", "vpcCidr", "azCount"]);
        assert.strictEqual(project.config.environment.default, "test");
        for (const key of ["vpcCidr", "azCount"]) {
            assert.match(row(key)!, new RegExp(`^\\| \`${key}\` \\| ${String(project.config[key].default)} \\| ${String(project.config[key].default)} \\|`));
        }
    });

    it("derives the presets from the table, with the database's and the rollouts' defaults", () => {
        assert.strictEqual(PRESETS.test.cpu, 256);
        assert.strictEqual(PRESETS.prod.memory, 2048);
        assert.strictEqual(PRESETS.prod.database.storageGb, 50);
        assert.deepStrictEqual(PRESETS.test.scaleSchedules, []);
        assert.deepStrictEqual(PRESETS.prod.rolloutDefaults.blueGreen, { bakeMinutes: 5 });
        assert.ok(!("allowHttpOnly" in PRESETS.prod), "a key with one default for every stack is no preset's");
    });

    it("brings every key of the table into the settings, the preset's value where the stack sets none", () => {
        const settings = loadSettings(
            { "aws:region": "us-east-1", "berth:environment": "prod", "berth:vpcCidr": "10.0.0.0/16", "berth:azCount": "2", "berth:allowHttpOnly": "true" },
            { project: "berth", stack: "prod" },
            catalog,
        );
        const perService = Object.keys(settings.services[catalog[0].name]);
        for (const [key, spec] of Object.entries(SETTINGS)) {
            const where = spec.kind === "service" ? perService : Object.keys(settings);
            assert.ok(where.includes(key), `${key} (${spec.kind}) is missing from the settings`);
            if (spec.kind === "preset") {
                assert.deepStrictEqual((settings as unknown as Record<string, unknown>)[key], (PRESETS.prod as unknown as Record<string, unknown>)[key], key);
            }
        }
        assert.deepStrictEqual(perService, ["cpu", "memory", "desiredCount", "maxCount"]);
    });
});
