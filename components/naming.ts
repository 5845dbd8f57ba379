import * as pulumi from "@pulumi/pulumi";

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
export function stackRolePath(project: string = pulumi.getProject(), stack: string = pulumi.getStack()): string {
    return `/${project}/${stack}/`;
}
