/** The rules the deploy role's permission map (core/deployPermissions.ts) keeps, held by tests/pipeline.test.ts. */
import type { Scope, TypePermissions } from "../../core/deployPermissions";

/** Verbs of actions that only read. */
const READ_VERB = /^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)/;

/**
 * Reads that return secret data: never on every resource, nor for the preview role, only on the stack's own
 * resources (the provider reads its own secret versions back when it refreshes them).
 */
const SCOPED_READS: readonly string[] = ["secretsmanager:GetSecretValue"];

/** The scopes IAM writes may have: the stack's roles only. */
const IAM_SCOPES: readonly Scope[] = ["stackRoles", "boundedStackRoles", "newStackRoles"];

/** What creating a role with its tags takes (`newStackRoles`). */
const NEW_ROLE_ACTIONS: readonly string[] = ["iam:CreateRole", "iam:TagRole"];

/**
 * What is wrong with a permission map: reads that can change something, IAM or log writes that escape the
 * stack's scope, or actions that name no service.
 */
export function permissionProblems(permissions: Readonly<Record<string, TypePermissions>>): string[] {
    const problems: string[] = [];
    for (const [type, p] of Object.entries(permissions)) {
        for (const action of p.read) {
            if (!READ_VERB.test(action)) {
                problems.push(`${type}: read action ${action} is not a Describe/Get/List call`);
            } else if (SCOPED_READS.includes(action)) {
                problems.push(
                    `${type}: ${action} reads secret data, and reads go to every resource (and to the preview role); list it under a write scope of the stack's own resources`,
                );
            }
        }
        for (const [scope, actions] of Object.entries(p.write) as [Scope, readonly string[]][]) {
            for (const action of actions) {
                if (!/^[a-z0-9-]+:[A-Za-z*]+$/.test(action)) {
                    problems.push(`${type}: ${JSON.stringify(action)} is not an IAM action`);
                } else if (action.startsWith("iam:") && !IAM_SCOPES.includes(scope)) {
                    problems.push(`${type}: IAM write ${action} must be limited to the stack's roles, not "${scope}"`);
                } else if (scope === "newStackRoles" && !NEW_ROLE_ACTIONS.includes(action)) {
                    problems.push(
                        `${type}: ${action} on request tags alone changes roles the stack did not create; only ${NEW_ROLE_ACTIONS.join(" and ")} belong in "newStackRoles"`,
                    );
                } else if (action.startsWith("logs:") && scope !== "stackLogGroups") {
                    problems.push(`${type}: log write ${action} must be limited to the stack's log groups, not "${scope}"`);
                } else if (SCOPED_READS.includes(action) && scope !== "stackSecrets") {
                    problems.push(`${type}: ${action} reads secret data; limit it to the stack's own secrets, not "${scope}"`);
                } else if (READ_VERB.test(action) && !SCOPED_READS.includes(action)) {
                    problems.push(`${type}: ${action} reads; list it under "read"`);
                }
            }
        }
    }
    // A statement on "*" grants the action everywhere, whatever a narrower scope says elsewhere.
    const anywhere = new Set(Object.values(permissions).flatMap((p) => p.write.any ?? []));
    for (const [type, p] of Object.entries(permissions)) {
        for (const [scope, actions] of Object.entries(p.write) as [Scope, readonly string[]][]) {
            for (const action of scope === "any" ? [] : actions.filter((a) => anywhere.has(a))) {
                problems.push(`${type}: ${action} is scoped "${scope}" here but granted on any resource by another entry`);
            }
        }
    }
    return problems;
}
