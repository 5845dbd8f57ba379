/** The types of the validated settings, derived from the settings table (config/table.ts). */
import type * as pulumi from "@pulumi/pulumi";
import type { AwsIdentity } from "../core/awsIdentity";
import type { Rollout, RolloutDefaults } from "../core/rolloutStrategy";
import type { SecretReference } from "../core/secretReference";
import type { ValuesOfKind } from "./setting";
import type { DATABASE_SETTINGS, SETTINGS } from "./table";

type Table = typeof SETTINGS;

/** The database's size, engine and protection: every key can be overridden under `berth:database`. */
export type DatabasePreset = ValuesOfKind<typeof DATABASE_SETTINGS, "preset">;

/** The database's settings, with the range of its isolated subnets. */
export interface DatabaseSettings extends DatabasePreset {
    /** The isolated subnets' range; undefined when no service declares the database and none was set. */
    cidr?: string;
}

/** The sizes and counts of one service's tasks: the preset's, the stack's, then `berth:services.<name>`. */
export type ServiceSettings = ValuesOfKind<Table, "service">;

/** Everything that differs between environments. A stack may override any key of its preset. */
export type Preset = ValuesOfKind<Table, "preset" | "service"> & {
    /** The PostgreSQL instance, created when a catalogue service declares `database`. */
    database: DatabasePreset;
    /** Each traffic-shifting strategy's parameters where neither the catalogue nor the stack sets them. */
    rolloutDefaults: RolloutDefaults;
};

/** One variable a service reads from a secret (`berth:secrets.<service>.<VARIABLE>`). */
export type ServiceSecret = { name: string; kind: "value"; value: pulumi.Output<string> } | ({ name: string } & SecretReference);

/** The validated stack configuration: every key of the table, and what Berth derives for each service. */
export type Settings = ValuesOfKind<Table, "preset" | "stack" | "required"> &
    Partial<ValuesOfKind<Table, "optional">> & {
        project: string;
        stack: string;
        region: string;
        rolloutDefaults: RolloutDefaults;
        /** The stack's `aws:*` credential settings: Berth's AWS provider and the deployment check act with them. */
        awsIdentity: AwsIdentity;
        /** Per catalogue service, in catalogue order. */
        services: Record<string, ServiceSettings>;
        /** The database's settings and the range of its isolated subnets. */
        database: DatabaseSettings;
        /** Per service that has any: its secrets from `berth:secrets`, values wrapped as Pulumi secrets. */
        secrets: Record<string, ServiceSecret[]>;
        /** Per catalogue service: how its new versions take over (catalogue entry, then `berth:services.<name>.rollout`). */
        rollouts: Record<string, Rollout>;
    };
