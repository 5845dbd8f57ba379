/**
 * `npm run docs`: regenerates every generated block of README.md and docs/*.md from the code, so that no table
 * in the documentation is typed by hand. A block is the text between
 *
 *     <!-- <id> (<command>) -->
 *     ...
 *     <!-- /<id> -->
 *
 * and its content is what the generator of that id returns. `npm run docs -- --check` changes nothing and
 * exits 1 when a block is stale. Each block also has a test of its own (tests/cost.test.ts,
 * tests/rolloutStrategy.test.ts), and tests/docs.test.ts holds every block to a generator of this list.
 */
import * as fs from "fs";
import * as path from "path";
import { costMarkdown } from "../cost/report";
import { FARGATE_SIZES } from "../core/fargate";
import { stackEstimate } from "./cost";
import { settingsMarkdown } from "./docs/settings";
import { presetTimelines } from "./timelines";
import { PROJECT_ROOT, shippedStacks } from "./stackConfig";

export interface Generator {
    /** The block's name in its opening and closing comments. */
    id: string;
    /** The command named in the opening comment. */
    command: string;
    generate(): string;
}

/** Every generator, one per generated block. */
export function generators(): Generator[] {
    return [
        ...shippedStacks().map((stack) => ({
            id: `cost:${stack}`,
            command: `npm run cost -- ${stack} --markdown`,
            generate: () => costMarkdown(stackEstimate(stack)),
        })),
        { id: "timelines", command: "npm run timelines", generate: () => presetTimelines().join("\n") },
        { id: "fargate-sizes", command: "npm run docs", generate: fargateSizesMarkdown },
        // docs/settings.md's table comes from the configuration's settings table (config/table.ts).
        { id: "settings", command: "npm run docs", generate: settingsMarkdown },
    ];
}

/** The CPU and memory pairs Fargate runs (`FARGATE_SIZES`), as the table of docs/scaling.md shows them. */
export function fargateSizesMarkdown(): string {
    const rows = Object.entries(FARGATE_SIZES).map(([cpu, memory]) => {
        const step = memory[1] - memory[0];
        const even = memory.length > 3 && memory.every((m, i) => i === 0 || m - memory[i - 1] === step);
        const sizes = even ? `${memory[0]} to ${memory[memory.length - 1]}, ${step} apart` : memory.join(", ");
        return `| ${cpu} (${Number(cpu) / 1024}) | ${sizes} |`;
    });
    return ["| CPU units (vCPU) | Memory (MiB) |", "| --- | --- |", ...rows].join("\n");
}

/** README.md and every page under docs/, relative to the repository root. */
export function docFiles(root = PROJECT_ROOT): string[] {
    const pages = fs
        .readdirSync(path.join(root, "docs"))
        .filter((f) => f.endsWith(".md"))
        .sort();
    return ["README.md", ...pages.map((f) => `docs/${f}`)];
}

const BLOCK = /<!-- ([\w:.-]+) \(([^)]*)\) -->\n([\s\S]*?)\n<!-- \/\1 -->/g;

export interface Regenerated {
    text: string;
    /** The ids of the blocks found, in order. */
    blocks: string[];
    /** The ids of the blocks no generator knows. */
    unknown: string[];
}

/** `text` with every block whose id a generator knows replaced by that generator's output. */
export function regenerate(text: string, gens: readonly Generator[]): Regenerated {
    const blocks: string[] = [];
    const unknown: string[] = [];
    const out = text.replace(BLOCK, (whole, id: string, command: string) => {
        blocks.push(id);
        const gen = gens.find((g) => g.id === id);
        if (!gen) {
            unknown.push(id);
            return whole;
        }
        return `<!-- ${id} (${command}) -->\n${gen.generate()}\n<!-- /${id} -->`;
    });
    return { text: out, blocks, unknown };
}

function main(argv: string[]): number {
    const check = argv.includes("--check");
    const gens = generators();
    const seen = new Set<string>();
    let stale = 0;
    let missing = 0;
    for (const file of docFiles()) {
        const full = path.join(PROJECT_ROOT, file);
        const before = fs.readFileSync(full, "utf8");
        const { text, blocks, unknown } = regenerate(before, gens);
        blocks.forEach((b) => seen.add(b));
        for (const id of unknown) {
            console.error(`${file}: no generator for the block ${id}; left as it is`);
        }
        if (text !== before) {
            stale++;
            if (check) {
                console.error(`${file}: stale (${blocks.join(", ")}); run npm run docs`);
            } else {
                fs.writeFileSync(full, text);
                console.log(`${file}: regenerated ${blocks.join(", ")}`);
            }
        }
    }
    for (const gen of gens.filter((g) => !seen.has(g.id))) {
        console.error(`no block ${gen.id} in README.md or docs/: add <!-- ${gen.id} (${gen.command}) --> and <!-- /${gen.id} --> where it belongs`);
        missing++;
    }
    if (stale === 0 && missing === 0) {
        console.log("every generated block is up to date");
    }
    return missing > 0 || (check && stale > 0) ? 1 : 0;
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
