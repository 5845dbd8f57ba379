/**
 * What an image is built from, read from the checkout at program start: the files of a build context (as
 * the image provider selects them for its context hash), their content hash, and the git commit they come
 * from.
 *
 * The commit of a service is the newest commit that changed a file of its build context, not HEAD: a commit
 * that touches only infrastructure or another service builds nothing and rolls out nothing, and the commit
 * a task shows is the one whose code it runs.
 */
import ignore, { type Ignore } from "@balena/dockerignore";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Where an image's source stands. */
export interface SourceVersion {
    /** The full commit hash, or `UNKNOWN_COMMIT` outside a git checkout. */
    commit: string;
    /**
     * Files of the context differ from that commit: edited, added, deleted, or ignored by git (such a file
     * is in the image, but in no commit).
     */
    dirty: boolean;
    /** sha256 over the context's files (path, file type and permissions, content) and the Dockerfile. */
    contentHash: string;
}

/** The commit a build outside a git checkout (an unpacked archive, a CI cache without .git) is labelled with. */
export const UNKNOWN_COMMIT = "unknown";

/** `<commit>` or `<commit>-dirty`: what the task's `BERTH_COMMIT` variable and `berth:commit` tag say. */
export function commitLabel(version: Pick<SourceVersion, "commit" | "dirty">): string {
    return version.dirty ? `${version.commit}-dirty` : version.commit;
}

function git(root: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 * 1024 * 1024 });
    } catch {
        return undefined;
    }
}

/**
 * A path component of a .dockerignore line as a regular expression: `*` and `?` stay within the component;
 * a component with a character class or an escape matches anything (the walk then descends, to be safe).
 */
function componentPattern(glob: string): RegExp {
    if (/[[\\]/.test(glob)) {
        return /^/;
    }
    const source = glob
        .split("")
        .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|]/g, "\\$&")))
        .join("");
    return new RegExp(`^${source}$`);
}

/**
 * Whether an exception line (`!pattern`) could re-admit something under `dir`, a directory the other lines
 * exclude: its leading components match the directory's, or a `**` comes first. Wrong answers err on
 * "could": the walk then descends, which costs time, never a file.
 */
function mayReadmitUnder(dir: string, exception: string): boolean {
    const pattern = exception
        .replace(/^\/+/, "")
        .split("/")
        .filter((p) => p !== "" && p !== ".");
    const parts = dir.split("/");
    for (let i = 0; i < parts.length; i++) {
        if (i >= pattern.length) return false;
        if (pattern[i] === "**") return true;
        if (!componentPattern(pattern[i]).test(parts[i])) return false;
    }
    return pattern.length > parts.length;
}

/**
 * Every file and symbolic link under `contextDir` (relative to it) that `matcher` admits: what the image
 * provider walks. It follows no link to a directory, as its walk does not; a link to a file counts, its
 * target's content hashed. Excluded directories are skipped unless an exception line may re-admit a path
 * under them.
 */
function walkContext(contextDir: string, matcher: Ignore, exceptions: readonly string[], dir = ""): string[] {
    return fs
        .readdirSync(path.join(contextDir, dir), { withFileTypes: true })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .flatMap((entry) => {
            const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
            if (entry.isDirectory()) {
                const excluded = matcher.ignores(rel) && !exceptions.some((e) => mayReadmitUnder(rel, e));
                return excluded ? [] : walkContext(contextDir, matcher, exceptions, rel);
            }
            return (entry.isFile() || entry.isSymbolicLink()) && !matcher.ignores(rel) ? [rel] : [];
        });
}

/**
 * The ignore lines that apply to a build: `<Dockerfile>.dockerignore`, else the context's `.dockerignore`
 * (https://docs.docker.com/build/concepts/context/#filename-and-location), as the image provider picks them
 * (pulumi/pulumi-docker-build provider/internal/context.go, `getIgnorePatterns`).
 */
function ignoreLines(root: string, context: string, dockerfile: string): string[] {
    const file = [path.join(root, `${dockerfile}.dockerignore`), path.join(root, context, ".dockerignore")].find((f) => fs.existsSync(f));
    return file === undefined
        ? []
        : fs
              .readFileSync(file, "utf8")
              .split(/\r?\n/)
              .map((l) => l.trim())
              .filter((l) => l !== "" && !l.startsWith("#"));
}

/**
 * The files of a build context, relative to `root` (the repository), sorted: exactly the set the image
 * provider hashes to decide whether to build and push again (pulumi/pulumi-docker-build
 * provider/internal/context.go, `hashBuildContext`): every regular file and symbolic link on disk under the
 * context, whether git tracks or ignores it, that the ignore lines admit with Docker's matching rules. A
 * file the provider hashes and this list missed would make the provider push again under the same tag,
 * which ECR refuses for an immutable tag.
 */
export function contextFiles(root: string, context: string, dockerfile: string): string[] {
    const lines = ignoreLines(root, context, dockerfile);
    const matcher = ignore().add(lines);
    const exceptions = lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1).trim());
    const prefix = path.relative(root, path.join(root, context)).split(path.sep).join("/");
    // A missing context fails the build itself, with the image provider's error.
    if (!fs.statSync(path.join(root, context), { throwIfNoEntry: false })?.isDirectory()) {
        return [];
    }
    return walkContext(path.join(root, context), matcher, exceptions)
        .map((f) => (prefix === "" ? f : `${prefix}/${f}`))
        .sort();
}

/**
 * sha256 over each file's path, file type and permission bits (its `lstat` mode: a link and the file it
 * names differ) and content (a link's target's), then the Dockerfile's content, hashed even when the
 * ignore lines leave it out. These are the inputs of the image provider's `hashFile` and `hashDockerfile`
 * (provider/internal/context.go), so the hash changes whenever the provider's does; a link to a directory
 * is skipped, as the provider skips it.
 */
export function contentHash(root: string, files: readonly string[], dockerfile: string): string {
    const hash = createHash("sha256");
    for (const file of [...files].sort()) {
        const full = path.join(root, file);
        const target = fs.statSync(full, { throwIfNoEntry: false });
        if (target === undefined || target.isDirectory()) {
            continue;
        }
        hash.update(`${file}\0${fs.lstatSync(full).mode}\0`)
            .update(fs.readFileSync(full))
            .update("\0");
    }
    // A missing Dockerfile fails the build itself, with the image provider's error.
    const file = path.join(root, dockerfile);
    return hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "").digest("hex");
}

/**
 * The newest commit that changed a file of the build context (or the Dockerfile), whether the checkout
 * differs from it there (a file git ignores counts: the image holds it, no commit does), and the content
 * hash.
 */
export function sourceVersion(root: string, context: string, dockerfile: string): SourceVersion {
    const files = contextFiles(root, context, dockerfile);
    const paths = [...new Set([...files, dockerfile])];
    const hash = contentHash(root, files, dockerfile);
    const commit = git(root, ["log", "-1", "--format=%H", "--", ...paths])?.trim();
    if (!commit) {
        return { commit: UNKNOWN_COMMIT, dirty: false, contentHash: hash };
    }
    const status = git(root, ["status", "--porcelain", "--untracked-files=all", "--ignored=matching", "--", ...paths]) ?? "";
    return { commit, dirty: status.trim() !== "", contentHash: hash };
}
