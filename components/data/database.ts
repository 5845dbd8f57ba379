import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATABASE_SECRET_VARIABLE, DATABASE_TLS_VARIABLE, type DatabaseEnvNames as DatabaseVariables, type DatabaseSsl } from "@berth/kit/contract";
import { childName } from "../../core/naming";
import {
    BACKUP_RETENTION_DAYS,
    DATABASE_PORT,
    ENHANCED_MONITORING_INTERVAL,
    EXPORTED_LOGS,
    INSTANCE_CLASSES_ALLOWED,
    INSTANCE_EVENT_CATEGORIES,
    isInstanceClass,
    majorVersion,
    PARAMETER_GROUP_EVENT_CATEGORIES,
    POSTGRES_MAJOR_VERSIONS,
    STORAGE_GIB,
} from "../../core/databaseRules";

/**
 * In AWS the parameter group refuses connections without TLS (`rds.force_ssl`), and the service verifies the
 * server certificate and its host name against the RDS CA bundle it ships (libpq's `sslmode=verify-full`,
 * https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION).
 */
export const DATABASE_TLS_MODE: DatabaseSsl = "verify-full";

/** What a service needs to reach the database: see `Database.clientFor()`. */
export interface DatabaseClient {
    /** Host, port, database name and the TLS mode, as plain variables. */
    environment: Record<string, pulumi.Input<string>>;
    /** User and password, as ECS `secrets` pointing at the JSON keys of the RDS-managed secret. */
    secrets: Record<string, pulumi.Input<string>>;
    /** The RDS-managed secret: what the service's execution role may read. */
    secretArns: pulumi.Input<string>[];
    /** The same secret, which the service's task role may read too (see `DATABASE_SECRET_VARIABLE`). */
    credentialSecretArn: pulumi.Input<string>;
    /** The database's security group, which admits the service. */
    securityGroupId: pulumi.Input<string>;
    /** The port to admit. */
    port: number;
}

export interface DatabaseArgs {
    /** The VPC of the subnets. */
    vpcId: pulumi.Input<string>;
    /** Subnets without a route to the internet, in at least two AZs (see `Network.isolatedSubnetIds`). */
    subnetIds: pulumi.Input<string>[];
    /**
     * The DB instance identifier, unique in the account and region: lowercase letters, digits and single
     * hyphens, starting with a letter, at most 63 characters (see `databaseIdentifier`). The log groups and
     * the final snapshot are named after it.
     */
    identifier: string;
    /**
     * PostgreSQL's major version (`17`: RDS picks the newest minor and upgrades it) or a minor version
     * (`17.6`). The parameter group's family follows the major version.
     */
    engineVersion: string;
    /** The DB instance class, e.g. `db.t4g.micro`. */
    instanceClass: string;
    /** gp3 storage in GiB, 20 to 65536. */
    allocatedStorage: number;
    /**
     * The database the services use, created with the instance.
     * @default "berth"
     */
    databaseName?: string;
    /**
     * The master user; RDS generates its password and keeps it in Secrets Manager.
     * @default "berth"
     */
    username?: string;
    /**
     * A standby in a second AZ that RDS fails over to.
     * @default false
     */
    multiAz?: boolean;
    /**
     * Days of automated backups (point-in-time recovery), 1 to 35.
     * @default 7
     */
    backupRetentionDays?: number;
    /**
     * Performance Insights, with its free 7-day retention.
     * @default false
     */
    performanceInsights?: boolean;
    /**
     * Take a snapshot when the instance is deleted, and keep the automated backups for their retention
     * period. Off: deleting the instance deletes its data and backups.
     * @default true
     */
    finalSnapshot?: boolean;
    /**
     * RDS refuses to delete the instance while on.
     * @default false
     */
    deletionProtection?: boolean;
    /**
     * `pulumi destroy` refuses to delete the instance and its log groups (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
    /** Days CloudWatch Logs keeps the exported PostgreSQL logs. */
    logRetentionDays: number;
    /**
     * The KMS key (ARN) that encrypts the exported logs' groups (cloudwatch-log-group-encrypted).
     * @default none: CloudWatch Logs' own encryption
     */
    logKmsKeyArn?: pulumi.Input<string>;
    /**
     * Deleting the stack leaves the log groups in CloudWatch.
     * @default false
     */
    retainLogs?: boolean;
    /**
     * The SNS topic RDS notifies of the instance's and the parameter group's events (failures, failovers,
     * maintenance, configuration changes). Its policy must let `events.rds.amazonaws.com` publish.
     * @default none: no event subscriptions
     */
    eventTopicArn?: pulumi.Input<string>;
    /**
     * The managed policy (ARN) every IAM role this creates carries as its permissions boundary (`RoleBoundary`).
     * @default none
     */
    permissionsBoundary?: pulumi.Input<string>;
    /**
     * The IAM path of every role this creates: the stack's (`stackRolePath`), which the pipeline's deploy role
     * is limited to.
     * @default none: the provider's default path
     */
    rolePath?: string;
}

/** The instance's inputs that replace it when they change. */
type InstanceIdentity = { identifier: string; engine: string; storageEncrypted: boolean; dbName: string; username: string };

/**
 * PostgreSQL on one RDS DB instance, reachable only from inside the VPC.
 *
 * Creates: a security group without rules (each service that uses the database adds its own ingress rule,
 * see `FargateService`), a DB subnet group over the isolated subnets, a parameter group that refuses
 * connections without TLS (`rds.force_ssl`), CloudWatch log groups for the exported logs (created first so
 * that RDS does not create them without retention), a random suffix for the final snapshot's name, and the
 * encrypted, not publicly accessible instance whose master password RDS generates, keeps in Secrets Manager
 * and rotates (`manageMasterUserPassword`): it never passes through the stack's configuration or state. The
 * instance listens on `DATABASE_PORT`, allows IAM database authentication besides passwords, and sends Enhanced
 * Monitoring's OS metrics to CloudWatch Logs through a role of its own; with `eventTopicArn`, RDS event
 * subscriptions for the instance and its parameter group.
 */
export class Database extends pulumi.ComponentResource {
    /** The instance's DNS name, e.g. `berth-dev-db.abc123.us-east-1.rds.amazonaws.com`. */
    public readonly address: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly databaseName: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    /** The RDS-managed secret holding `username` and `password` (JSON). */
    public readonly secretArn: pulumi.Output<string>;
    public readonly identifier: pulumi.Output<string>;
    /** The final snapshot's identifier; undefined when none is taken. */
    public readonly finalSnapshotIdentifier?: pulumi.Output<string>;

    private readonly name: string;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:database:Database", name, {}, opts);
        validate(name, args);
        this.name = name;
        const finalSnapshot = args.finalSnapshot ?? true;

        const securityGroup = this.createSecurityGroup(args);
        const subnetGroup = this.createSubnetGroup(args);
        const parameterGroup = this.createParameterGroup(majorVersion(args.engineVersion));
        const logGroups = this.createLogGroups(args);
        // What the provider cannot change in place: a change of any of these replaces the instance (ForceNew in
        // terraform-provider-aws internal/service/rds/instance.go), and names a new final snapshot.
        const identity: InstanceIdentity = {
            identifier: args.identifier,
            engine: "postgres",
            storageEncrypted: true,
            dbName: args.databaseName ?? "berth",
            username: args.username ?? "berth",
        };
        const snapshotName = finalSnapshot ? this.finalSnapshotName(identity) : undefined;
        const monitoring = this.createMonitoringRole(args.permissionsBoundary, args.rolePath);

        const instance = this.createInstance(args, { identity, securityGroup, subnetGroup, parameterGroup, logGroups, monitoring, snapshotName });
        if (args.eventTopicArn !== undefined) {
            this.subscribeToEvents(args.eventTopicArn, instance, parameterGroup);
        }

        this.address = instance.address;
        this.port = instance.port;
        this.databaseName = instance.dbName;
        this.securityGroupId = securityGroup.id;
        this.secretArn = instance.masterUserSecrets.apply((secrets) => {
            if (!secrets?.[0]?.secretArn) {
                throw new Error(`Database "${name}": RDS reported no master user secret; is manageMasterUserPassword on?`);
            }
            return secrets[0].secretArn;
        });
        this.identifier = instance.identifier;
        this.finalSnapshotIdentifier = snapshotName;
        this.registerOutputs({
            address: this.address,
            port: this.port,
            databaseName: this.databaseName,
            securityGroupId: this.securityGroupId,
            secretArn: this.secretArn,
            identifier: this.identifier,
        });
    }

    /**
     * What a service needs to connect under the variable names it declared: host, port, name and the TLS mode
     * as plain environment, user and password only as ECS `secrets` that name JSON keys of the RDS-managed
     * secret (`<secret ARN>:<json key>:<version stage>:<version id>`, empty stage and id meaning the current
     * version: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
     * The secret holds `username` and `password`
     * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
     */
    clientFor(variables: DatabaseVariables): DatabaseClient {
        return {
            environment: {
                [variables.host]: this.address,
                [variables.port]: this.port.apply(String),
                [variables.name]: this.databaseName,
                [DATABASE_TLS_VARIABLE]: DATABASE_TLS_MODE,
                [DATABASE_SECRET_VARIABLE]: this.secretArn,
            },
            secrets: {
                [variables.user]: pulumi.interpolate`${this.secretArn}:username::`,
                [variables.password]: pulumi.interpolate`${this.secretArn}:password::`,
            },
            secretArns: [this.secretArn],
            credentialSecretArn: this.secretArn,
            securityGroupId: this.securityGroupId,
            port: DATABASE_PORT,
        };
    }

    private createSecurityGroup(args: DatabaseArgs): aws.ec2.SecurityGroup {
        return new aws.ec2.SecurityGroup(
            childName(this.name, "sg"),
            {
                vpcId: args.vpcId,
                // Rules are separate resources; the provider removes AWS's default allow-all egress rule, and the
                // database starts no connections of its own.
                description: `PostgreSQL: port ${DATABASE_PORT} from the services that declare the database only`,
            },
            { parent: this },
        );
    }

    private createSubnetGroup(args: DatabaseArgs): aws.rds.SubnetGroup {
        return new aws.rds.SubnetGroup(
            childName(this.name, "subnets"),
            {
                subnetIds: args.subnetIds,
                description: "Isolated subnets: no route to the internet",
            },
            { parent: this },
        );
    }

    /** The instance: encrypted, private, its password managed by RDS, replaced delete-first. */
    private createInstance(
        args: DatabaseArgs,
        parts: {
            identity: InstanceIdentity;
            securityGroup: aws.ec2.SecurityGroup;
            subnetGroup: aws.rds.SubnetGroup;
            parameterGroup: aws.rds.ParameterGroup;
            logGroups: aws.cloudwatch.LogGroup[];
            monitoring: { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment };
            snapshotName: pulumi.Output<string> | undefined;
        },
    ): aws.rds.Instance {
        const finalSnapshot = args.finalSnapshot ?? true;
        const performanceInsights = args.performanceInsights ?? false;
        return new aws.rds.Instance(
            childName(this.name, "instance"),
            {
                ...parts.identity,
                engineVersion: args.engineVersion,
                instanceClass: args.instanceClass,
                allocatedStorage: args.allocatedStorage,
                storageType: "gp3",
                manageMasterUserPassword: true,
                port: DATABASE_PORT,
                dbSubnetGroupName: parts.subnetGroup.name,
                vpcSecurityGroupIds: [parts.securityGroup.id],
                parameterGroupName: parts.parameterGroup.name,
                publiclyAccessible: false,
                multiAz: args.multiAz ?? false,
                backupRetentionPeriod: args.backupRetentionDays ?? 7,
                copyTagsToSnapshot: true,
                skipFinalSnapshot: !finalSnapshot,
                finalSnapshotIdentifier: parts.snapshotName,
                // With a final snapshot, the automated backups outlive the instance too (for their retention).
                deleteAutomatedBackups: !finalSnapshot,
                deletionProtection: args.deletionProtection ?? false,
                autoMinorVersionUpgrade: true,
                // A new major version in the stack's settings is a deliberate upgrade; RDS never starts one itself.
                allowMajorVersionUpgrade: true,
                // Settings change in this `pulumi up`, not in the next maintenance window, so that what the stack
                // says is what runs.
                applyImmediately: true,
                enabledCloudwatchLogsExports: [...EXPORTED_LOGS],
                performanceInsightsEnabled: performanceInsights,
                performanceInsightsRetentionPeriod: performanceInsights ? 7 : undefined,
                monitoringInterval: ENHANCED_MONITORING_INTERVAL,
                monitoringRoleArn: parts.monitoring.role.arn,
                // Free, and passwords keep working: IAM authentication only adds a way in, for roles granted
                // rds_iam (FSBP RDS.10; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html).
                iamDatabaseAuthenticationEnabled: true,
            },
            {
                parent: this,
                // RDS checks the monitoring role's permissions when the instance is created; the role's ARN alone
                // does not wait for its policy (pulumi/pulumi#5628, claranet/terraform-aws-aurora#23).
                dependsOn: [...parts.logGroups, parts.monitoring.attachment],
                protect: args.protect ?? false,
                // The identifier is fixed (the deploy role and the log groups are named after it), and RDS refuses a
                // second instance under it (DBInstanceAlreadyExists), so Pulumi's default order for a replacement,
                // create the new one and then delete the old, cannot work: the old one goes first, taking its final
                // snapshot (https://www.pulumi.com/docs/iac/concepts/options/deletebeforereplace/). The provider
                // bridge infers this order only for some explicitly named resources (pulumi-terraform-bridge,
                // `nameRequiresDeleteBeforeReplace`); the option makes it certain. In a protected stack Pulumi
                // refuses the replacement before it deletes anything.
                deleteBeforeReplace: true,
            },
        );
    }

    private createParameterGroup(major: number): aws.rds.ParameterGroup {
        // Autonamed: a new major version needs a new family, and Pulumi creates the replacement group before
        // it deletes the one the instance still uses.
        return new aws.rds.ParameterGroup(
            childName(this.name, "params"),
            {
                family: `postgres${major}`,
                description: "Berth: TLS required",
                parameters: [{ name: "rds.force_ssl", value: "1" }],
            },
            { parent: this },
        );
    }

    /**
     * The role RDS assumes to publish Enhanced Monitoring's metrics, with AWS's managed policy for it (as
     * terraform-aws-modules/rds does: modules/db_instance/main.tf, `aws_iam_role.enhanced_monitoring`).
     */
    private createMonitoringRole(
        permissionsBoundary: pulumi.Input<string> | undefined,
        rolePath: string | undefined,
    ): { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } {
        const role = new aws.iam.Role(
            childName(this.name, "monitoring-role"),
            {
                path: rolePath,
                permissionsBoundary,
                description: "RDS publishes the database's Enhanced Monitoring metrics",
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
            },
            { parent: this },
        );
        const attachment = new aws.iam.RolePolicyAttachment(
            childName(this.name, "monitoring-policy"),
            {
                role: role.name,
                policyArn: aws.iam.ManagedPolicy.AmazonRDSEnhancedMonitoringRole,
            },
            { parent: this },
        );
        return { role, attachment };
    }

    /**
     * RDS event subscriptions of the instance and its parameter group to the topic
     * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Subscribing.html).
     */
    private subscribeToEvents(topicArn: pulumi.Input<string>, instance: aws.rds.Instance, parameterGroup: aws.rds.ParameterGroup): void {
        new aws.rds.EventSubscription(
            childName(this.name, "instance-events"),
            {
                snsTopic: topicArn,
                sourceType: "db-instance",
                sourceIds: [instance.identifier],
                eventCategories: [...INSTANCE_EVENT_CATEGORIES],
            },
            { parent: this },
        );
        new aws.rds.EventSubscription(
            childName(this.name, "params-events"),
            {
                snsTopic: topicArn,
                sourceType: "db-parameter-group",
                sourceIds: [parameterGroup.name],
                eventCategories: [...PARAMETER_GROUP_EVENT_CATEGORIES],
            },
            { parent: this },
        );
    }

    /**
     * RDS writes to `/aws/rds/instance/<identifier>/<log>` and creates the group, without retention, if it
     * does not exist; created first, the groups keep the stack's retention (as terraform-aws-modules/rds does:
     * modules/db_instance/main.tf, `aws_cloudwatch_log_group.this` and the instance's `depends_on`).
     */
    private createLogGroups(args: DatabaseArgs): aws.cloudwatch.LogGroup[] {
        return EXPORTED_LOGS.map(
            (log) =>
                new aws.cloudwatch.LogGroup(
                    childName(this.name, `logs-${log}`),
                    {
                        name: `/aws/rds/instance/${args.identifier}/${log}`,
                        retentionInDays: args.logRetentionDays,
                        kmsKeyId: args.logKmsKeyArn,
                    },
                    { parent: this, protect: args.protect ?? false, retainOnDelete: args.retainLogs ?? false },
                ),
        );
    }

    /**
     * The final snapshot's name: the identifier and a random suffix kept in the state. It stays the same from
     * one update to the next, and differs for each instance: after the stack is destroyed and created again,
     * and after a replacement, whose new instance would otherwise carry the name its predecessor's snapshot
     * took, so that no deletion fails on an earlier one's snapshot (`DBSnapshotAlreadyExists`);
     * terraform-aws-modules/rds names it the same way (`random_id.snapshot_identifier`). The suffix is drawn
     * anew whenever a value that replaces the instance changes (`identity`).
     */
    private finalSnapshotName(identity: Record<string, string | boolean>): pulumi.Output<string> {
        const suffix = new random.RandomId(
            childName(this.name, "snapshot-suffix"),
            {
                byteLength: 4,
                keepers: Object.fromEntries(Object.entries(identity).map(([k, v]) => [k, String(v)])),
            },
            { parent: this },
        );
        return pulumi.interpolate`${identity.identifier}-final-${suffix.hex}`;
    }
}

const IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}$/;

function validate(name: string, args: DatabaseArgs): void {
    const where = `Database "${name}"`;
    if (args.subnetIds.length < 2) {
        throw new Error(`${where}: "subnetIds" must list subnets in at least 2 AZs (a DB subnet group needs two), got ${args.subnetIds.length}`);
    }
    if (!IDENTIFIER.test(args.identifier) || args.identifier.endsWith("-")) {
        throw new Error(
            `${where}: "identifier" ${JSON.stringify(args.identifier)} must be 1-63 lowercase letters, digits or single hyphens, starting with a letter`,
        );
    }
    if (!isInstanceClass(args.instanceClass)) {
        throw new Error(`${where}: "instanceClass" ${JSON.stringify(args.instanceClass)}; allowed: ${INSTANCE_CLASSES_ALLOWED}`);
    }
    const major = majorVersion(args.engineVersion);
    if (!(POSTGRES_MAJOR_VERSIONS as readonly number[]).includes(major)) {
        throw new Error(`${where}: "engineVersion" ${args.engineVersion} is PostgreSQL ${major}; allowed: ${POSTGRES_MAJOR_VERSIONS.join(", ")}`);
    }
    if (!Number.isInteger(args.allocatedStorage) || args.allocatedStorage < STORAGE_GIB.min || args.allocatedStorage > STORAGE_GIB.max) {
        throw new Error(`${where}: "allocatedStorage" must be ${STORAGE_GIB.min}-${STORAGE_GIB.max} GiB, got ${args.allocatedStorage}`);
    }
    const retention = args.backupRetentionDays ?? 7;
    if (!Number.isInteger(retention) || retention < BACKUP_RETENTION_DAYS.min || retention > BACKUP_RETENTION_DAYS.max) {
        throw new Error(`${where}: "backupRetentionDays" must be ${BACKUP_RETENTION_DAYS.min}-${BACKUP_RETENTION_DAYS.max}, got ${retention}`);
    }
}
