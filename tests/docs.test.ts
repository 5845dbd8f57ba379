/**
 * The documentation can be found and trusted: README.md is a landing page that reaches every page of docs/,
 * every relative link and #anchor of those pages resolves as GitHub resolves it, every section the code's
 * messages and comments send a reader to exists, and every generated block is what `npm run docs` makes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { anchors, hasSection, linkProblems, links, sectionReferences, slug } from "./support/markdown";
import { docFiles, fargateSizesMarkdown, generators, regenerate } from "../scripts/docs";
import { ROOT } from "./support/pulumi";

const read = (relative: string) => fs.readFileSync(path.join(ROOT, relative), "utf8");
const exists = (relative: string) => fs.existsSync(path.join(ROOT, relative));

function pages(): Record<string, string> {
    return Object.fromEntries(docFiles().map((f) => [f, read(f)]));
}

/** Files that name missing pages and sections on purpose, to show that the checks find them. */
const FIXTURES = ["tests/docs.test.ts", "tests/support/markdown.ts"];

/** The files whose messages and comments may point at the docs: code, workflows, CI, outside dependencies. */
function sourceFiles(dir = ""): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
            return ["node_modules", ".git", "docs", ".berth"].includes(entry.name) ? [] : sourceFiles(relative);
        }
        if (FIXTURES.includes(relative)) {
            return [];
        }
        return /\.(ts|js|mjs|cjs|ya?ml|sh|json)$/.test(entry.name) || relative === ".ci/run" ? [relative] : [];
    });
}

/** Every reference of `source` (a file's text) to a page or section that does not exist. */
function referenceProblems(file: string, source: string, docs: Record<string, string>): string[] {
    return sectionReferences(source).flatMap(({ page, section, line }) => {
        if (!(page in docs)) {
            return [`${file}:${line}: ${page} is no page of the docs`];
        }
        if (section !== undefined && !hasSection(docs[page], section)) {
            return [`${file}:${line}: ${page} has no section "${section}"`];
        }
        return [];
    });
}

describe("the docs", () => {
    const docs = pages();

    it("README is a landing page: under 250 lines, with the install and test command", () => {
        const readme = docs["README.md"];
        assert.ok(readme.split("\n").length < 250, `README.md has ${readme.split("\n").length} lines`);
        assert.match(readme, /^npm ci && npm test\b/m);
        assert.match(readme, /^npm start\b/m);
    });

    it("README and the docs index reach every page of docs/", () => {
        const reached = new Set(
            ["README.md", "docs/README.md"].flatMap((from) =>
                links(docs[from]).map((l) => path.posix.normalize(path.posix.join(path.posix.dirname(from), l.target.split("#")[0]))),
            ),
        );
        assert.deepStrictEqual(
            Object.keys(docs).filter((f) => f !== "README.md" && !reached.has(f)),
            [],
        );
    });

    it("every relative link and #anchor in README.md and docs/ resolves", () => {
        assert.deepStrictEqual(linkProblems(docs, exists), []);
    });

    it("every page and section the code's messages and comments name exists", () => {
        const files = sourceFiles();
        assert.ok(files.includes("config/table.ts") && files.includes(".github/workflows/pipeline.yml"), "found no source");
        const found = files.flatMap((f) => referenceProblems(f, read(f), docs));
        assert.deepStrictEqual(found, []);
    });

    it("every generated block is what npm run docs makes, and every generator has its block", () => {
        const gens = generators();
        const seen = new Set<string>();
        for (const [file, text] of Object.entries(docs)) {
            const { text: fresh, blocks, unknown } = regenerate(text, gens);
            blocks.forEach((b) => seen.add(b));
            assert.deepStrictEqual(unknown, [], `${file}: blocks without a generator`);
            assert.ok(fresh === text, `${file} is stale: run npm run docs`);
        }
        assert.deepStrictEqual(
            gens.map((g) => g.id).filter((id) => !seen.has(id)),
            [],
            "generators without a block",
        );
    });
});

describe("the table of Fargate's task sizes", () => {
    // AWS's pairs (ECS RegisterTaskDefinition, `memory`): 0.25 vCPU takes three sizes; 8 and 16 vCPU step by 4 and 8 GB.
    it("shows every pair Fargate runs, up to 16 vCPU", () => {
        const rows = fargateSizesMarkdown().split("\n");
        assert.strictEqual(rows[2], "| 256 (0.25) | 512, 1024, 2048 |");
        assert.strictEqual(rows[6], "| 4096 (4) | 8192 to 30720, 1024 apart |");
        assert.strictEqual(rows[7], "| 8192 (8) | 16384 to 61440, 4096 apart |");
        assert.strictEqual(rows[8], "| 16384 (16) | 32768 to 122880, 8192 apart |");
        assert.strictEqual(rows.length, 9);
    });
});

describe("the docs checks", () => {
    it("make anchors as GitHub does", () => {
        assert.strictEqual(slug("Run locally: `npm start`"), "run-locally-npm-start");
        assert.strictEqual(slug("AWS's own rules"), "awss-own-rules");
        assert.strictEqual(slug("The `dev` stack (environment `test`)"), "the-dev-stack-environment-test");
        assert.strictEqual(slug("Day two: the `berth` command"), "day-two-the-berth-command");
        assert.strictEqual(slug("Capacity: Spot, ARM64 and task sizes"), "capacity-spot-arm64-and-task-sizes");
        assert.strictEqual(slug("Under slow-client attacks: `npm run bench:slow`"), "under-slow-client-attacks-npm-run-benchslow");
        assert.strictEqual(slug("Pipeline: from commit to production"), "pipeline-from-commit-to-production");
        assert.strictEqual(slug("[Linked](x.md) *and* __bold__ `DB_SSL`"), "linked-and-bold-db_ssl");
        assert.deepStrictEqual([...anchors("# A\n## Same\n```\n# not a heading\n```\n## Same\n### Same\n")], ["a", "same", "same-1", "same-2"]);
    });

    it("find a broken link, a broken anchor and a link to a missing page", () => {
        const fixture = {
            "README.md":
                "See [the page](docs/page.md), [its second part](docs/page.md#part-1), [a typo](docs/page.md#prat)\n" +
                "and [a gone page](docs/gone.md), [here](#top), [nowhere](#bottom), [a file](package.json), `[code](x.md)`.\n" +
                "```\n[in a block](missing.md)\n```\n# Top\n",
            "docs/page.md": "# Page\n## Part\n## Part\nBack to [the README](../README.md#top), [out](https://example.com/#x).\n",
        };
        assert.deepStrictEqual(linkProblems(fixture, exists), [
            "README.md:1: docs/page.md#prat: docs/page.md has no heading with the anchor #prat",
            "README.md:2: docs/gone.md: no file docs/gone.md",
            "README.md:2: #bottom: README.md has no heading with the anchor #bottom",
        ]);
    });

    it("find a message that names a section no page has", () => {
        const docs = pages();
        const source = [
            'allowed: "a list of schedules (see README, \\"Scheduled scaling\\")" },',
            '// (docs/gateway.md, "The edge: gateway or ALB") and (docs/edge.md, "The edge: gateway or ALB")',
            '// see docs/scaling.md, "Scheduled scaling"; aws-cdk-lib/aws-ecs README, "Deployment alarms"; blob/v7.0.0/README.md',
        ].join("\n");
        assert.deepStrictEqual(referenceProblems("x.ts", source, docs), [
            'x.ts:1: README.md has no section "Scheduled scaling"',
            "x.ts:2: docs/edge.md is no page of the docs",
        ]);
    });
});
