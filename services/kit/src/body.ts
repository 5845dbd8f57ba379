/**
 * The JSON bodies the services take: UTF-8, nested at most `MAX_DEPTH` deep, with no string PostgreSQL
 * cannot store (a NUL) or Unicode cannot encode (a lone surrogate, which would be stored as U+FFFD), and
 * no `__proto__` key. Each refusal is a 400 naming the field, instead of a 500 from the database or a
 * value silently changed.
 */
import { HttpError } from "./errors";

/** Deepest nesting of objects and arrays a body may have. */
export const MAX_DEPTH = 32;

const UTF8 = new TextDecoder("utf-8", { fatal: true });
/** In `u` mode a paired surrogate is one code point; only a lone one is a code point of category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/** `a.b.0.c` for a field, `body` for the whole. */
function fieldName(path: readonly (string | number)[]): string {
    return path.length === 0 ? "body" : `"${path.join(".")}"`;
}

function hasOwn(value: unknown, key: string): boolean {
    return typeof value === "object" && value !== null && Object.hasOwn(value, key);
}

/** Why a string may not be stored, or undefined. */
function stringProblem(text: string): string | undefined {
    if (text.includes("\u0000")) {
        return "contains a NUL character (\\u0000), which is not allowed";
    }
    if (LONE_SURROGATE.test(text)) {
        return "contains a lone UTF-16 surrogate, which is not valid Unicode";
    }
    return undefined;
}

/**
 * Parses a JSON request body, or throws `HttpError` 400 saying what is wrong and where. Iterative, so that
 * no nesting can exhaust the stack; the body limit bounds the work.
 */
export function parseJsonBody(raw: Buffer): unknown {
    let text: string;
    try {
        text = UTF8.decode(raw);
    } catch {
        throw new HttpError(400, "Body is not valid UTF-8");
    }
    if (text.trim() === "") {
        throw new HttpError(400, "Body is empty, but its content type is application/json");
    }
    let body: unknown;
    try {
        body = JSON.parse(text);
    } catch (err) {
        throw new HttpError(400, `Body is not valid JSON: ${(err as Error).message}`);
    }
    const stack: Array<{ value: unknown; path: (string | number)[] }> = [{ value: body, path: [] }];
    while (stack.length > 0) {
        const { value, path } = stack.pop()!;
        if (typeof value === "string") {
            const problem = stringProblem(value);
            if (problem) {
                throw new HttpError(400, `Invalid body: ${fieldName(path)} ${problem}`);
            }
        } else if (typeof value === "object" && value !== null) {
            if (path.length >= MAX_DEPTH) {
                throw new HttpError(400, `Invalid body: ${fieldName(path)} is nested deeper than ${MAX_DEPTH} levels`);
            }
            if (Array.isArray(value)) {
                value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
                continue;
            }
            for (const key of Object.keys(value)) {
                const field = [...path, key];
                if (key === "__proto__" || (key === "constructor" && hasOwn((value as Record<string, unknown>)[key], "prototype"))) {
                    throw new HttpError(400, `Invalid body: ${fieldName(field)} is a key no body may have (it would change objects' prototype)`);
                }
                const problem = stringProblem(key);
                if (problem) {
                    throw new HttpError(400, `Invalid body: the key ${JSON.stringify(key)} at ${fieldName(path)} ${problem}`);
                }
                stack.push({ value: (value as Record<string, unknown>)[key], path: field });
            }
        }
    }
    return body;
}
