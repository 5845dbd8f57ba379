/**
 * The pipeline's access to AWS: the `berth:pipeline` setting, the DeployAccess component under mocks, and the
 * permission map held against every resource type and invoke the whole program uses in every shipped stack.
 */
import * as assert from "assert";
import { GITHUB_OIDC_HOST, githubSubjects, STS_AUDIENCE } from "../core/githubAccess";
import { NAT_INSTANCE_AMI_PARAMETER } from "../core/nat";
import {
    INVOKE_PERMISSIONS,
    RESOURCE_PERMISSIONS,
    STACK_SCOPED_SERVICES,
    UNSCOPABLE_WRITES,
    type PolicyDocument,
    type PolicyStatement,
} from "../core/deployPermissions";
import { ConfigError, loadSettings } from "../config";
import { catalog } from "../catalog";
import { evaluate, tagged, type Decision, type Document } from "./support/iamPolicy";
import { MANAGED_POLICIES } from "./support/managedPolicies";
import { permissionProblems } from "./support/permissionRules";
import { ACCOUNT, Harness, HOSTED_ZONE_ID, REGION, runBerth, shippedStacks, stackConfig, type Recorded } from "./support/pulumi";
import { T } from "./support/types";

const ACCESS = "berth:pipeline:DeployAccess";
const PIPELINE = { repository: "acme/berth", environments: ["dev"], pullRequests: true };

function withPipeline(stack: string, pipeline: object = PIPELINE): Record<string, string> {
    return { ...stackConfig(stack), "berth:pipeline": JSON.stringify(pipeline) };
}

/** The problems a `berth:pipeline` value produces, one per line. */
function problems(pipeline: unknown): string[] {
    const config = { ...stackConfig("dev"), "berth:pipeline": typeof pipeline === "string" ? pipeline : JSON.stringify(pipeline) };
    try {
        loadSettings(config, { project: "berth", stack: "dev" }, catalog);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("the configuration was accepted");
}

describe("berth:pipeline settings", () => {
    it("are off unless set", () => {
        assert.strictEqual(loadSettings(stackConfig("dev"), { project: "berth", stack: "dev" }, catalog).pipeline, undefined);
    });

    it("read the repository, who may deploy, previews and an existing provider", () => {
        const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
        const { pipeline } = loadSettings(
            withPipeline("dev", {
                repository: "acme@123/berth@456",
                branches: ["main", "release/2026"],
                pullRequests: "true",
                oidcProviderArn: arn,
            }),
            { project: "berth", stack: "dev" },
            catalog,
        );
        assert.deepStrictEqual(pipeline, {
            repository: "acme@123/berth@456",
            branches: ["main", "release/2026"],
            environments: [],
            pullRequests: true,
            oidcProviderArn: arn,
        });
    });

    const errors: [string, unknown, RegExp][] = [
        [
            "a repository without its owner",
            { repository: "berth", environments: ["dev"] },
            /^berth:pipeline\.repository is "berth"; allowed: a GitHub repository as owner\/name/,
        ],
        [
            "a repository given as a URL",
            { repository: "https://github.com/acme/berth", environments: ["dev"] },
            /^berth:pipeline\.repository is "https:\/\/github\.com\/acme\/berth"; allowed: /,
        ],
        ["half of the immutable form", { repository: "acme@123/berth", environments: ["dev"] }, /^berth:pipeline\.repository is "acme@123\/berth"/],
        [
            "a branch with a wildcard",
            { repository: "acme/berth", branches: ["release/*"] },
            /^berth:pipeline\.branches is \["release\/\*"\]; allowed: a list of branch names such as \[main\], without wildcards$/,
        ],
        ["a branch given as a string", { repository: "acme/berth", branches: "main" }, /^berth:pipeline\.branches is "main"; allowed: a list/],
        [
            "an environment with a space",
            { repository: "acme/berth", environments: ["prod eu"] },
            /^berth:pipeline\.environments is \["prod eu"\]; allowed: a list of GitHub environment names/,
        ],
        [
            "previews that are no boolean",
            { repository: "acme/berth", environments: ["dev"], pullRequests: "yes" },
            /^berth:pipeline\.pullRequests is "yes"; allowed: true or false$/,
        ],
        [
            "a provider ARN for another issuer",
            { repository: "acme/berth", environments: ["dev"], oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/example.com` },
            /^berth:pipeline\.oidcProviderArn is "arn:aws:iam::\d{12}:oidc-provider\/example\.com"; allowed: the ARN of the account's GitHub OIDC provider/,
        ],
        [
            "a misspelt key",
            { repository: "acme/berth", branch: "main" },
            /^berth:pipeline has unknown keys branch; allowed: repository, branches, environments, pullRequests, oidcProviderArn$/,
        ],
        ["no repository", { environments: ["dev"] }, /^berth:pipeline\.repository is not set; allowed: a GitHub repository/],
        [
            "nobody who may deploy",
            { repository: "acme/berth", branches: [], environments: [] },
            /^berth:pipeline names no branches and no environments; allowed: at least one, or the deploy role trusts no workflow$/,
        ],
        ["a plain string", "acme/berth", /^berth:pipeline is "acme\/berth"; allowed: an object such as \{"repository"/],
    ];
    for (const [what, value, message] of errors) {
        it(`name the key, the value and what is allowed for ${what}`, () => {
            const found = problems(value);
            assert.ok(
                found.some((p) => message.test(p)),
                `no problem matches ${message}:\n${found.join("\n")}`,
            );
        });
    }

    it("stop the program before any resource is registered", async () => {
        const h = new Harness();
        await h.install(withPipeline("dev", { repository: "acme", environments: ["dev"] }));
        const { deployBerth } = await import("../program");
        const error = await deployBerth(catalog).then(
            () => undefined,
            (e: Error) => e,
        );
        await h.settle();
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        assert.match(error.message, /berth:pipeline\.repository is "acme"/);
        assert.deepStrictEqual(h.resources, []);
    });
});

describe("GitHub subjects", () => {
    it("are exact claims for each branch's pushes and each environment's jobs", () => {
        assert.deepStrictEqual(githubSubjects("acme/berth", { branches: ["main"], environments: ["prod"] }), [
            "repo:acme/berth:ref:refs/heads/main",
            "repo:acme/berth:environment:prod",
        ]);
    });
});

describe("the IAM policy evaluator of the tests", () => {
    const allow = (extra: object = {}) => ({ Effect: "Allow" as const, Action: ["ec2:Delete*"], Resource: "arn:aws:ec2:*:*:vpc/*", ...extra });
    const request = { action: "EC2:DeleteVpc", resource: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1" };

    it("matches actions without regard to case and resources with wildcards, and denies what nothing allows", () => {
        assert.strictEqual(evaluate([{ Statement: [allow()] }], request), "allow");
        assert.strictEqual(
            evaluate([{ Statement: [allow()] }], { ...request, resource: "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1" }),
            "implicit deny",
        );
        assert.strictEqual(evaluate([{ Statement: [allow({ Resource: "arn:aws:ec2:us-east-1:12345678901?:vpc/*" })] }], request), "allow");
    });

    it("lets an explicit deny win over any allow", () => {
        assert.strictEqual(evaluate([{ Statement: [allow()] }, { Statement: [{ Effect: "Deny", Action: "ec2:*", Resource: "*" }] }], request), "deny");
    });

    it("reads conditions as IAM does: a missing key fails StringEquals, passes StringNotEquals and ...IfExists", () => {
        const on = (Condition: Record<string, Record<string, string | string[]>>, context?: Record<string, string>) =>
            evaluate([{ Statement: [allow({ Condition })] }], { ...request, context });
        assert.strictEqual(on({ StringEquals: { "aws:ResourceTag/stack": "dev" } }), "implicit deny");
        assert.strictEqual(on({ StringEquals: { "aws:ResourceTag/stack": "dev" } }, { "aws:resourcetag/stack": "dev" }), "allow");
        assert.strictEqual(on({ StringEquals: { "aws:ResourceTag/stack": ["dev", "prod"] } }, { "aws:ResourceTag/stack": "prod" }), "allow");
        assert.strictEqual(on({ StringNotEquals: { "iam:PermissionsBoundary": "arn:b" } }), "allow");
        assert.strictEqual(on({ StringNotEquals: { "iam:PermissionsBoundary": "arn:b" } }, { "iam:PermissionsBoundary": "arn:b" }), "implicit deny");
        assert.strictEqual(on({ StringEqualsIfExists: { "aws:ResourceTag/stack": "dev" } }), "allow");
        assert.strictEqual(on({ StringLike: { "aws:ResourceTag/stack": "d*" } }, { "aws:ResourceTag/stack": "dev" }), "allow");
        assert.strictEqual(on({ ArnLike: { "iam:PolicyARN": "arn:aws:iam::aws:policy/*" } }, { "iam:PolicyARN": "arn:aws:iam::aws:policy/X" }), "allow");
        assert.strictEqual(on({ Null: { "aws:ResourceTag/stack": "true" } }), "allow");
        assert.strictEqual(on({ Null: { "aws:ResourceTag/stack": "true" } }, { "aws:ResourceTag/stack": "other" }), "implicit deny");
        // Every condition of a statement must hold.
        assert.strictEqual(
            on(
                { StringEquals: { "aws:RequestTag/stack": "dev" }, Null: { "aws:ResourceTag/stack": "true" } },
                { "aws:RequestTag/stack": "dev", "aws:ResourceTag/stack": "other" },
            ),
            "implicit deny",
        );
    });

    it("reads set operators over multi-valued keys: ForAllValues holds for an empty set, ForAnyValue does not", () => {
        const on = (Condition: Record<string, Record<string, string | string[]>>, context?: Record<string, string | string[]>) =>
            evaluate([{ Statement: [allow({ Condition })] }], { ...request, context });
        assert.strictEqual(on({ "ForAllValues:StringEquals": { "aws:TagKeys": ["project", "stack"] } }, { "aws:TagKeys": ["stack"] }), "allow");
        assert.strictEqual(
            on({ "ForAllValues:StringEquals": { "aws:TagKeys": ["project", "stack"] } }, { "aws:TagKeys": ["stack", "owner"] }),
            "implicit deny",
        );
        assert.strictEqual(on({ "ForAllValues:StringEquals": { "aws:TagKeys": ["stack"] } }), "allow");
        assert.strictEqual(on({ "ForAnyValue:StringEquals": { "aws:CalledVia": ["rds.amazonaws.com"] } }), "implicit deny");
        assert.strictEqual(
            on({ "ForAnyValue:StringEquals": { "aws:CalledVia": ["rds.amazonaws.com"] } }, { "aws:CalledVia": ["kms.amazonaws.com", "rds.amazonaws.com"] }),
            "allow",
        );
    });

    it("refuses what it cannot read rather than pass it", () => {
        assert.throws(
            () => evaluate([{ Statement: [allow({ Condition: { DateGreaterThan: { "aws:CurrentTime": "2020-01-01" } } })] }], request),
            /does not know the operator DateGreaterThan/,
        );
        assert.throws(() => evaluate([{ Statement: [{ ...allow(), NotResource: "x" } as never] }], request), /does not read NotResource/);
    });
});

interface Run {
    name: string;
    h: Harness;
    outputs: Awaited<ReturnType<typeof runBerth>>["outputs"];
}

/** A resource's policy document (the mocks hand inputs over as the provider gets them: JSON text). */
const documentOf = (r: Recorded, input = "policy"): PolicyDocument => JSON.parse(r.inputs[input]);
const statement = (doc: PolicyDocument, sid: string): PolicyStatement => {
    const found = doc.Statement.find((s) => s.Sid === sid);
    assert.ok(found, `no statement ${sid} in ${JSON.stringify(doc)}`);
    return found;
};
const inAccess = (r: Recorded) => r.parentType === ACCESS;
/** Both of the deploy role's policies as one document: its inline policy and its managed one. */
const deployPolicyOf = (h: Harness): PolicyDocument => ({
    Version: "2012-10-17",
    Statement: [...documentOf(h.one(T.rolePolicy, "berth-deploy-policy")).Statement, ...documentOf(h.one(T.policy, "berth-deploy-services")).Statement],
});
/** The ARN of the stack's permissions boundary, as the mocks made it. */
const boundaryArnOf = (h: Harness): string => h.one(T.policy, "berth-role-boundary").outputs.arn;
const asList = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe("deploy access for GitHub Actions", () => {
    const runs: Run[] = [];
    const existingProvider = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

    before(async function () {
        this.timeout(120_000);
        for (const stack of shippedStacks()) {
            const { h, outputs } = await runBerth(withPipeline(stack), { stack });
            runs.push({ name: stack, h, outputs });
        }
        const { h, outputs } = await runBerth(withPipeline("prod", { repository: "acme/berth", environments: ["prod"], oidcProviderArn: existingProvider }), {
            stack: "prod",
        });
        runs.push({ name: "prod with an existing OIDC provider", h, outputs });
        // Every option a team may turn on brings its own resource types: the role must cover them too.
        const everything = await runBerth(
            {
                ...withPipeline("prod"),
                "berth:domain": "example.com",
                "berth:hostedZoneId": HOSTED_ZONE_ID,
                "berth:alarmEmail": "ops@example.com",
                "berth:secrets": JSON.stringify({
                    api: {
                        AUTH_API_KEYS: "a-value-set-with-secret-0123456789abcdef",
                        AUTH_JWT_SECRET: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:shared/jwt-AbCdEf:signing::`,
                        STRIPE_KEY: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shared/stripe-key`,
                    },
                }),
            },
            { stack: "prod", secretKeys: ["berth:secrets"] },
        );
        runs.push({ name: "prod with a domain, alarm e-mail and secrets", ...everything });
        const natInstance = await runBerth({ ...withPipeline("dev"), "berth:natStrategy": "instance" }, { stack: "dev" });
        runs.push({ name: "dev with a NAT instance", ...natInstance });
        // Each strategy that shifts traffic, on the public gateway and on backends: ECS then gets a role of the stack.
        for (const [stack, rollouts] of [
            ["prod", { api: "canary", users: "linear", products: "blueGreen" }],
            ["dev", { api: "linear", users: "blueGreen", products: "canary" }],
            ["dev", { api: "blueGreen", users: "canary", products: "linear" }],
        ] as const) {
            const services = Object.fromEntries(Object.entries(rollouts).map(([name, rollout]) => [name, { rollout }]));
            const run = await runBerth({ ...withPipeline(stack), "berth:services": JSON.stringify(services) }, { stack });
            runs.push({
                name: `${stack} with ${Object.entries(rollouts)
                    .map(([n, r]) => `${n} ${r}`)
                    .join(", ")}`,
                ...run,
            });
        }
    });

    describe("the permission map", () => {
        it("names every resource type each stack registers, shipped or with every option on, and every invoke it makes", () => {
            for (const { name, h } of runs) {
                const types = new Set(h.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && !inAccess(r)).map((r) => r.type));
                const missing = [...types].filter((t) => !(t in RESOURCE_PERMISSIONS));
                assert.deepStrictEqual(missing, [], `${name}: add these types to RESOURCE_PERMISSIONS in core/deployPermissions.ts`);
                const invokes = [...new Set(h.calls)].filter((c) => !(c in INVOKE_PERMISSIONS));
                assert.deepStrictEqual(invokes, [], `${name}: add these invokes to INVOKE_PERMISSIONS in core/deployPermissions.ts`);
            }
        });

        it("holds nothing that no stack, shipped or with every option on, uses", () => {
            const used = new Set(runs.flatMap(({ h }) => [...h.resources.filter((r) => !inAccess(r)).map((r) => r.type), ...h.calls]));
            const unused = [...Object.keys(RESOURCE_PERMISSIONS), ...Object.keys(INVOKE_PERMISSIONS)].filter((t) => !used.has(t));
            assert.deepStrictEqual(unused, [], "these entries grant permissions nothing needs");
        });

        it("keeps IAM and log writes to the stack's own roles and log groups, and reads to reads", () => {
            assert.deepStrictEqual(permissionProblems(RESOURCE_PERMISSIONS), []);
            const widened = {
                ...RESOURCE_PERMISSIONS,
                [T.role]: {
                    read: ["iam:PutRolePolicy"],
                    write: { any: ["iam:CreateRole"], newStackRoles: ["iam:CreateRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy"] },
                },
                [T.logGroup]: { read: [], write: { any: ["logs:DeleteLogGroup"] } },
            };
            assert.deepStrictEqual(permissionProblems(widened).sort(), [
                'aws:cloudwatch/logGroup:LogGroup: log write logs:DeleteLogGroup must be limited to the stack\'s log groups, not "any"',
                'aws:iam/role:Role: IAM write iam:CreateRole must be limited to the stack\'s roles, not "any"',
                'aws:iam/role:Role: iam:CreateRole is scoped "newStackRoles" here but granted on any resource by another entry',
                'aws:iam/role:Role: iam:UpdateAssumeRolePolicy on request tags alone changes roles the stack did not create; only iam:CreateRole and iam:TagRole belong in "newStackRoles"',
                "aws:iam/role:Role: read action iam:PutRolePolicy is not a Describe/Get/List call",
            ]);
        });
    });

    describe("the deploy role", () => {
        /** A condition's tag keys only, without the boundary and other keys. */
        const tagsOf = (condition: Record<string, string | string[]> | undefined) =>
            Object.fromEntries(Object.entries(condition ?? {}).filter(([k]) => k.startsWith("aws:")));

        it("changes only roles that carry the tags the stack's provider puts on everything it creates", () => {
            for (const { name, h } of runs) {
                const defaultTags = JSON.parse(h.one(T.provider, "berth").inputs.defaultTags).tags as Record<string, string>;
                const doc = deployPolicyOf(h);
                // The tags that name this stack: present on every resource, and including the stack's name.
                const tags = Object.fromEntries(
                    Object.entries(statement(doc, "ChangeStackRoles").Condition!.StringEquals).map(([k, v]) => [k.replace("aws:ResourceTag/", ""), v]),
                );
                assert.ok(Object.keys(tags).length > 0, name);
                for (const [key, value] of Object.entries(tags)) {
                    assert.strictEqual(defaultTags[key], value, `${name}: the provider does not tag everything ${key}=${value}`);
                }
                assert.strictEqual(tags.stack, name.split(" ")[0], `${name}: the condition does not single out the stack`);
                const asResourceTags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
                const asRequestTags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]));
                for (const sid of ["CreateStackRoles", "TagNewStackRoles"]) {
                    assert.deepStrictEqual(tagsOf(statement(doc, sid).Condition?.StringEquals), asRequestTags, `${name} ${sid}`);
                }
                for (const sid of ["ChangeStackRoles", "ChangeBoundedStackRoles", "AttachManagedPolicies"]) {
                    assert.deepStrictEqual(tagsOf(statement(doc, sid).Condition?.StringEquals), asResourceTags, `${name} ${sid}`);
                }
                const { ["iam:PassedToService"]: passedTo, ...passTags } = statement(doc, "PassStackRoles").Condition!.StringEquals;
                assert.deepStrictEqual(passTags, asResourceTags, name);
                // Exactly the services that the stack's own roles trust, since those are what the roles are passed to.
                // The policy is the union of the whole map, so: the services that any stack's own roles trust.
                const trusted = runs.flatMap((run) =>
                    run.h
                        .ofType(T.role)
                        .filter((r) => !inAccess(r))
                        .flatMap((r) =>
                            (JSON.parse(r.inputs.assumeRolePolicy).Statement as Array<{ Principal?: { Service?: string | string[] } }>).flatMap((st) =>
                                asList(st.Principal?.Service ?? []),
                            ),
                        ),
                );
                assert.deepStrictEqual(passedTo, [...new Set(trusted)].sort(), name);
                // Every IAM write sits in a statement limited to the stack's roles.
                for (const s of doc.Statement.filter((s) => s.Effect === "Allow" && s.Resource === "*")) {
                    assert.deepStrictEqual(
                        s.Action.filter((a) => a.startsWith("iam:") && !/^iam:(Get|List)/.test(a)),
                        [],
                        `${name} ${s.Sid}`,
                    );
                }
            }
        });

        it("creates, tags, changes and passes only roles under the stack's path, and every role of the stack is there", () => {
            for (const { name, h } of runs) {
                const stack = name.split(" ")[0];
                const doc = deployPolicyOf(h);
                const path = `/berth/${stack}/`;
                for (const sid of [
                    "CreateStackRoles",
                    "TagNewStackRoles",
                    "ChangeStackRoles",
                    "ChangeBoundedStackRoles",
                    "AttachManagedPolicies",
                    "PassStackRoles",
                ]) {
                    assert.deepStrictEqual(statement(doc, sid).Resource, `arn:aws:iam::${ACCOUNT}:role${path}*`, `${name} ${sid}`);
                }
                // A role created with tags needs iam:TagRole for them; on request tags alone it is safe only because
                // the resource is the stack's path.
                assert.deepStrictEqual(
                    [...statement(doc, "CreateStackRoles").Action, ...statement(doc, "TagNewStackRoles").Action],
                    ["iam:CreateRole", "iam:TagRole"],
                    name,
                );
                const roles = h.ofType(T.role).filter((r) => !inAccess(r));
                assert.ok(roles.length > 0, name);
                for (const role of roles) {
                    assert.strictEqual(role.inputs.path, path, `${name}: ${role.name} is outside the deploy role's reach`);
                }
            }
        });

        it("writes only log groups whose names start with one of the stack's prefixes, and every log group of the stack has one", () => {
            const toGlob = (resource: string) =>
                new RegExp(
                    `^${resource
                        .split("*")
                        .map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
                        .join(".*")}$`,
                );
            for (const { name, h } of runs) {
                const globs = asList(statement(deployPolicyOf(h), "StackLogGroups").Resource).map(toGlob);
                const stack = name.split(" ")[0];
                for (const other of [`/berth/other-${stack}/users`, `/aws/rds/instance/berth-other-${stack}-db/postgresql`, "/aws/lambda/anything"]) {
                    const arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${other}`;
                    assert.ok(!globs.some((g) => g.test(arn)), `${name}: the deploy role may write ${other}, which is not the stack's`);
                }
                const groups = h.ofType(T.logGroup);
                assert.ok(groups.length > 0);
                for (const g of groups) {
                    const arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${g.inputs.name}`;
                    assert.ok(
                        globs.some((glob) => glob.test(arn)),
                        `${name}: the deploy role cannot manage ${g.inputs.name}`,
                    );
                }
            }
        });

        it("attaches exactly the managed policies the program attaches, and no other", () => {
            for (const { name, h } of runs) {
                const allowed = statement(deployPolicyOf(h), "AttachManagedPolicies").Condition!.ArnEquals["iam:PolicyARN"];
                const attached = [
                    ...new Set(
                        h
                            .ofType(T.attachment)
                            .filter((r) => !inAccess(r))
                            .map((r) => r.inputs.policyArn),
                    ),
                ].sort();
                assert.deepStrictEqual(attached, [...allowed].sort(), name);
            }
        });

        it("may never change the pipeline's own roles or policies, and may still read them for a refresh", () => {
            for (const { name, h, outputs } of runs) {
                const docs = [deployPolicyOf(h)];
                const own = [outputs.pipeline?.deployRoleArn, outputs.pipeline?.previewRoleArn].filter((a): a is string => a !== undefined);
                assert.strictEqual(own.length, h.ofType(T.role).filter(inAccess).length);
                const stackTags = { project: "berth", stack: name.split(" ")[0] };
                for (const role of own) {
                    // Even if a role of the pipeline carried the stack's tags and the boundary.
                    const context = { ...tagged(stackTags, stackTags), "iam:PermissionsBoundary": boundaryArnOf(h) };
                    for (const action of [
                        "iam:PutRolePolicy",
                        "iam:AttachRolePolicy",
                        "iam:UpdateAssumeRolePolicy",
                        "iam:DeleteRole",
                        "iam:TagRole",
                        "iam:PassRole",
                        "iam:DeleteRolePermissionsBoundary",
                    ]) {
                        assert.strictEqual(evaluate(docs, { action, resource: role, context }), "deny", `${name}: ${action} on ${role}`);
                    }
                    // `pulumi refresh` reads them like every other role.
                    for (const action of ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"]) {
                        assert.strictEqual(evaluate(docs, { action, resource: role, context }), "allow", `${name}: ${action} on ${role}`);
                    }
                }
                for (const policy of [boundaryArnOf(h), h.one(T.policy, "berth-deploy-services").outputs.arn]) {
                    for (const action of ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy"]) {
                        assert.strictEqual(evaluate(docs, { action, resource: policy, context: tagged(stackTags) }), "deny", `${name}: ${action} on ${policy}`);
                    }
                    assert.strictEqual(evaluate(docs, { action: "iam:GetPolicyVersion", resource: policy }), "allow", `${name}: refresh reads ${policy}`);
                }
            }
        });

        it("fits IAM's limits: 10,240 characters of inline policies, 6,144 for a managed policy", () => {
            // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (whitespace does not count)
            for (const { name, h } of runs) {
                const inline = JSON.stringify(documentOf(h.one(T.rolePolicy, "berth-deploy-policy"))).length;
                assert.ok(inline <= 10_240, `${name}: ${inline} characters inline`);
                const managed = JSON.stringify(documentOf(h.one(T.policy, "berth-deploy-services"))).length;
                assert.ok(managed <= 6_144, `${name}: ${managed} characters in the managed policy`);
                assert.ok(
                    h
                        .ofType(T.attachment)
                        .some((a) => a.name === "berth-deploy-services" && a.inputs.policyArn === h.one(T.policy, "berth-deploy-services").outputs.arn),
                );
            }
        });

        it("creates and changes a role only when it carries the stack's permissions boundary, and never takes the boundary off", () => {
            for (const { name, h } of runs) {
                const docs = [deployPolicyOf(h)];
                const stack = name.split(" ")[0];
                const tags = { project: "berth", stack };
                const role = `arn:aws:iam::${ACCOUNT}:role/berth/${stack}/berth-api-task-role-1234567`;
                const boundary = boundaryArnOf(h);
                const elsewhere = `arn:aws:iam::${ACCOUNT}:policy/AdministratorAccess-boundary`;
                const cases: [string, Record<string, string>, Decision][] = [
                    ["iam:CreateRole", { ...tagged({}, tags), "iam:PermissionsBoundary": boundary }, "allow"],
                    ["iam:CreateRole", tagged({}, tags), "deny"],
                    ["iam:CreateRole", { ...tagged({}, tags), "iam:PermissionsBoundary": elsewhere }, "deny"],
                    ["iam:PutRolePolicy", { ...tagged(tags), "iam:PermissionsBoundary": boundary }, "allow"],
                    ["iam:PutRolePolicy", tagged(tags), "deny"],
                    [
                        "iam:AttachRolePolicy",
                        {
                            ...tagged(tags),
                            "iam:PermissionsBoundary": boundary,
                            "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                        },
                        "allow",
                    ],
                    [
                        "iam:AttachRolePolicy",
                        { ...tagged(tags), "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" },
                        "deny",
                    ],
                    [
                        "iam:AttachRolePolicy",
                        { ...tagged(tags), "iam:PermissionsBoundary": boundary, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" },
                        "implicit deny",
                    ],
                    ["iam:PutRolePermissionsBoundary", { ...tagged(tags), "iam:PermissionsBoundary": boundary }, "allow"],
                    ["iam:PutRolePermissionsBoundary", { ...tagged(tags), "iam:PermissionsBoundary": elsewhere }, "deny"],
                    ["iam:DeleteRolePermissionsBoundary", { ...tagged(tags), "iam:PermissionsBoundary": boundary }, "deny"],
                    // IAM offers no boundary key on trust policy updates: they go by path and tags (the role keeps its boundary).
                    ["iam:UpdateAssumeRolePolicy", tagged(tags), "allow"],
                ];
                for (const [action, context, expected] of cases) {
                    assert.strictEqual(evaluate(docs, { action, resource: role, context }), expected, `${name}: ${action} with ${JSON.stringify(context)}`);
                }
                // No managed policy of its own: the deploy role can write no boundary it would then accept.
                for (const action of ["iam:CreatePolicy", "iam:CreatePolicyVersion"]) {
                    assert.notStrictEqual(
                        evaluate(docs, { action, resource: `arn:aws:iam::${ACCOUNT}:policy/berth/${stack}/mine`, context: tagged({}, tags) }),
                        "allow",
                        `${name}: ${action}`,
                    );
                }
            }
        });

        it("is assumed only through GitHub's OIDC provider, by the repository's named environments, for AWS's audience", () => {
            for (const { name, h, outputs } of runs) {
                const role = h.one(T.role, "berth-deploy");
                const trust = JSON.parse(role.inputs.assumeRolePolicy);
                assert.strictEqual(trust.Statement.length, 1);
                const [s] = trust.Statement;
                assert.strictEqual(s.Action, "sts:AssumeRoleWithWebIdentity");
                assert.deepStrictEqual(Object.keys(s.Condition), ["StringEquals"], `${name}: only exact matches`);
                assert.strictEqual(s.Condition.StringEquals[`${GITHUB_OIDC_HOST}:aud`], STS_AUDIENCE);
                const environment = name.startsWith("prod") ? "prod" : "dev";
                const expected = name.includes("existing") ? [`repo:acme/berth:environment:${environment}`] : [`repo:acme/berth:environment:dev`];
                assert.deepStrictEqual(s.Condition.StringEquals[`${GITHUB_OIDC_HOST}:sub`], expected, name);
                const providers = h.ofType(T.oidc);
                if (name.includes("existing")) {
                    assert.deepStrictEqual(providers, [], "an existing provider is used, not created");
                    assert.strictEqual(s.Principal.Federated, existingProvider);
                } else {
                    assert.strictEqual(providers.length, 1);
                    assert.strictEqual(providers[0].inputs.url, `https://${GITHUB_OIDC_HOST}`);
                    assert.deepStrictEqual(providers[0].inputs.clientIdLists, [STS_AUDIENCE]);
                    assert.match(outputs.pipeline?.oidcProviderArn ?? "", /:berth-github-[0-9a-f]{7}$/);
                    assert.strictEqual(s.Principal.Federated, outputs.pipeline?.oidcProviderArn);
                }
            }
        });

        it("is a stack output, for the workflow's role-to-assume", () => {
            for (const { name, h, outputs } of runs) {
                const role = h.one(T.role, "berth-deploy");
                assert.ok(outputs.pipeline, name);
                assert.match(outputs.pipeline.deployRoleArn, new RegExp(`:role/${role.name}-[0-9a-f]{7}$`), name);
            }
        });
    });

    describe("the preview role", () => {
        it("exists only with pullRequests, trusts only the repository's pull requests, and reads nothing but reads", () => {
            for (const { name, h, outputs } of runs) {
                const previews = h.ofType(T.role).filter((r) => r.name === "berth-preview");
                if (name.includes("existing")) {
                    assert.deepStrictEqual(previews, [], `${name}: pullRequests is off`);
                    assert.strictEqual(outputs.pipeline?.previewRoleArn, undefined);
                    continue;
                }
                assert.strictEqual(previews.length, 1, name);
                const [s] = JSON.parse(previews[0].inputs.assumeRolePolicy).Statement;
                assert.deepStrictEqual(s.Condition.StringEquals[`${GITHUB_OIDC_HOST}:sub`], ["repo:acme/berth:pull_request"]);
                const doc = documentOf(h.one(T.rolePolicy, "berth-preview-policy"));
                for (const st of doc.Statement) {
                    assert.strictEqual(st.Effect, "Allow");
                    assert.deepStrictEqual(
                        st.Action.filter((a) => !/^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)/.test(a)),
                        [],
                        name,
                    );
                }
            }
        });

        it("reads what the program's invokes read, and nothing of the account's parameters, images or task definitions", () => {
            for (const { name, h } of runs.filter((r) => !r.name.includes("existing"))) {
                const docs = [documentOf(h.one(T.rolePolicy, "berth-preview-policy"))];
                const stack = name.split(" ")[0];
                // What `pulumi preview` calls: the program's invokes (a preview diffs without calling AWS).
                const invoked = [...new Set(h.calls)].flatMap((token) => INVOKE_PERMISSIONS[token].map((action) => ({ token, action })));
                assert.ok(invoked.length > 0);
                const amiParameter = `arn:aws:ssm:${REGION}::parameter${NAT_INSTANCE_AMI_PARAMETER}`;
                for (const { token, action } of invoked) {
                    const resource =
                        action === "ssm:GetParameter" ? amiParameter : action.startsWith("route53:") ? `arn:aws:route53:::hostedzone/${HOSTED_ZONE_ID}` : "*";
                    assert.strictEqual(evaluate(docs, { action, resource }), "allow", `${name}: ${token} needs ${action} on ${resource}`);
                }
                const denied: [string, string, Record<string, string>][] = [
                    // A SecureString of the account: the aws/ssm key lets every principal decrypt it.
                    ["ssm:GetParameter", `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/other/database-password`, {}],
                    ["ssm:GetParameter", `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/berth/${stack}/stripe-key`, {}],
                    ["ecr:BatchGetImage", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/other-app`, tagged({ project: "other", stack: "prod" })],
                    ["ecr:GetDownloadUrlForLayer", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/untagged`, {}],
                    ["ecs:DescribeTaskDefinition", "*", {}],
                    ["secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:berth/${stack}/api/X-AbCdEf`, {}],
                    ["logs:GetLogEvents", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/berth/${stack}/api:log-stream:x`, {}],
                ];
                for (const [action, resource, context] of denied) {
                    assert.notStrictEqual(evaluate(docs, { action, resource, context }), "allow", `${name}: the preview role may ${action} on ${resource}`);
                }
                // The image build's cache, with buildOnPreview: the stack's own repositories only.
                const ours = tagged({ project: "berth", stack });
                assert.strictEqual(
                    evaluate(docs, { action: "ecr:BatchGetImage", resource: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/api-repo-1234567`, context: ours }),
                    "allow",
                    name,
                );
            }
        });
    });

    describe("the permissions boundary", () => {
        /** Each role of the stack (the pipeline's own aside) with every policy document it gets, inline or attached. */
        function policiesOfRoles(h: Harness): Array<{ role: Recorded; documents: Document[] }> {
            return h
                .ofType(T.role)
                .filter((r) => !inAccess(r))
                .map((role) => {
                    const names = [role.outputs.name, role.id];
                    const inline = h
                        .ofType(T.rolePolicy)
                        .filter((p) => names.includes(p.inputs.role))
                        .map((p) => JSON.parse(p.inputs.policy) as Document);
                    const attached = h
                        .ofType(T.attachment)
                        .filter((a) => names.includes(a.inputs.role))
                        .map((a) => {
                            const managed = MANAGED_POLICIES[a.inputs.policyArn];
                            assert.ok(managed, `${role.name}: add ${a.inputs.policyArn} to tests/support/managedPolicies.ts`);
                            return managed;
                        });
                    return { role, documents: [...inline, ...attached] };
                });
        }

        it("is carried by every role the stack creates; only the pipeline's own roles, made by a human, go without", () => {
            for (const { name, h } of runs) {
                const boundary = boundaryArnOf(h);
                assert.match(boundary, new RegExp(`^arn:aws:iam::${ACCOUNT}:policy/berth/${name.split(" ")[0]}/`), name);
                for (const role of h.ofType(T.role).filter((r) => !inAccess(r))) {
                    assert.strictEqual(role.inputs.permissionsBoundary, boundary, `${name}: ${role.name} has no boundary`);
                }
                // A managed policy holds at most 6,144 characters (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
                const size = JSON.stringify(documentOf(h.one(T.policy, "berth-role-boundary"))).length;
                assert.ok(size <= 6_144, `${name}: the boundary has ${size} characters`);
            }
        });

        it("allows every action of every role's policies on the resources that role acts on", () => {
            for (const { name, h } of runs) {
                const boundary: Document = JSON.parse(h.one(T.policy, "berth-role-boundary").inputs.policy);
                const tags = JSON.parse(h.one(T.provider, "berth").inputs.defaultTags).tags as Record<string, string>;
                // A task's logs: the stack's own groups (RDS writes its exported logs itself).
                const logGroups = h
                    .ofType(T.logGroup)
                    .filter((g) => g.inputs.name.startsWith(`/berth/${name.split(" ")[0]}/`))
                    .map((g) => g.outputs.arn as string);
                assert.ok(logGroups.length > 0);
                const database = h.ofType(T.db)[0];
                const roles = policiesOfRoles(h);
                assert.ok(roles.length > 0);
                for (const { role, documents } of roles) {
                    assert.ok(documents.length > 0, `${name}: ${role.name} has no policy`);
                    for (const st of documents.flatMap((d) => d.Statement)) {
                        for (const action of asList(st.Action)) {
                            for (const pattern of asList(st.Resource)) {
                                // What the role acts on: "*" for actions without resources, but a task's logs go to the
                                // stack's log groups; AWS's managed policies name any region and account.
                                const resources =
                                    pattern === "*" && action.startsWith("logs:")
                                        ? logGroups.flatMap((g) => [g, `${g}:log-stream:x`])
                                        : [pattern.replace(/^arn:aws:([a-z0-9-]+):\*:\*:/, `arn:aws:$1:${REGION}:${ACCOUNT}:`)];
                                for (const resource of resources) {
                                    const context = resource.includes(":secret:rds!")
                                        ? tagged({ "aws:rds:primaryDBInstanceArn": database.outputs.arn })
                                        : tagged(tags);
                                    assert.strictEqual(
                                        evaluate([boundary], { action, resource, context }),
                                        "allow",
                                        `${name}: ${role.name} needs ${action} on ${resource}, which the boundary refuses`,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        });

        it("allows a role nothing of another stack's or of the account's: secrets, services, traffic, state machines", () => {
            for (const { name, h } of runs) {
                const boundary: Document = JSON.parse(h.one(T.policy, "berth-role-boundary").inputs.policy);
                const other = tagged({ project: "berth", stack: "other" });
                const denied: [string, string, Record<string, string>][] = [
                    ["secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:berth/other/api/X-AbCdEf`, other],
                    [
                        "secretsmanager:GetSecretValue",
                        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-0000-AbCdEf`,
                        tagged({ "aws:rds:primaryDBInstanceArn": `arn:aws:rds:${REGION}:${ACCOUNT}:db:berth-other-db` }),
                    ],
                    ["ecs:UpdateService", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/other/api`, other],
                    ["elasticloadbalancing:ModifyListener", `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/other/1/2`, other],
                    ["states:StartExecution", `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:other`, other],
                    ["logs:PutLogEvents", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/berth/other/api:log-stream:x`, other],
                    ["iam:CreateRole", `arn:aws:iam::${ACCOUNT}:role/admin`, {}],
                    ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/admin`, {}],
                    ["sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/admin`, {}],
                    ["s3:GetObject", "arn:aws:s3:::any-bucket/any", {}],
                ];
                for (const [action, resource, context] of denied) {
                    assert.notStrictEqual(
                        evaluate([boundary], { action, resource, context }),
                        "allow",
                        `${name}: a role of the stack may ${action} on ${resource}`,
                    );
                }
            }
        });
    });

    describe("outside the stack", () => {
        /** Resources of another stack of the same project, and of no stack, in the same account: what the deploy role must leave alone. */
        const foreign = (stack: string): Array<{ resource: string; tags: Record<string, string> }> => {
            const other = { project: "berth", stack: `other-${stack}` };
            const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
            return [
                { resource: `arn:aws:iam::${ACCOUNT}:role/berth/other-${stack}/berth-api-task-role-1234567`, tags: other },
                { resource: `arn:aws:iam::${ACCOUNT}:role/berth-api-task-role-1234567`, tags: { project: "berth", stack } },
                { resource: `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`, tags: {} },
                { resource: arn("secretsmanager", `secret:berth/other-${stack}/api/AUTH_API_KEYS-AbCdEf`), tags: other },
                {
                    resource: arn("secretsmanager", "secret:rds!db-00000000-0000-0000-0000-000000000000-AbCdEf"),
                    tags: { "aws:rds:primaryDBInstanceArn": arn("rds", `db:berth-other-${stack}-db`) },
                },
                { resource: arn("kms", "key/00000000-0000-0000-0000-000000000000"), tags: other },
                { resource: arn("rds", `db:berth-other-${stack}-db`), tags: other },
                { resource: arn("rds", "pg:other-params"), tags: other },
                { resource: arn("ecr", "repository/other-api"), tags: other },
                { resource: arn("elasticloadbalancing", "loadbalancer/app/other-alb/0123456789abcdef"), tags: other },
                { resource: arn("elasticloadbalancing", "listener/app/other-alb/0123456789abcdef/0123456789abcdef"), tags: other },
                { resource: arn("elasticloadbalancing", "targetgroup/other-tg/0123456789abcdef"), tags: other },
                { resource: arn("ecs", "service/other-cluster/api"), tags: other },
                { resource: arn("ecs", "cluster/other-cluster"), tags: other },
                { resource: arn("ec2", "vpc/vpc-0123456789abcdef0"), tags: other },
                { resource: arn("ec2", "instance/i-0123456789abcdef0"), tags: other },
                { resource: arn("logs", `log-group:/berth/other-${stack}/api`), tags: other },
            ];
        };
        const serviceOf = (arn: string) => arn.split(":")[2];
        const READ = /^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)/;

        it("finds nothing the deploy role could change of another stack's role, secret, key, database, repository, load balancer, service or log group", () => {
            for (const { name, h } of runs) {
                const doc = deployPolicyOf(h);
                const writes = [...new Set(doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action))].filter((a) => !READ.test(a));
                // The calls AWS lets no policy tie to the resource they act on, granted on "*" (docs/pipeline.md lists them):
                // creating something new beside it, never changing or deleting it.
                const unscoped = new Set(statement(doc, "Write").Action);
                const found: string[] = [];
                for (const { resource, tags } of foreign(name.split(" ")[0])) {
                    for (const action of writes.filter((a) => a.split(":")[0] === serviceOf(resource))) {
                        const context = { ...tagged(tags), "iam:PermissionsBoundary": boundaryArnOf(h) };
                        if (evaluate([doc], { action, resource, context }) === "allow" && !unscoped.has(action)) {
                            found.push(`${action} on ${resource}`);
                        }
                    }
                }
                assert.deepStrictEqual(found, [], name);
                // And what remains on "*" deletes and modifies nothing: only creations and calls AWS scopes no further.
                const destructive = [...unscoped].filter(
                    (a) =>
                        STACK_SCOPED_SERVICES.includes(a.split(":")[0]) &&
                        /:(Delete|Modify|Put|Update|Set|Revoke|Remove|Terminate|Stop|Detach|Disassociate|Release|Schedule|Reboot|Reset|Untag|Deregister)/.test(
                            a,
                        ) &&
                        !UNSCOPABLE_WRITES.includes(a),
                );
                assert.deepStrictEqual(destructive, [], `${name}: these deletes and changes reach every resource of their service`);
            }
        });

        it("still lets the deploy role do what the program needs to this stack's resources", () => {
            for (const { name, h } of runs) {
                const doc = deployPolicyOf(h);
                const stack = name.split(" ")[0];
                const tags = { project: "berth", stack };
                const context = tagged(tags);
                const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
                const allowed: [string, string, Record<string, string>][] = [
                    ["kms:PutKeyPolicy", arn("kms", "key/00000000-0000-0000-0000-000000000001"), context],
                    ["kms:ScheduleKeyDeletion", arn("kms", "key/00000000-0000-0000-0000-000000000001"), context],
                    ["kms:CreateKey", "*", tagged({}, tags)],
                    ["kms:TagResource", arn("kms", "key/00000000-0000-0000-0000-000000000001"), tagged({}, tags)],
                    ["kms:CreateAlias", arn("kms", "alias/berth-logs-1234"), {}],
                    ["kms:CreateAlias", arn("kms", "key/00000000-0000-0000-0000-000000000001"), context],
                    ["rds:DeleteDBInstance", arn("rds", `db:berth-${stack}-db`), context],
                    ["rds:ModifyDBInstance", arn("rds", `db:berth-${stack}-db`), context],
                    ["rds:CreateDBInstance", arn("rds", `db:berth-${stack}-db`), tagged({}, tags)],
                    ["ecr:PutImage", arn("ecr", "repository/api-repo-1234567"), context],
                    ["ecr:DeleteRepository", arn("ecr", "repository/api-repo-1234567"), context],
                    ["ecr:CreateRepository", arn("ecr", "repository/api-repo-1234567"), tagged({}, tags)],
                    ["ecr:TagResource", arn("ecr", "repository/api-repo-1234567"), tagged({}, tags)],
                    ["elasticloadbalancing:DeleteLoadBalancer", arn("elasticloadbalancing", "loadbalancer/app/berth-alb/1"), context],
                    ["elasticloadbalancing:ModifyRule", arn("elasticloadbalancing", "listener-rule/app/berth-alb/1/2/3"), context],
                    ["elasticloadbalancing:AddTags", arn("elasticloadbalancing", "targetgroup/api-tg/1"), tagged({}, tags)],
                    ["ecs:UpdateService", arn("ecs", "service/berth-cluster/api-service"), context],
                    ["ecs:DeleteService", arn("ecs", "service/berth-cluster/api-service"), context],
                    ["ecs:CreateService", arn("ecs", "service/berth-cluster/api-service"), tagged({}, tags)],
                    ["ec2:DeleteVpc", arn("ec2", "vpc/vpc-1"), context],
                    ["ec2:CreateTags", arn("ec2", "vpc/vpc-1"), tagged({}, tags)],
                    ["ec2:TerminateInstances", arn("ec2", "instance/i-1"), context],
                    ["logs:DeleteLogGroup", arn("logs", `log-group:/berth/${stack}/api`), {}],
                    ["secretsmanager:DeleteSecret", arn("secretsmanager", `secret:berth/${stack}/api/X-AbCdEf`), {}],
                    [
                        "iam:PassRole",
                        `arn:aws:iam::${ACCOUNT}:role/berth/${stack}/berth-api-task-role-1234567`,
                        { ...context, "iam:PassedToService": "ecs-tasks.amazonaws.com" },
                    ],
                ];
                if (h.ofType(T.db).length > 0) {
                    const db = { "aws:rds:primaryDBInstanceArn": arn("rds", `db:berth-${stack}-db`) };
                    allowed.push(
                        ["secretsmanager:CreateSecret", arn("secretsmanager", "secret:rds!db-1-AbCdEf"), tagged({}, db)],
                        ["secretsmanager:RotateSecret", arn("secretsmanager", "secret:rds!db-1-AbCdEf"), tagged(db)],
                        ["secretsmanager:DeleteSecret", arn("secretsmanager", "secret:rds!db-1-AbCdEf"), tagged(db)],
                    );
                    // It needs no value of the database's secret.
                    assert.notStrictEqual(
                        evaluate([doc], {
                            action: "secretsmanager:GetSecretValue",
                            resource: arn("secretsmanager", "secret:rds!db-1-AbCdEf"),
                            context: tagged(db),
                        }),
                        "allow",
                        name,
                    );
                }
                for (const [action, resource, ctx] of allowed) {
                    assert.strictEqual(evaluate([doc], { action, resource, context: ctx }), "allow", `${name}: ${action} on ${resource}`);
                }
                // Tagging another stack's resource into this one is how a scope by tags would leak.
                assert.notStrictEqual(
                    evaluate([doc], {
                        action: "ec2:CreateTags",
                        resource: arn("ec2", "vpc/vpc-2"),
                        context: tagged({ project: "berth", stack: "other" }, tags),
                    }),
                    "allow",
                    name,
                );
                assert.notStrictEqual(
                    evaluate([doc], { action: "kms:TagResource", resource: arn("kms", "key/2"), context: tagged({ project: "berth", stack: "other" }, tags) }),
                    "allow",
                    name,
                );
            }
        });
    });

    describe("a guarded destroy", () => {
        it("deletes nothing of the pipeline's access: the guard comes after its roles, policies and the OIDC provider", () => {
            for (const { name, h } of runs.filter((r) => r.name.startsWith("prod"))) {
                const guard = h.one(T.guard, "berth-destroy-guard");
                assert.strictEqual(guard.protect, true, name);
                // A destroy deletes dependents first; the guard's failed delete makes the engine skip everything it
                // depends on (destroyGuard.ts), and `--exclude-protected` skips what a protected resource depends on.
                const access = h.resources.filter((r) => inAccess(r) && r.custom);
                assert.ok(access.length > 0);
                const unguarded = access.filter((r) => !guard.dependencies.includes(`${r.type}::${r.name}`)).map((r) => `${r.type}::${r.name}`);
                assert.deepStrictEqual(unguarded, [], `${name}: a guarded destroy would delete these`);
                assert.ok(guard.dependencies.includes(`${T.policy}::berth-role-boundary`), `${name}: the boundary`);
            }
        });

        it("never deletes the account's GitHub OIDC provider, which other stacks trust too, and protects it in prod", () => {
            for (const { name, h } of runs.filter((r) => !r.name.includes("existing"))) {
                const [provider] = h.ofType(T.oidc);
                assert.strictEqual(provider.retainOnDelete, true, `${name}: a destroy would delete the account's provider`);
                assert.strictEqual(provider.protect, name.startsWith("prod"), name);
            }
        });
    });

    it("is not created without berth:pipeline", async () => {
        const { h, outputs } = await runBerth(stackConfig("dev"));
        assert.deepStrictEqual(h.resources.filter(inAccess), []);
        assert.strictEqual(h.resources.filter((r) => r.type === ACCESS).length, 0);
        assert.strictEqual(outputs.pipeline, undefined);
    });
});
