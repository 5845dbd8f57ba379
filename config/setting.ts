/**
 * The shape of one row of the settings table (config/table.ts): how a key is parsed, where its default comes
 * from, what an error says is allowed, and its row in the settings reference (docs/settings.md).
 */
import type { z } from "zod";
import type { CatalogService } from "../catalog";

export const ENVIRONMENTS = ["test", "prod"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/**
 * Where a key's value comes from when the stack does not set it:
 * - `preset`: the environment preset's value (`test` or `prod`);
 * - `service`: the preset's value too, and each service may override it under `berth:services.<name>`;
 * - `stack`: one default, whatever the environment;
 * - `optional`: none: the setting is off, or undefined;
 * - `required`: none: the stack must set it (Pulumi.yaml gives the default);
 * - `structured`: an object read by its own step of `loadSettings` (its fields, the catalogue's services).
 */
export type Kind = "preset" | "service" | "stack" | "optional" | "required" | "structured";

/** What `read` gets besides the parsed value: the full key, the catalogue, and where to report problems. */
export interface ReadContext {
    key: string;
    services: readonly CatalogService[];
    problems: string[];
}

/** A key's row in the settings reference. */
export interface Reference {
    /** What the key does and what it allows, in the reference's words (Markdown). */
    text: string;
    /** The `test` and `prod` columns when they are not the key's defaults (`Pulumi.yaml`'s, a pointer). */
    test?: string;
    prod?: string;
}

export interface Setting<K extends Kind, S extends z.ZodType, V> {
    kind: K;
    /** Parses the stack's value, as text (the CLI's) or as JSON (`--path`). */
    schema: S;
    /** What is allowed, in the words of an error: "`<key>` is `<value>`; allowed: `<allowed>`". */
    allowed: string;
    reference: Reference;
    /** Turns the parsed value into the setting's, reporting problems; the value as parsed without it. */
    read?: (value: z.output<S>, context: ReadContext) => V;
    /** `preset` and `service` keys: the value of each environment. */
    preset?: Record<EnvironmentName, V>;
    /** `stack` keys: the value of every environment. */
    default?: V;
    /** `preset` and `service` keys: the value when the stack leaves the key unset, from the preset's and the keys before it. */
    unset?: (preset: V, merged: Readonly<Record<string, unknown>>) => V;
    /** `structured` keys set field by field: the fields, each a setting of its own. */
    fields?: Readonly<Record<string, AnySetting>>;
}

/** Any row of a table, as code that walks the table sees it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySetting = Setting<Kind, any, any>;

type Spec<S extends z.ZodType, V> = Omit<Setting<Kind, S, V>, "kind" | "preset" | "default" | "unset">;

/** A key whose default is the environment preset's. */
export function preset<S extends z.ZodType, V = z.output<S>>(
    spec: Spec<S, V> & { preset: Record<EnvironmentName, NoInfer<V>>; unset?: (preset: NoInfer<V>, merged: Readonly<Record<string, unknown>>) => NoInfer<V> },
): Setting<"preset", S, V> {
    return { kind: "preset", ...spec };
}

/** A key of the preset that each service may override under `berth:services.<name>`. */
export function service<S extends z.ZodType, V = z.output<S>>(
    spec: Spec<S, V> & { preset: Record<EnvironmentName, NoInfer<V>>; unset?: (preset: NoInfer<V>, merged: Readonly<Record<string, unknown>>) => NoInfer<V> },
): Setting<"service", S, V> {
    return { kind: "service", ...spec };
}

/** A key with one default for every environment. */
export function stack<S extends z.ZodType, V = z.output<S>>(spec: Spec<S, V> & { default: NoInfer<V> }): Setting<"stack", S, V> {
    return { kind: "stack", ...spec };
}

/** A key without a default. */
export function optional<S extends z.ZodType, V = z.output<S>>(spec: Spec<S, V>): Setting<"optional", S, V> {
    return { kind: "optional", ...spec };
}

/** A key the stack must set. */
export function required<S extends z.ZodType, V = z.output<S>>(spec: Spec<S, V>): Setting<"required", S, V> {
    return { kind: "required", ...spec };
}

/** An object read by its own step of `loadSettings`. */
export function structured<S extends z.ZodType>(spec: Spec<S, unknown>): Setting<"structured", S, unknown> {
    return { kind: "structured", ...spec };
}

/** The value type of a setting. */
export type ValueOf<T> = T extends Setting<Kind, z.ZodType, infer V> ? V : never;

/** The keys of `table` of the given kinds. */
export type KeysOfKind<T, K extends Kind> = { [P in keyof T]: T[P] extends { kind: K } ? P : never }[keyof T];

/** The values of the keys of `table` of the given kinds. */
export type ValuesOfKind<T, K extends Kind> = { -readonly [P in KeysOfKind<T, K>]: ValueOf<T[P]> };
