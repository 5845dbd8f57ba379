/**
 * Naming rules shared by every component, and the one home of every stack-scoped name.
 *
 * Logical names derive from the component's name and a role, plus an index where there are several
 * (`berth-public-0`): stable inputs only, never an AZ name or an Output, so that nothing is replaced
 * when a region's AZ list changes order.
 *
 * Physical names that carry the project and the stack are built here alone, from values the caller passes:
 * components take them as arguments and never read the stack from Pulumi, so that a name and the IAM scope
 * that must match it (deployPermissions.ts) cannot drift apart.
 */

/** The logical name of a component's child: `${parent}-${role}` or `${parent}-${role}-${index}`. */
export function childName(parent: string, role: string, index?: number): string {
    return index === undefined ? `${parent}-${role}` : `${parent}-${role}-${index}`;
}

/**
 * A service's physical name in the stack, `<project>-<stack>-<service>`: its task family and the prefix of
 * its alarms (alarms.ts), which `berth status` finds them by.
 */
export function taskFamily(project: string, stack: string, service: string): string {
    return `${project}-${stack}-${service}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

/**
 * The IAM path of every role the stack creates, `/<project>/<stack>/`: the pipeline's deploy role may create,
 * tag and change roles under this path only (deployPermissions.ts), so it cannot adopt another role of the
 * account by tagging it. A path is part of the role's ARN (`arn:aws:iam::<account>:role/<path><name>`:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-friendly-names).
 */
export function stackRolePath(project: string, stack: string): string {
    return `/${project}/${stack}/`;
}

/**
 * The boundary policy's name, unique in the account per stack.
 */
export function roleBoundaryName(project: string, stack: string): string {
    return `${project}-${stack}-role-boundary`;
}

/**
 * The start of the stack's access-log bucket name, before S3's random suffix (a `bucketPrefix` holds at most
 * 37 characters). It names the project and the stack, so that IAM policies can tell stacks' buckets apart
 * (see deployPermissions.ts); bucket names take lowercase letters, digits and hyphens only.
 */
export function accessLogBucketPrefix(project: string, stack: string): string {
    return `${project}-${stack}-alb-logs-`
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .slice(0, 37);
}

/**
 * A DB instance identifier from the project and stack: lowercase letters, digits and single hyphens, starting
 * with a letter, not ending with a hyphen, at most 63 characters
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints).
 */
export function databaseIdentifier(project: string, stack: string): string {
    const suffix = "-db";
    let base = `${project}-${stack}`
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^[^a-z]+/, "");
    base = base.slice(0, 63 - suffix.length).replace(/-+$/, "");
    return `${base || "berth"}${suffix}`;
}

/** The start of the names of the stack's topics and queues, `<project>-<stack>-`: the role boundary's scope for them. */
export function messagingNamePrefix(project: string, stack: string): string {
    return `${project}-${stack}-`;
}

/** Every stack-scoped name of one stack, from its project and stack names. */
export interface StackNames {
    /** `<project>-<stack>`: the Service Connect namespace and the dashboard. */
    readonly stack: string;
    /** The IAM path of every role (`stackRolePath`). */
    readonly rolePath: string;
    /** The managed policy every role carries as its boundary (`roleBoundaryName`). */
    readonly roleBoundary: string;
    /** `/<project>/<stack>/`: the start of the names of the log groups the stack names itself. */
    readonly logGroupPrefix: string;
    /** The VPC flow logs' group. */
    readonly flowLogGroup: string;
    /**
     * Where the stack's Step Functions logs go (`/aws/vendedlogs/states/berth-dev-`): under `/aws/vendedlogs/`,
     * as Step Functions asks (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html).
     */
    readonly stepFunctionsLogGroupPrefix: string;
    /** The secret-restart state machine's log group. */
    readonly restartLogGroup: string;
    /** The start of the names of the secrets the stack stores (`berth/dev/`). */
    readonly secretPrefix: string;
    /** The access-log bucket's name prefix (`accessLogBucketPrefix`). */
    readonly accessLogBucketPrefix: string;
    /** The database instance's identifier (`databaseIdentifier`). */
    readonly databaseIdentifier: string;
    /** Where RDS sends the logs the instance exports: a group named after the instance. */
    readonly databaseLogGroupPrefix: string;
    /** A service's task family, the prefix of its alarms (`taskFamily`). */
    family(service: string): string;
    /** A service's log group. */
    serviceLogGroup(service: string): string;
    /** The start of the names of the secrets a service stores (`berth/dev/api/`). */
    serviceSecretPrefix(service: string): string;
}

export function stackNames(project: string, stack: string): StackNames {
    const logGroupPrefix = `/${project}/${stack}/`;
    const stepFunctionsLogGroupPrefix = `/aws/vendedlogs/states/${project}-${stack}-`;
    const secretPrefix = `${project}/${stack}/`;
    const identifier = databaseIdentifier(project, stack);
    return {
        stack: `${project}-${stack}`,
        rolePath: stackRolePath(project, stack),
        roleBoundary: roleBoundaryName(project, stack),
        logGroupPrefix,
        flowLogGroup: `${logGroupPrefix}vpc-flow-logs`,
        stepFunctionsLogGroupPrefix,
        restartLogGroup: `${stepFunctionsLogGroupPrefix}secret-restart`,
        secretPrefix,
        accessLogBucketPrefix: accessLogBucketPrefix(project, stack),
        databaseIdentifier: identifier,
        databaseLogGroupPrefix: `/aws/rds/instance/${identifier}/`,
        family: (service) => taskFamily(project, stack, service),
        serviceLogGroup: (service) => `${logGroupPrefix}${service}`,
        serviceSecretPrefix: (service) => `${secretPrefix}${service}/`,
    };
}
