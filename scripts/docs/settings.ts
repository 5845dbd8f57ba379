/**
 * The settings reference (docs/settings.md, between its `settings` markers): one row per key of the settings
 * table (config/table.ts), with each preset's default and what the key allows.
 *
 *     npm run docs
 */
import * as fs from "fs";
import * as path from "path";
import { SETTINGS } from "../../config/table";
import type { AnySetting, EnvironmentName } from "../../config/setting";

export const SETTINGS_DOC = path.join(__dirname, "..", "..", "docs", "settings.md");
export const SETTINGS_BEGIN = "<!-- settings (npm run docs) -->";
export const SETTINGS_END = "<!-- /settings -->";

/** A default as the table shows it: "–" for none. */
function shown(value: unknown): string {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        return "–";
    }
    return typeof value === "string" ? `\`${value}\`` : typeof value === "object" ? `\`${JSON.stringify(value)}\`` : String(value);
}

function column(spec: AnySetting, name: EnvironmentName): string {
    return spec.reference[name] ?? shown(spec.preset?.[name] ?? spec.default);
}

function rows(table: Readonly<Record<string, AnySetting>>, prefix: string): string[] {
    return Object.entries(table).flatMap(([key, spec]) => [
        `| \`${prefix}${key}\` | ${column(spec, "test")} | ${column(spec, "prod")} | ${spec.reference.text} |`,
        ...(spec.fields ? rows(spec.fields, `${prefix}${key}.`) : []),
    ]);
}

/** The reference table, in Markdown. */
export function settingsMarkdown(): string {
    return ["| Key | `test` | `prod` | Allowed |", "| --- | --- | --- | --- |", ...rows(SETTINGS as Readonly<Record<string, AnySetting>>, "")].join("\n");
}

/** `text` with the block between the markers replaced by `block`. */
export function withBlock(text: string, block: string): string {
    const begin = text.indexOf(SETTINGS_BEGIN);
    const end = text.indexOf(SETTINGS_END);
    if (begin < 0 || end < begin) {
        throw new Error(`${SETTINGS_DOC} has no ${SETTINGS_BEGIN} ... ${SETTINGS_END} block`);
    }
    return `${text.slice(0, begin + SETTINGS_BEGIN.length)}\n${block}\n${text.slice(end)}`;
}

if (require.main === module) {
    fs.writeFileSync(SETTINGS_DOC, withBlock(fs.readFileSync(SETTINGS_DOC, "utf8"), settingsMarkdown()));
}
