/**
 * The database's fixed facts and the rules its settings follow (port, monitoring, events, engine versions,
 * instance classes, storage, backups, identifier): pure, so that config/, the pipeline's policies and the
 * tests read them without Pulumi.
 */

/**
 * The port the instance listens on: not the engine's default, which Security Hub's FSBP control RDS.23
 * (`rds-no-default-ports`, https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-23)
 * flags. It costs nothing: the services read the port from `DB_PORT`, and the security groups admit exactly
 * this one.
 */
export const DATABASE_PORT = 5433;

/**
 * Seconds between Enhanced Monitoring samples (FSBP RDS.6, `rds-enhanced-monitoring-enabled`): the longest
 * interval RDS offers, 1, 5, 10, 15, 30 or 60, and so the fewest CloudWatch Logs events to pay for
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.html).
 */
export const ENHANCED_MONITORING_INTERVAL = 60;

/**
 * The RDS event categories the database notifies the alarm topic of. FSBP RDS.20
 * (`rds-instance-event-notifications-configured`) asks for maintenance, configuration change and failure;
 * availability, failover and low storage are what an operator acts on too
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html). Backups, being daily, are left out.
 */
export const INSTANCE_EVENT_CATEGORIES = ["availability", "configuration change", "failover", "failure", "low storage", "maintenance"] as const;

/** The parameter group's events that notify the topic (FSBP RDS.21, `rds-pg-event-notifications-configured`). */
export const PARAMETER_GROUP_EVENT_CATEGORIES = ["configuration change"] as const;

/**
 * How the names of the secrets RDS manages for master passwords start
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
 */
export const RDS_SECRET_PREFIX = "rds!";

/** The PostgreSQL major versions Berth accepts: RDS offers them under standard support. */
export const POSTGRES_MAJOR_VERSIONS = [14, 15, 16, 17] as const;

/**
 * DB instance classes Berth accepts: current Graviton and Intel families of RDS for PostgreSQL, burstable
 * (`t`) from micro to 2xlarge, general purpose (`m`) and memory optimised (`r`) from large up. Which sizes a
 * family offers in a region is AWS's to check.
 */
export const INSTANCE_CLASS_FAMILIES = {
    burstable: ["t4g", "t3"],
    standard: ["m8g", "m7g", "m7i", "m6g", "m6i", "r8g", "r7g", "r7i", "r6g", "r6i"],
} as const;

const INSTANCE_CLASS = new RegExp(
    `^db\\.(?:(?:${INSTANCE_CLASS_FAMILIES.burstable.join("|")})\\.(?:micro|small|medium|large|xlarge|2xlarge)` +
        `|(?:${INSTANCE_CLASS_FAMILIES.standard.join("|")})\\.(?:large|xlarge|(?:2|4|8|12|16|24|32|48)xlarge))$`,
);

/** Whether RDS for PostgreSQL runs a class of the families Berth accepts, e.g. `db.t4g.micro`. */
export function isInstanceClass(value: string): boolean {
    return INSTANCE_CLASS.test(value);
}

/** What `isInstanceClass` accepts, in words. */
export const INSTANCE_CLASSES_ALLOWED =
    `db.<family>.<size> with family ${INSTANCE_CLASS_FAMILIES.burstable.join(", ")} (micro to 2xlarge) or ` +
    `${INSTANCE_CLASS_FAMILIES.standard.join(", ")} (large to 48xlarge), e.g. db.t4g.micro`;

/** `17` or `17.6`: a major version (RDS picks its newest minor) or a pinned minor version. */
const ENGINE_VERSION = /^([1-9][0-9]*)(\.[0-9]+)?$/;

/** The smallest and largest gp3 volume RDS for PostgreSQL accepts, in GiB. */
export const STORAGE_GIB = { min: 20, max: 65536 } as const;

/** Automated backups: RDS keeps them 1 to 35 days (0 would turn them off, which Berth refuses). */
export const BACKUP_RETENTION_DAYS = { min: 1, max: 35 } as const;

/** The PostgreSQL logs RDS exports to CloudWatch Logs. */
export const EXPORTED_LOGS = ["postgresql", "upgrade"] as const;

/** The major version of `17` or `17.6`. */
export function majorVersion(engineVersion: string): number {
    const match = ENGINE_VERSION.exec(engineVersion);
    if (!match) {
        throw new Error(`engine version ${JSON.stringify(engineVersion)} is not a PostgreSQL version such as 17 or 17.6`);
    }
    return Number(match[1]);
}
