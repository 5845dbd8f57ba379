/** AWS name limits, for the tests that check every registered name against them. */

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

/** Whether Pulumi's auto-name for `logicalName` stays within `limit` characters. */
export function autonameFits(logicalName: string, limit: number): boolean {
    return logicalName.length + AUTONAME_SUFFIX_LENGTH <= limit;
}
