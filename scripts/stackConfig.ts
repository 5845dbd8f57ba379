/**
 * A stack's configuration as the Pulumi CLI hands it to the program, read from `Pulumi.yaml` and
 * `Pulumi.<stack>.yaml` without the CLI: the project's defaults under the stack file's values, every value a
 * string (objects as JSON). The tests and `npm run cost` read stacks through it.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";

/** The repository root, where the Pulumi project files are. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** What stands in for a value set with `--secret`: the CLI would decrypt it, nothing here can. */
export const SECRET_PLACEHOLDER = "[secret]";

export interface StackFileConfig {
    /** The project's name (`name` in Pulumi.yaml), the namespace of its keys. */
    project: string;
    config: Record<string, string>;
    /** The keys holding values set with `--secret` (`secure:` in the stack file). */
    secretKeys: string[];
}

/** Replaces each `{ secure: … }` with the placeholder; says whether there was one. */
/** A key of Pulumi.yaml's `config`: a plain value, or a declaration with a `default` (or a `value`). */
type ConfigDeclaration = string | number | boolean | null | { default?: unknown; value?: unknown };

function withoutCiphertext(value: unknown): { value: unknown; secret: boolean } {
    if (typeof value !== "object" || value === null) {
        return { value, secret: false };
    }
    if (!Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string") {
        return { value: SECRET_PLACEHOLDER, secret: true };
    }
    let secret = false;
    const entries = Object.entries(value).map(([k, v]) => {
        const inner = withoutCiphertext(v);
        secret ||= inner.secret;
        return [k, inner.value] as const;
    });
    return { value: Array.isArray(value) ? entries.map(([, v]) => v) : Object.fromEntries(entries), secret };
}

/** The configuration of `stack`; throws naming the file when there is none. */
export function readStackConfig(stack: string, root = PROJECT_ROOT): StackFileConfig {
    const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${path.relative(process.cwd(), file) || file}; shipped stacks: ${shippedStacks(root).join(", ")}`);
    }
    const stackFile = parseYaml(fs.readFileSync(file, "utf8")) ?? {};
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, decl] of Object.entries<ConfigDeclaration>(project.config ?? {})) {
        const full = key.includes(":") ? key : `${project.name}:${key}`;
        const value = typeof decl !== "object" || decl === null ? decl : "default" in decl ? decl.default : decl.value;
        if (value !== undefined && typeof value !== "object") {
            config[full] = String(value);
        }
    }
    for (const [key, raw] of Object.entries<unknown>(stackFile.config ?? {})) {
        const { value, secret } = withoutCiphertext(raw);
        config[key] = typeof value === "object" ? JSON.stringify(value) : String(value);
        if (secret) {
            secretKeys.push(key);
        }
    }
    return { project: project.name, config, secretKeys };
}

/** The stacks this repository ships: one per `Pulumi.<stack>.yaml`. */
export function shippedStacks(root = PROJECT_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}
