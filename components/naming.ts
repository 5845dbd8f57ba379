/**
 * Naming rules shared by every component.
 *
 * Logical names derive from the component's name and a role, plus an index where there are several
 * (`berth-public-0`): stable inputs only, never an AZ name or an Output, so that nothing is replaced
 * when a region's AZ list changes order.
 */

/** The logical name of a component's child: `${parent}-${role}` or `${parent}-${role}-${index}`. */
export function childName(parent: string, role: string, index?: number): string {
    return index === undefined ? `${parent}-${role}` : `${parent}-${role}-${index}`;
}

/** Pulumi's auto-naming appends a hyphen and seven random characters to the logical name. */
export const AUTONAME_SUFFIX_LENGTH = 8;

/** AWS name limits that Berth's resources run into. */
export const NAME_LIMITS = {
    /** Application Load Balancer names. */
    loadBalancer: 32,
    /** Target group names. */
    targetGroup: 32,
    /** IAM role names. */
    iamRole: 64,
    /** ECS cluster and service names. */
    ecs: 255,
    /** ECR repository names. */
    ecrRepository: 256,
    /** CloudWatch Logs group names. */
    logGroup: 512,
} as const;

/**
 * Whether Pulumi's auto-name for `logicalName` stays within `limit` characters.
 */
export function autonameFits(logicalName: string, limit: number): boolean {
    return logicalName.length + AUTONAME_SUFFIX_LENGTH <= limit;
}
