/**
 * Each service's build context, computed the way BuildKit and the image provider compute it: the
 * catalogue's context directory, filtered by `<Dockerfile>.dockerignore` (else the context's .dockerignore)
 * with Docker's own matching rules (@balena/dockerignore). A file in the context feeds the image's hash: a
 * change to it rebuilds and redeploys the service, so the context must hold only what the image needs.
 */
import ignore from "@balena/dockerignore";
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { catalog, type CatalogService } from "../services/catalog";
import { ROOT } from "./support/pulumi";

/** The files of the checkout (git's view: what another machine has). */
const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\0").filter((f) => f !== "" && fs.existsSync(path.join(ROOT, f)));

function contextOf(service: CatalogService): string[] {
    const dockerfile = path.join(ROOT, service.build.dockerfile);
    const contextDir = path.join(ROOT, service.build.context);
    const ignoreFile = [`${dockerfile}.dockerignore`, path.join(contextDir, ".dockerignore")].find((f) => fs.existsSync(f));
    const matcher = ignore().add(ignoreFile ? fs.readFileSync(ignoreFile, "utf8") : "");
    return files
        .map((f) => path.relative(contextDir, path.join(ROOT, f)))
        .filter((f) => !f.startsWith(".."))
        .filter((f) => !matcher.ignores(f));
}

describe("build contexts", () => {
    for (const service of catalog) {
        describe(service.name, () => {
            const context = contextOf(service);
            const own = `services/${service.name}/`;

            it("hold only its sources and manifests, the shared kit and the workspace manifests", () => {
                const allowed = (f: string) =>
                    f === "package.json" || f === "package-lock.json" ||
                    f === "services/kit/package.json" || f.startsWith("services/kit/src/") ||
                    f === `${own}package.json` || f === `${own}tsconfig.build.json` || f.startsWith(`${own}src/`);
                assert.deepStrictEqual(context.filter((f) => !allowed(f)), []);
            });

            it("leave out infrastructure, other services and its own tests", () => {
                const others = catalog.filter((s) => s.name !== service.name).map((s) => `services/${s.name}/`);
                const leaked = context.filter((f) =>
                    /^(components|tests|scripts|bench|\.ci)\//.test(f) || /^[^/]+\.ts$/.test(f) || /^Pulumi.*\.yaml$/.test(f) ||
                    others.some((o) => f.startsWith(o)) || f.startsWith(`${own}test/`));
                assert.deepStrictEqual(leaked, []);
            });

            it("still hold everything the Dockerfile copies", () => {
                const dockerfile = fs.readFileSync(path.join(ROOT, service.build.dockerfile), "utf8").replace(/\$\{SERVICE\}/g, service.name);
                const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
                assert.ok(sources.length >= 5, `found ${sources.length} COPY sources`);
                for (const source of sources) {
                    assert.ok(context.some((f) => f === source || f.startsWith(`${source.replace(/\/$/, "")}/`)), `${source} is not in the context`);
                }
            });
        });
    }
});
