/**
 * What the docs test needs to read Markdown as GitHub renders it: headings and their anchors, links, and the
 * references to a section (`docs/gateway.md, "Authentication"`) that the code's messages and comments make.
 */
import * as path from "path";

/** Lines outside fenced code blocks (``` or ~~~), with their 1-based numbers. */
function proseLines(markdown: string): Array<{ line: string; n: number }> {
    const out: Array<{ line: string; n: number }> = [];
    let fence: string | undefined;
    markdown.split("\n").forEach((line, i) => {
        const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
        if (open) {
            if (fence === undefined) {
                fence = open[1][0];
            } else if (open[1][0] === fence) {
                fence = undefined;
            }
            return;
        }
        if (fence === undefined) {
            out.push({ line, n: i + 1 });
        }
    });
    return out;
}

/** A heading's text as GitHub shows it: links reduced to their text, code spans and emphasis unmarked. */
export function plainText(heading: string): string {
    return heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/`([^`]*)`/g, "$1")
        .replace(/(\*\*|__|\*)(.+?)\1/g, "$2");
}

/**
 * GitHub's anchor for a heading (github-slugger, which github.com follows): lower case, every character that
 * is not a letter, mark, digit, connector (`_`), space or hyphen removed, each space a hyphen.
 */
export function slug(heading: string): string {
    return plainText(heading)
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** The ATX headings of a page (outside code blocks), as written. */
export function headings(markdown: string): string[] {
    return proseLines(markdown)
        .map(({ line }) => /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1])
        .filter((h): h is string => h !== undefined);
}

/** The anchors of a page's headings; a repeated one gets `-1`, `-2`, ... as on GitHub. */
export function anchors(markdown: string): Set<string> {
    const taken = new Set<string>();
    for (const heading of headings(markdown)) {
        const base = slug(heading);
        let candidate = base;
        for (let i = 1; taken.has(candidate); i++) {
            candidate = `${base}-${i}`;
        }
        taken.add(candidate);
    }
    return taken;
}

export interface Link {
    target: string;
    line: number;
}

/** The inline links and images of a page, outside code blocks and code spans. */
export function links(markdown: string): Link[] {
    const out: Link[] = [];
    for (const { line, n } of proseLines(markdown)) {
        const prose = line.replace(/(`+)[\s\S]*?\1/g, "");
        for (const m of prose.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
            out.push({ target: m[1], line: n });
        }
    }
    return out;
}

/**
 * Every link of `pages` (path relative to the repository, to content) that does not resolve: a relative path
 * must name a file or folder that `exists`, and an anchor must be one of the target page's headings.
 */
export function linkProblems(pages: Readonly<Record<string, string>>, exists: (relative: string) => boolean): string[] {
    const problems: string[] = [];
    const anchorsOf = new Map<string, Set<string>>();
    const anchorsIn = (page: string): Set<string> => {
        if (!anchorsOf.has(page)) {
            anchorsOf.set(page, anchors(pages[page] ?? ""));
        }
        return anchorsOf.get(page)!;
    };
    for (const [page, text] of Object.entries(pages)) {
        for (const { target, line } of links(text)) {
            if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) {
                continue;
            }
            const hash = target.indexOf("#");
            const file = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
            const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
            const resolved = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file)).replace(/\/$/, "");
            if (file !== "" && (resolved.startsWith("..") || !(resolved in pages || exists(resolved)))) {
                problems.push(`${page}:${line}: ${target}: no file ${resolved}`);
                continue;
            }
            if (anchor !== undefined) {
                if (!resolved.endsWith(".md") || !(resolved in pages)) {
                    problems.push(`${page}:${line}: ${target}: an anchor into ${resolved}, which is no page of the docs`);
                } else if (!anchorsIn(resolved).has(anchor)) {
                    problems.push(`${page}:${line}: ${target}: ${resolved} has no heading with the anchor #${anchor}`);
                }
            }
        }
    }
    return problems;
}

export interface SectionReference {
    /** `README.md` or `docs/<page>.md`. */
    page: string;
    /** The section named in quotes, when one is. */
    section?: string;
    line: number;
}

/**
 * The references to the docs in a source file's text: `README, "Authentication"`, `docs/gateway.md, "The edge:
 * gateway or ALB"` (quotes escaped or not), or a page alone (`see docs/settings.md`). A README of another
 * project (`aws-cdk-lib/aws-ecs README, "..."`, a URL) is not one.
 */
export function sectionReferences(source: string): SectionReference[] {
    const out: SectionReference[] = [];
    source.split("\n").forEach((text, i) => {
        const re = /(README(?:\.md)?|docs\/[\w.-]+\.md)(?:,? \\?"([^"\\]+)\\?")?/g;
        for (const m of text.matchAll(re)) {
            const before = text.slice(0, m.index);
            const token = /(\S*)\s$/.exec(before)?.[1] ?? "";
            // Part of a path or URL (`blob/v7.0.0/README.md`), or qualified by one (`aws-cdk-lib/aws-ecs README`).
            if (/[\w./-]$/.test(before) || (token.includes("/") && !/[,;]$/.test(token))) {
                continue;
            }
            if (m[1].startsWith("README") && m[2] === undefined) {
                continue;
            }
            out.push({ page: m[1] === "README" ? "README.md" : m[1], section: m[2], line: i + 1 });
        }
    });
    return out;
}

/** Whether `page`'s text has a heading `section`, as written or as shown. */
export function hasSection(markdown: string, section: string): boolean {
    return headings(markdown).some((h) => h === section || plainText(h) === section);
}
