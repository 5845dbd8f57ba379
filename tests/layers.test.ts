/**
 * The layers hold: the pure layers (core/, cost/, catalog/) and the services load no Pulumi module and no
 * component, the services reach nothing outside services/ by relative path, the components reach no service,
 * and no module imports itself through others. The imports are read with a small parser (no compiler), so
 * the check is fast and sees every .ts file of the repository.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

/** Folders whose modules must load neither Pulumi nor a component, directly or through other modules. */
const PURE = ["core/", "cost/", "catalog/", "services/"];

/** A service's own tests may use the repository's shared test support (the PostgreSQL servers they run against). */
function sharedTestSupport(file: string, target: string): boolean {
    return /^services\/[^/]+\/test\//.test(file) && target.startsWith("tests/support/");
}

interface Import {
    /** A repository path (`core/fargate.ts`) for a relative import, else the package specifier. */
    readonly target: string;
    /** Whether the import is erased at compile time (`import type`, `export type`, or only `type` names). */
    readonly typeOnly: boolean;
    /** Whether the specifier is relative (`./`, `../`). */
    readonly relative: boolean;
}

/** Every .ts file of the repository, as paths relative to the root with forward slashes. */
function sourceFiles(dir = ""): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
            const skipped = entry.name === "node_modules" || entry.name.startsWith(".") || ["bin", "dist"].includes(entry.name);
            return skipped ? [] : sourceFiles(relative);
        }
        return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [relative] : [];
    });
}

/** The text with its comments blanked out, so that an example import in a comment is not read as one. */
function withoutComments(text: string): string {
    return text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/^\s*\/\/.*$/gm, " ");
}

const STATIC = /(?:^|[;}\s])(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["']([^"']+)["']/g;
const BARE = /(?:^|[;}\s])import\s*["']([^"']+)["']/g;
const DYNAMIC = /(?:\bimport|\brequire)\s*\(\s*["']([^"']+)["']\s*\)/g;

/** The file a relative specifier names, as import resolution finds it (x.ts, then x/index.ts). */
function resolve(from: string, specifier: string): string {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
        if (candidate.endsWith(".ts") && fs.existsSync(path.join(ROOT, candidate))) return candidate;
    }
    return base;
}

/** Whether an import's names are all types (`{ type A, type B }`), which TypeScript erases. */
function onlyTypeNames(clause: string): boolean {
    const named = /^\{([\s\S]*)\}$/.exec(clause.trim());
    if (!named) return false;
    const names = named[1]
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean);
    return names.length > 0 && names.every((name) => name.startsWith("type "));
}

/** The imports of one source text, located relative to `file`. */
function importsOf(file: string, text: string): Import[] {
    const source = withoutComments(text);
    const found: Import[] = [];
    const add = (specifier: string, typeOnly: boolean) => {
        const relative = specifier.startsWith("./") || specifier.startsWith("../");
        found.push({ target: relative ? resolve(file, specifier) : specifier, typeOnly, relative });
    };
    for (const match of source.matchAll(STATIC)) add(match[4], Boolean(match[2]) || onlyTypeNames(match[3]));
    for (const match of source.matchAll(BARE)) add(match[1], false);
    for (const match of source.matchAll(DYNAMIC)) add(match[1], false);
    return found;
}

/** Whether an import reaches Pulumi or a component directly. */
function forbiddenInPure(target: string): boolean {
    return target.startsWith("@pulumi/") || target.startsWith("components/");
}

/** The layer problems of a graph (file -> its imports), each naming the chain of files that leads to it. */
function layerProblems(graph: ReadonlyMap<string, readonly Import[]>): string[] {
    const problems: string[] = [];
    for (const [file, imports] of graph) {
        for (const { target, relative } of imports) {
            if (file.startsWith("services/") && relative && !target.startsWith("services/") && !sharedTestSupport(file, target)) {
                problems.push(`${file} imports ${target}, outside services/, by relative path`);
            }
            if (file.startsWith("components/") && relative && target.startsWith("services/")) {
                problems.push(`${file} imports the service module ${target}`);
            }
        }
        if (!PURE.some((folder) => file.startsWith(folder))) continue;
        // Breadth-first over runtime imports, so that the chain reported is a shortest one.
        const via = new Map<string, string>([[file, ""]]);
        const queue = [file];
        while (queue.length > 0) {
            const current = queue.shift()!;
            for (const { target, typeOnly } of graph.get(current) ?? []) {
                if (typeOnly || via.has(target)) continue;
                via.set(target, current);
                if (forbiddenInPure(target)) {
                    const chain = [target];
                    for (let step = current; step; step = via.get(step)!) chain.unshift(step);
                    problems.push(`${file} loads ${target}: ${chain.join(" -> ")}`);
                    continue;
                }
                if (graph.has(target)) queue.push(target);
            }
        }
    }
    return problems;
}

/** Every import cycle among the repository's files (type imports included), each as `a -> b -> a`. */
function importCycles(graph: ReadonlyMap<string, readonly Import[]>): string[] {
    // Tarjan's strongly connected components; one cycle is named per component.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const components: string[][] = [];
    const next = (file: string) => [...new Set((graph.get(file) ?? []).map((entry) => entry.target))].filter((target) => graph.has(target));
    const visit = (file: string) => {
        index.set(file, index.size);
        low.set(file, index.get(file)!);
        stack.push(file);
        onStack.add(file);
        for (const target of next(file)) {
            if (!index.has(target)) {
                visit(target);
                low.set(file, Math.min(low.get(file)!, low.get(target)!));
            } else if (onStack.has(target)) {
                low.set(file, Math.min(low.get(file)!, index.get(target)!));
            }
        }
        if (low.get(file) === index.get(file)) {
            const component: string[] = [];
            let member: string;
            do {
                member = stack.pop()!;
                onStack.delete(member);
                component.push(member);
            } while (member !== file);
            if (component.length > 1 || next(file).includes(file)) components.push(component);
        }
    };
    for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
    return components.map((component) => {
        // A shortest path from the component's first file back to itself, inside the component.
        const members = new Set(component);
        const start = [...component].sort()[0];
        const via = new Map<string, string>();
        const queue = [start];
        while (queue.length > 0) {
            const current = queue.shift()!;
            for (const target of next(current)) {
                if (!members.has(target) || via.has(target)) continue;
                via.set(target, current);
                queue.push(target);
            }
        }
        const cycle = [start];
        for (let step = via.get(start)!; step !== start; step = via.get(step)!) cycle.unshift(step);
        cycle.unshift(start);
        return cycle.join(" -> ");
    });
}

function repositoryGraph(): Map<string, Import[]> {
    return new Map(sourceFiles().map((file) => [file, importsOf(file, fs.readFileSync(path.join(ROOT, file), "utf8"))]));
}

describe("layers", () => {
    const graph = repositoryGraph();

    it("the pure layers and the services load no Pulumi module and no component; services and components stay apart", () => {
        assert.deepStrictEqual(layerProblems(graph), []);
    });

    it("no module imports itself through others", () => {
        assert.deepStrictEqual(importCycles(graph), []);
    });

    describe("the parser and the checks", () => {
        it("reads static, side-effect, dynamic and required imports, and tells type-only ones apart", () => {
            const text = [
                `import * as pulumi from "@pulumi/pulumi";`,
                `import type { A } from "./a";`,
                `import { type B, type C } from "../core/b";`,
                `import { type D, e } from "./d";`,
                `export { f } from "./f";`,
                `export type { G } from "./g";`,
                `import "./side";`,
                `const h = require("./h");`,
                `const i = await import("./i");`,
                `// import { j } from "./commented";`,
                `/* import { k } from "./commented"; */`,
            ].join("\n");
            assert.deepStrictEqual(importsOf("core/x.ts", text), [
                { target: "@pulumi/pulumi", typeOnly: false, relative: false },
                { target: "core/a", typeOnly: true, relative: true },
                { target: "core/b", typeOnly: true, relative: true },
                { target: "core/d", typeOnly: false, relative: true },
                { target: "core/f", typeOnly: false, relative: true },
                { target: "core/g", typeOnly: true, relative: true },
                { target: "core/side", typeOnly: false, relative: true },
                { target: "core/h", typeOnly: false, relative: true },
                { target: "core/i", typeOnly: false, relative: true },
            ]);
        });

        const edge = (target: string, typeOnly = false): Import => ({ target, typeOnly, relative: !target.startsWith("@") });

        it("finds Pulumi reached through another module, and names the chain", () => {
            const graph = new Map<string, Import[]>([
                ["catalog/index.ts", [edge("core/a.ts")]],
                ["core/a.ts", [edge("components/edge/albRoute.ts")]],
                ["components/edge/albRoute.ts", [edge("@pulumi/aws")]],
            ]);
            assert.deepStrictEqual(layerProblems(graph), [
                "catalog/index.ts loads components/edge/albRoute.ts: catalog/index.ts -> core/a.ts -> components/edge/albRoute.ts",
                "core/a.ts loads components/edge/albRoute.ts: core/a.ts -> components/edge/albRoute.ts",
            ]);
        });

        it("lets a type-only import through, since nothing of it is loaded", () => {
            const graph = new Map<string, Import[]>([
                ["cost/estimate.ts", [edge("config.ts", true)]],
                ["config.ts", [edge("@pulumi/pulumi")]],
            ]);
            assert.deepStrictEqual(layerProblems(graph), []);
        });

        it("finds a service reaching outside services/ and a component reaching a service", () => {
            const graph = new Map<string, Import[]>([
                ["services/api/src/x.ts", [edge("services/kit/src/index.ts"), edge("core/rollout.ts")]],
                ["components/x.ts", [edge("services/kit/src/index.ts")]],
            ]);
            assert.deepStrictEqual(layerProblems(graph), [
                "services/api/src/x.ts imports core/rollout.ts, outside services/, by relative path",
                "components/x.ts imports the service module services/kit/src/index.ts",
            ]);
        });

        it("names each cycle, type imports included", () => {
            const graph = new Map<string, Import[]>([
                ["components/service/taskDefinition.ts", [edge("core/tracing.ts")]],
                ["core/tracing.ts", [edge("components/service/taskDefinition.ts", true)]],
                ["a.ts", [edge("b.ts")]],
                ["b.ts", [edge("c.ts")]],
                ["c.ts", [edge("a.ts")]],
            ]);
            assert.deepStrictEqual(importCycles(graph).sort(), [
                "a.ts -> b.ts -> c.ts -> a.ts",
                "components/service/taskDefinition.ts -> core/tracing.ts -> components/service/taskDefinition.ts",
            ]);
        });
    });
});
