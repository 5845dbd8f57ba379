/**
 * Stack configuration -> one validated, typed `Settings` object, built around one table of settings
 * (config/table.ts).
 */
export { ConfigError } from "./errors";
export { loadSettings } from "./load";
export { settingsFromStack } from "./stack";
export { chooseZones, type RegionZones } from "./network";
export { stackAwsAccess } from "./aws";
export { PRESETS } from "./presets";
export { LOG_RETENTION_DAYS, RESERVED_RANGES } from "./parsers";
export { DATABASE_SETTINGS, SETTINGS } from "./table";
export type { EnvironmentName } from "./setting";
export type { PipelineSettings } from "./pipeline";
export type { DatabasePreset, DatabaseSettings, Preset, ServiceSecret, ServiceSettings, Settings } from "./types";
