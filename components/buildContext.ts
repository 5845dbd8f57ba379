/**
 * What an image is built from, read from the checkout at program start: the files of a build context (as
 * BuildKit and the image provider select them), their content hash, and the git commit they come from.
 *
 * The commit of a service is the newest commit that changed a file of its build context, not HEAD: a commit
 * that touches only infrastructure or another service builds nothing and rolls out nothing, and the commit
 * a task shows is the one whose code it runs.
 */
import ignore from "@balena/dockerignore";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Where an image's source stands. */
export interface SourceVersion {
    /** The full commit hash, or `UNKNOWN_COMMIT` outside a git checkout. */
    commit: string;
    /** Files of the context differ from that commit (edited, added or deleted, not committed). */
    dirty: boolean;
    /** sha256 over the context's files (path, mode, content) and the Dockerfile. */
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

/** Every file under `dir` (relative to `root`), for a checkout without git; dependency folders left out. */
function walk(root: string, dir: string): string[] {
    return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = path.posix.join(dir === "." ? "" : dir, entry.name);
        if (entry.isDirectory()) {
            return entry.name === "node_modules" || entry.name === ".git" ? [] : walk(root, rel);
        }
        return entry.isFile() ? [rel] : [];
    });
}

/**
 * The files of a build context, relative to `root` (the repository), sorted: git's view of the checkout
 * (tracked and untracked, not ignored), or every file without git, narrowed by `<Dockerfile>.dockerignore`
 * (else the context's `.dockerignore`) with Docker's matching rules, the file BuildKit reads first
 * (https://docs.docker.com/build/concepts/context/#filename-and-location).
 */
export function contextFiles(root: string, context: string, dockerfile: string): string[] {
    const listed = git(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", context]);
    const files = listed === undefined
        ? walk(root, context)
        : listed.split("\0").filter((f) => f !== "" && fs.existsSync(path.join(root, f)));
    const contextDir = path.join(root, context);
    const ignoreFile = [path.join(root, `${dockerfile}.dockerignore`), path.join(contextDir, ".dockerignore")].find((f) => fs.existsSync(f));
    const matcher = ignore().add(ignoreFile ? fs.readFileSync(ignoreFile, "utf8") : "");
    return files
        .filter((f) => {
            const inContext = path.relative(contextDir, path.join(root, f));
            return !inContext.startsWith("..") && !matcher.ignores(inContext);
        })
        .sort();
}

/** sha256 over each file's path, mode and content, then the Dockerfile's content. */
export function contentHash(root: string, files: readonly string[], dockerfile: string): string {
    const hash = createHash("sha256");
    for (const file of [...files].sort()) {
        const full = path.join(root, file);
        hash.update(`${file}\0${fs.statSync(full).mode & 0o7777}\0`).update(fs.readFileSync(full)).update("\0");
    }
    // A missing Dockerfile fails the build itself, with the image provider's error.
    const file = path.join(root, dockerfile);
    return hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "").digest("hex");
}

/**
 * The newest commit that changed a file of the build context (or the Dockerfile), whether the checkout
 * differs from it there, and the content hash.
 */
export function sourceVersion(root: string, context: string, dockerfile: string): SourceVersion {
    const files = contextFiles(root, context, dockerfile);
    const paths = [...new Set([...files, dockerfile])];
    const hash = contentHash(root, files, dockerfile);
    const commit = git(root, ["log", "-1", "--format=%H", "--", ...paths])?.trim();
    if (!commit) {
        return { commit: UNKNOWN_COMMIT, dirty: false, contentHash: hash };
    }
    const status = git(root, ["status", "--porcelain", "--untracked-files=all", "--", ...paths]) ?? "";
    return { commit, dirty: status.trim() !== "", contentHash: hash };
}
