/**
 * The services share the kit as the workspace package `@berth/kit`: every importer names the package, and a
 * service declares only what its own sources import, so that the kit's dependencies have one list.
 */
import * as assert from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const KIT = path.join(ROOT, "services", "kit");

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            return ["node_modules", "dist", "bin", ".git"].includes(entry.name) ? [] : sourceFiles(full);
        }
        return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
    });
}

/** Every module specifier a file imports, re-exports or requires. */
function specifiers(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm)].map((m) => m[1]);
}

/** The package a bare specifier names: `@scope/name` or `name`. */
function packageOf(specifier: string): string | undefined {
    if (specifier.startsWith(".") || specifier.startsWith("node:") || path.isAbsolute(specifier)) {
        return undefined;
    }
    const parts = specifier.split("/");
    return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const kitManifest = JSON.parse(fs.readFileSync(path.join(KIT, "package.json"), "utf8"));
const services = fs
    .readdirSync(path.join(ROOT, "services"))
    .filter((name) => name !== "kit" && fs.existsSync(path.join(ROOT, "services", name, "package.json")));

describe("the kit as the workspace package @berth/kit", () => {
    it("is imported by name everywhere outside it, never by a path into its folder", () => {
        const reaching: string[] = [];
        for (const dir of ["catalog", "cli", "components", "core", "cost", "scripts", "bench", "tests", "services"]
            .map((d) => path.join(ROOT, d))
            .filter(fs.existsSync)) {
            for (const file of sourceFiles(dir).filter((f) => !f.startsWith(KIT + path.sep))) {
                for (const spec of specifiers(file).filter((s) => s.startsWith("."))) {
                    if (path.resolve(path.dirname(file), spec).startsWith(KIT + path.sep)) {
                        reaching.push(`${path.relative(ROOT, file)}: ${spec}`);
                    }
                }
            }
        }
        assert.deepStrictEqual(reaching, []);
    });

    for (const service of services) {
        it(`is a dependency of ${service}, whose manifest lists only what its own sources import`, () => {
            const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "services", service, "package.json"), "utf8"));
            const declared = Object.keys(manifest.dependencies ?? {});
            const imported = new Set(
                sourceFiles(path.join(ROOT, "services", service, "src"))
                    .flatMap(specifiers)
                    .map(packageOf)
                    .filter((p) => p !== undefined),
            );
            assert.ok(declared.includes("@berth/kit"), `${service} does not declare @berth/kit`);
            assert.deepStrictEqual(
                declared.filter((d) => !imported.has(d)),
                [],
                `${service} declares packages its sources do not import`,
            );
            assert.deepStrictEqual(
                [...imported].filter((p) => !declared.includes(p)),
                [],
                `${service} imports packages it does not declare`,
            );
        });
    }

    it("offers each subpath to Node and esbuild (exports) and to the type-checker (typesVersions) alike, each an existing file", () => {
        const exported = Object.entries(kitManifest.exports as Record<string, string>)
            .filter(([subpath]) => subpath !== "." && subpath !== "./package.json")
            .map(([subpath, file]) => [subpath.slice(2), file.replace(/^\.\//, "")]);
        const typed = Object.entries(kitManifest.typesVersions["*"] as Record<string, string[]>).map(([subpath, files]) => [subpath, files[0]]);
        assert.deepStrictEqual(typed.sort(), exported.sort());
        for (const file of [kitManifest.main, kitManifest.types, ...exported.map(([, f]) => f)]) {
            assert.ok(fs.existsSync(path.join(KIT, file)), `services/kit/${file} does not exist`);
        }
    });

    it("keeps the database contract free of imports, so that the program and the catalogue load no client library", () => {
        const contract = path.join(KIT, (kitManifest.exports as Record<string, string>)["./contract"]);
        assert.deepStrictEqual(specifiers(contract), []);
    });
});
