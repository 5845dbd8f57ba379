/**
 * Each service's build context, computed the way BuildKit and the image provider compute it: the
 * catalogue's context directory, filtered by `<Dockerfile>.dockerignore` (else the context's .dockerignore)
 * with Docker's own matching rules (@balena/dockerignore). A file in the context feeds the image's hash: a
 * change to it rebuilds and redeploys the service, so the context must hold only what the image needs.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commitLabel, contextFiles, sourceVersion, UNKNOWN_COMMIT } from "../core/buildContext";
import { catalog, type CatalogService } from "../catalog";
import { ROOT } from "./support/pulumi";

/** The context's files relative to the context directory (the program computes them for image tags too). */
function contextOf(service: CatalogService): string[] {
    const contextDir = path.join(ROOT, service.build.context);
    return contextFiles(ROOT, service.build.context, service.build.dockerfile).map((f) => path.relative(contextDir, path.join(ROOT, f)));
}

describe("build contexts", () => {
    for (const service of catalog) {
        describe(service.name, () => {
            const context = contextOf(service);
            const own = `services/${service.name}/`;

            it("hold only its sources and manifests, the shared kit and the workspace manifests", () => {
                const allowed = (f: string) =>
                    f === "package.json" ||
                    f === "package-lock.json" ||
                    f === "services/kit/package.json" ||
                    f.startsWith("services/kit/src/") ||
                    f === `${own}package.json` ||
                    f === `${own}tsconfig.build.json` ||
                    f.startsWith(`${own}src/`);
                assert.deepStrictEqual(
                    context.filter((f) => !allowed(f)),
                    [],
                );
            });

            it("leave out infrastructure, other services and its own tests", () => {
                const others = catalog.filter((s) => s.name !== service.name).map((s) => `services/${s.name}/`);
                const leaked = context.filter(
                    (f) =>
                        /^(components|tests|scripts|bench|\.ci)\//.test(f) ||
                        /^[^/]+\.ts$/.test(f) ||
                        /^Pulumi.*\.yaml$/.test(f) ||
                        others.some((o) => f.startsWith(o)) ||
                        f.startsWith(`${own}test/`),
                );
                assert.deepStrictEqual(leaked, []);
            });

            it("still hold everything the Dockerfile copies", () => {
                const dockerfile = fs.readFileSync(path.join(ROOT, service.build.dockerfile), "utf8").replace(/\$\{SERVICE\}/g, service.name);
                const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
                assert.ok(sources.length >= 5, `found ${sources.length} COPY sources`);
                for (const source of sources) {
                    assert.ok(
                        context.some((f) => f === source || f.startsWith(`${source.replace(/\/$/, "")}/`)),
                        `${source} is not in the context`,
                    );
                }
            });
        });
    }
});

describe("the commit an image is built from", () => {
    let repo: string;
    const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" }).trim();
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
        fs.writeFileSync(path.join(repo, file), text);
    };
    const version = () => sourceVersion(repo, ".", "svc/Dockerfile");

    before(() => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "berth-source-"));
        git("init", "-q");
        write("svc/Dockerfile", "FROM scratch\n");
        write("svc/Dockerfile.dockerignore", "*\n!svc/src\n");
        write("svc/src/main.js", "1\n");
        write("infra.ts", "a\n");
        git("add", "-A");
        git("commit", "-qm", "one");
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("is the newest commit that changed the build context, not HEAD", () => {
        const first = git("rev-parse", "HEAD");
        assert.deepStrictEqual({ ...version(), contentHash: undefined }, { commit: first, dirty: false, contentHash: undefined });
        write("infra.ts", "b\n");
        git("commit", "-qam", "infrastructure only");
        assert.strictEqual(version().commit, first, "a commit outside the context would roll the service out");
        write("svc/src/main.js", "2\n");
        git("commit", "-qam", "the service");
        assert.strictEqual(version().commit, git("rev-parse", "HEAD"));
    });

    it("is marked dirty, with a new content hash, when the context differs from it", () => {
        const clean = version();
        write("svc/src/main.js", "3\n");
        const edited = version();
        assert.strictEqual(edited.dirty, true);
        assert.strictEqual(commitLabel(edited), `${clean.commit}-dirty`);
        assert.notStrictEqual(edited.contentHash, clean.contentHash);
        write("infra.ts", "c\n");
        assert.strictEqual(version().contentHash, edited.contentHash, "a file outside the context changed the hash");
        git("checkout", "--", ".");
        assert.deepStrictEqual(version(), clean);
    });

    it('falls back to "unknown" outside a git checkout', () => {
        fs.rmSync(path.join(repo, ".git"), { recursive: true, force: true });
        const v = version();
        assert.strictEqual(v.commit, UNKNOWN_COMMIT);
        assert.strictEqual(v.dirty, false);
        assert.match(v.contentHash, /^[0-9a-f]{64}$/);
    });
});

/**
 * The image provider builds and pushes again whenever its context hash changes (pulumi/pulumi-docker-build
 * provider/internal/context.go: every file on disk under the context that the ignore lines admit, git or
 * not, with its path, mode and content, plus the Dockerfile). The build id, and with it the pushed tag,
 * must change with it: a push under an existing immutable tag fails.
 */
describe("the content hash of an image", () => {
    let repo: string;
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
        fs.writeFileSync(path.join(repo, file), text);
    };
    const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" }).trim();
    const version = () => sourceVersion(repo, ".", "svc/Dockerfile");
    const files = () => contextFiles(repo, ".", "svc/Dockerfile");

    beforeEach(() => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "berth-hash-"));
        write("svc/Dockerfile", "FROM scratch\n");
        write("svc/Dockerfile.dockerignore", "*\n!svc/src\nsvc/src/tmp\n!svc/src/tmp/keep.txt\n");
        write("svc/src/main.js", "1\n");
        write("svc/src/tmp/scratch.txt", "x\n");
        write("svc/src/tmp/keep.txt", "k\n");
        write("node_modules/dep/index.js", "d\n");
        write(".gitignore", "*.log\n");
    });
    afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("covers a file git ignores but the ignore lines admit, and marks the build dirty", () => {
        git("init", "-q");
        git("add", "-A");
        git("commit", "-qm", "one");
        write("svc/src/debug.log", "a\n");
        assert.ok(files().includes("svc/src/debug.log"), "the provider hashes it, and the image holds it");
        const before = version();
        assert.strictEqual(before.dirty, true, "the image holds a file that no commit has");
        write("svc/src/debug.log", "b\n");
        assert.notStrictEqual(version().contentHash, before.contentHash, "the provider would push again under the same tag");
    });

    it("admits what an exception re-admits under an excluded directory, and nothing else there", () => {
        assert.deepStrictEqual(files(), ["svc/src/main.js", "svc/src/tmp/keep.txt"]);
        const before = version().contentHash;
        write("node_modules/dep/index.js", "e\n");
        write("svc/src/tmp/scratch.txt", "y\n");
        assert.strictEqual(version().contentHash, before, "a file the ignore lines exclude changed the hash");
        write("svc/src/tmp/keep.txt", "l\n");
        assert.notStrictEqual(version().contentHash, before);
    });

    it("follows a link to a file, and tells the link from a copy of its target", () => {
        write("shared/config.json", "{}\n");
        write("svc/Dockerfile.dockerignore", "*\n!svc/src\n");
        fs.symlinkSync(path.join(repo, "shared/config.json"), path.join(repo, "svc/src/config.json"));
        assert.ok(files().includes("svc/src/config.json"));
        const linked = version().contentHash;
        write("shared/config.json", '{"a":1}\n');
        const edited = version().contentHash;
        assert.notStrictEqual(edited, linked, "the provider hashes the link's target");
        fs.rmSync(path.join(repo, "svc/src/config.json"));
        fs.copyFileSync(path.join(repo, "shared/config.json"), path.join(repo, "svc/src/config.json"));
        assert.notStrictEqual(version().contentHash, edited, "the provider hashes a link's mode, which a copy does not have");
    });

    it("changes with a file's permissions, and with the Dockerfile even when the ignore lines leave it out", () => {
        const before = version().contentHash;
        fs.chmodSync(path.join(repo, "svc/src/main.js"), 0o755);
        const executable = version().contentHash;
        assert.notStrictEqual(executable, before);
        write("svc/Dockerfile", "FROM scratch\nUSER 1\n");
        assert.notStrictEqual(version().contentHash, executable);
    });
});
