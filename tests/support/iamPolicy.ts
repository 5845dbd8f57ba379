/**
 * A small evaluator of IAM identity policies, for the tests that ask what a role could do: explicit Deny over
 * Allow over the implicit deny, Action and Resource wildcards, and the condition operators Berth's policies
 * use. It follows IAM's documented logic:
 * - evaluation: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - wildcards (`*` any run of characters, `?` one; actions case-insensitive, resources case-sensitive):
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 * - operators, `...IfExists`, negated operators matching a missing key, `ForAllValues:`/`ForAnyValue:`:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html and
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 * It throws on anything else (NotAction, NotResource, other operators), so that a policy it cannot read fails
 * the test rather than passing it.
 */

export interface Statement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Document {
    Statement: Statement[];
}

/** A request: an action on a resource, with its context keys (`aws:ResourceTag/stack`, `iam:PermissionsBoundary`, ...). */
export interface Request {
    action: string;
    resource: string;
    context?: Record<string, string | string[] | undefined>;
}

export type Decision = "allow" | "deny" | "implicit deny";

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/** Each pattern's expression, made once: the policy tests match the same patterns against every request they try. */
const patterns = new Map<string, RegExp>();

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
    const key = `${caseInsensitive ? "i" : "s"}${pattern}`;
    let expression = patterns.get(key);
    if (expression === undefined) {
        const source = pattern
            .split("")
            .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
            .join("");
        expression = new RegExp(`^${source}$`, caseInsensitive ? "is" : "s");
        patterns.set(key, expression);
    }
    return expression.test(value);
}

function contextValue(request: Request, key: string): string[] | undefined {
    const found = Object.entries(request.context ?? {}).find(([k]) => k.toLowerCase() === key.toLowerCase());
    if (found === undefined || found[1] === undefined) {
        return undefined;
    }
    return list(found[1]);
}

type Matcher = (policyValue: string, contextValue: string) => boolean;

const OPERATORS: Record<string, { match: Matcher; negated: boolean }> = {
    StringEquals: { match: (p, c) => p === c, negated: false },
    StringNotEquals: { match: (p, c) => p === c, negated: true },
    StringEqualsIgnoreCase: { match: (p, c) => p.toLowerCase() === c.toLowerCase(), negated: false },
    StringLike: { match: (p, c) => wildcardMatch(p, c), negated: false },
    StringNotLike: { match: (p, c) => wildcardMatch(p, c), negated: true },
    ArnEquals: { match: (p, c) => p === c, negated: false },
    ArnLike: { match: (p, c) => wildcardMatch(p, c), negated: false },
    ArnNotEquals: { match: (p, c) => p === c, negated: true },
    ArnNotLike: { match: (p, c) => wildcardMatch(p, c), negated: true },
};

function conditionHolds(operatorName: string, key: string, policyValues: string[], request: Request): boolean {
    const values = contextValue(request, key);
    if (operatorName === "Null") {
        const wantMissing = policyValues.map((v) => v.toLowerCase());
        if (wantMissing.length !== 1 || !["true", "false"].includes(wantMissing[0])) {
            throw new Error(`Null takes "true" or "false", got ${JSON.stringify(policyValues)}`);
        }
        return (values === undefined) === (wantMissing[0] === "true");
    }
    const set = /^(ForAllValues|ForAnyValue):(.+)$/.exec(operatorName);
    const base = set ? set[2] : operatorName;
    const ifExists = base.endsWith("IfExists");
    const name = ifExists ? base.slice(0, -"IfExists".length) : base;
    const operator = OPERATORS[name];
    if (!operator) {
        throw new Error(`the evaluator does not know the operator ${operatorName}`);
    }
    const anyMatches = (c: string) => policyValues.some((p) => operator.match(p, c));
    if (set?.[1] === "ForAllValues") {
        // Every value in the request must match (an empty or missing set matches).
        return (values ?? []).every((c) => (operator.negated ? !anyMatches(c) : anyMatches(c)));
    }
    if (set?.[1] === "ForAnyValue") {
        return (values ?? []).some((c) => (operator.negated ? !anyMatches(c) : anyMatches(c)));
    }
    if (values === undefined) {
        // A missing key: ...IfExists matches; negated operators match; the others do not.
        return ifExists || operator.negated;
    }
    if (values.length !== 1) {
        throw new Error(`${key} has several values; a single-valued operator ${operatorName} needs ForAllValues or ForAnyValue`);
    }
    return operator.negated ? !anyMatches(values[0]) : anyMatches(values[0]);
}

/** Whether a statement applies to the request (its Effect aside). */
export function statementMatches(statement: Statement, request: Request): boolean {
    for (const unsupported of ["NotAction", "NotResource", "NotPrincipal", "Principal"]) {
        if (unsupported in statement) {
            throw new Error(`the evaluator does not read ${unsupported} (${statement.Sid ?? "a statement"})`);
        }
    }
    if (!list(statement.Action).some((a) => wildcardMatch(a, request.action, true))) {
        return false;
    }
    if (!list(statement.Resource).some((r) => wildcardMatch(r, request.resource))) {
        return false;
    }
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
        for (const [key, value] of Object.entries(keys)) {
            if (!conditionHolds(operator, key, list(value), request)) {
                return false;
            }
        }
    }
    return true;
}

/** IAM's decision for one request over every policy of one principal. */
export function evaluate(documents: readonly Document[], request: Request): Decision {
    const statements = documents.flatMap((d) => d.Statement);
    if (statements.some((s) => s.Effect === "Deny" && statementMatches(s, request))) {
        return "deny";
    }
    return statements.some((s) => s.Effect === "Allow" && statementMatches(s, request)) ? "allow" : "implicit deny";
}

/** The context of a request on a resource with these tags, and optionally these tags in the request. */
export function tagged(resourceTags: Record<string, string>, requestTags: Record<string, string> = {}): Record<string, string> {
    return {
        ...Object.fromEntries(Object.entries(resourceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
        ...Object.fromEntries(Object.entries(requestTags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    };
}
