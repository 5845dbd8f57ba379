/**
 * The pipeline's access to AWS: the `berth:pipeline` setting, the DeployAccess component under mocks, and the
 * permission map held against every resource type and invoke the whole program uses in every shipped stack.
 */
import * as assert from "assert";
import { GITHUB_OIDC_HOST, githubSubjects, STS_AUDIENCE } from "../components/deployAccess";
import {
    INVOKE_PERMISSIONS,
    permissionProblems,
    previewPolicy,
    RESOURCE_PERMISSIONS,
    type PolicyDocument,
    type PolicyStatement,
} from "../components/deployPermissions";
import { ConfigError, loadSettings } from "../config";
import { catalog } from "../services/catalog";
import { ACCOUNT, Harness, HOSTED_ZONE_ID, REGION, runBerth, shippedStacks, stackConfig, type Recorded } from "./support/pulumi";

const ACCESS = "berth:pipeline:DeployAccess";
const T = {
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    provider: "pulumi:providers:aws",
} as const;

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
        const { pipeline } = loadSettings(withPipeline("dev", {
            repository: "acme@123/berth@456", branches: ["main", "release/2026"], pullRequests: "true", oidcProviderArn: arn,
        }), { project: "berth", stack: "dev" }, catalog);
        assert.deepStrictEqual(pipeline, {
            repository: "acme@123/berth@456", branches: ["main", "release/2026"], environments: [], pullRequests: true, oidcProviderArn: arn,
        });
    });

    const errors: [string, unknown, RegExp][] = [
        ["a repository without its owner", { repository: "berth", environments: ["dev"] },
            /^berth:pipeline\.repository is "berth"; allowed: a GitHub repository as owner\/name/],
        ["a repository given as a URL", { repository: "https://github.com/acme/berth", environments: ["dev"] },
            /^berth:pipeline\.repository is "https:\/\/github\.com\/acme\/berth"; allowed: /],
        ["half of the immutable form", { repository: "acme@123/berth", environments: ["dev"] }, /^berth:pipeline\.repository is "acme@123\/berth"/],
        ["a branch with a wildcard", { repository: "acme/berth", branches: ["release/*"] },
            /^berth:pipeline\.branches is \["release\/\*"\]; allowed: a list of branch names such as \[main\], without wildcards$/],
        ["a branch given as a string", { repository: "acme/berth", branches: "main" }, /^berth:pipeline\.branches is "main"; allowed: a list/],
        ["an environment with a space", { repository: "acme/berth", environments: ["prod eu"] },
            /^berth:pipeline\.environments is \["prod eu"\]; allowed: a list of GitHub environment names/],
        ["previews that are no boolean", { repository: "acme/berth", environments: ["dev"], pullRequests: "yes" },
            /^berth:pipeline\.pullRequests is "yes"; allowed: true or false$/],
        ["a provider ARN for another issuer", { repository: "acme/berth", environments: ["dev"], oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/example.com` },
            /^berth:pipeline\.oidcProviderArn is "arn:aws:iam::\d{12}:oidc-provider\/example\.com"; allowed: the ARN of the account's GitHub OIDC provider/],
        ["a misspelt key", { repository: "acme/berth", branch: "main" },
            /^berth:pipeline has unknown keys branch; allowed: repository, branches, environments, pullRequests, oidcProviderArn$/],
        ["no repository", { environments: ["dev"] }, /^berth:pipeline\.repository is not set; allowed: a GitHub repository/],
        ["nobody who may deploy", { repository: "acme/berth", branches: [], environments: [] },
            /^berth:pipeline names no branches and no environments; allowed: at least one, or the deploy role trusts no workflow$/],
        ["a plain string", "acme/berth", /^berth:pipeline is "acme\/berth"; allowed: an object such as \{"repository"/],
    ];
    for (const [what, value, message] of errors) {
        it(`name the key, the value and what is allowed for ${what}`, () => {
            const found = problems(value);
            assert.ok(found.some((p) => message.test(p)), `no problem matches ${message}:\n${found.join("\n")}`);
        });
    }

    it("stop the program before any resource is registered", async () => {
        const h = new Harness();
        await h.install(withPipeline("dev", { repository: "acme", environments: ["dev"] }));
        const { deployBerth } = await import("../program");
        const error = await deployBerth(catalog).then(() => undefined, (e: Error) => e);
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
        const { h, outputs } = await runBerth(withPipeline("prod", { repository: "acme/berth", environments: ["prod"], oidcProviderArn: existingProvider }), { stack: "prod" });
        runs.push({ name: "prod with an existing OIDC provider", h, outputs });
        // Every option a team may turn on brings its own resource types: the role must cover them too.
        const everything = await runBerth({
            ...withPipeline("prod"),
            "berth:domain": "example.com",
            "berth:hostedZoneId": HOSTED_ZONE_ID,
            "berth:alarmEmail": "ops@example.com",
            "berth:secrets": JSON.stringify({ api: { AUTH_API_KEYS: "a-value-set-with-secret-0123456789abcdef" } }),
        }, { stack: "prod", secretKeys: ["berth:secrets"] });
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
            runs.push({ name: `${stack} with ${Object.entries(rollouts).map(([n, r]) => `${n} ${r}`).join(", ")}`, ...run });
        }
    });

    describe("the permission map", () => {
        it("names every resource type each stack registers, shipped or with every option on, and every invoke it makes", () => {
            for (const { name, h } of runs) {
                const types = new Set(h.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && !inAccess(r)).map((r) => r.type));
                const missing = [...types].filter((t) => !(t in RESOURCE_PERMISSIONS));
                assert.deepStrictEqual(missing, [], `${name}: add these types to RESOURCE_PERMISSIONS in components/deployPermissions.ts`);
                const invokes = [...new Set(h.calls)].filter((c) => !(c in INVOKE_PERMISSIONS));
                assert.deepStrictEqual(invokes, [], `${name}: add these invokes to INVOKE_PERMISSIONS in components/deployPermissions.ts`);
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
                "aws:iam/role:Role": { read: ["iam:PutRolePolicy"], write: { any: ["iam:CreateRole"], newStackRoles: ["iam:CreateRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy"] } },
                "aws:cloudwatch/logGroup:LogGroup": { read: [], write: { any: ["logs:DeleteLogGroup"] } },
            };
            assert.deepStrictEqual(permissionProblems(widened).sort(), [
                "aws:cloudwatch/logGroup:LogGroup: log write logs:DeleteLogGroup must be limited to the stack's log groups, not \"any\"",
                "aws:iam/role:Role: IAM write iam:CreateRole must be limited to the stack's roles, not \"any\"",
                "aws:iam/role:Role: iam:UpdateAssumeRolePolicy on request tags alone changes roles the stack did not create; only iam:CreateRole and iam:TagRole belong in \"newStackRoles\"",
                "aws:iam/role:Role: read action iam:PutRolePolicy is not a Describe/Get/List call",
            ]);
        });
    });

    describe("the deploy role", () => {
        const deployPolicyOf = (h: Harness) => documentOf(h.one(T.rolePolicy, "berth-deploy-policy"));

        it("changes only roles that carry the tags the stack's provider puts on everything it creates", () => {
            for (const { name, h } of runs) {
                const defaultTags = JSON.parse(h.one(T.provider, "berth").inputs.defaultTags).tags as Record<string, string>;
                const doc = deployPolicyOf(h);
                // The tags that name this stack: present on every resource, and including the stack's name.
                const tags = Object.fromEntries(Object.entries(statement(doc, "ChangeStackRoles").Condition!.StringEquals)
                    .map(([k, v]) => [k.replace("aws:ResourceTag/", ""), v]));
                assert.ok(Object.keys(tags).length > 0, name);
                for (const [key, value] of Object.entries(tags)) {
                    assert.strictEqual(defaultTags[key], value, `${name}: the provider does not tag everything ${key}=${value}`);
                }
                assert.strictEqual(tags.stack, name.split(" ")[0], `${name}: the condition does not single out the stack`);
                const asResourceTags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
                const asRequestTags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]));
                assert.deepStrictEqual(statement(doc, "CreateStackRoles").Condition?.StringEquals, asRequestTags, name);
                for (const sid of ["ChangeStackRoles", "AttachManagedPolicies"]) {
                    assert.deepStrictEqual(statement(doc, sid).Condition?.StringEquals, asResourceTags, `${name} ${sid}`);
                }
                const { ["iam:PassedToService"]: passedTo, ...passTags } = statement(doc, "PassStackRoles").Condition!.StringEquals;
                assert.deepStrictEqual(passTags, asResourceTags, name);
                // Exactly the services that the stack's own roles trust, since those are what the roles are passed to.
                // The policy is the union of the whole map, so: the services that any stack's own roles trust.
                const trusted = runs.flatMap((run) => run.h.ofType(T.role).filter((r) => !inAccess(r)).flatMap((r) =>
                    (JSON.parse(r.inputs.assumeRolePolicy).Statement as Array<{ Principal?: { Service?: string | string[] } }>)
                        .flatMap((st) => asList(st.Principal?.Service ?? []))));
                assert.deepStrictEqual(passedTo, [...new Set(trusted)].sort(), name);
                // Every IAM write sits in a statement limited to the stack's roles.
                for (const s of doc.Statement.filter((s) => s.Effect === "Allow" && s.Resource === "*")) {
                    assert.deepStrictEqual(s.Action.filter((a) => a.startsWith("iam:") && !/^iam:(Get|List)/.test(a)), [], `${name} ${s.Sid}`);
                }
            }
        });

        it("creates, tags, changes and passes only roles under the stack's path, and every role of the stack is there", () => {
            for (const { name, h } of runs) {
                const stack = name.split(" ")[0];
                const doc = deployPolicyOf(h);
                const path = `/berth/${stack}/`;
                for (const sid of ["CreateStackRoles", "ChangeStackRoles", "AttachManagedPolicies", "PassStackRoles"]) {
                    assert.deepStrictEqual(statement(doc, sid).Resource, `arn:aws:iam::${ACCOUNT}:role${path}*`, `${name} ${sid}`);
                }
                // A role created with tags needs iam:TagRole for them; on request tags alone it is safe only because
                // the resource is the stack's path.
                assert.deepStrictEqual(statement(doc, "CreateStackRoles").Action, ["iam:CreateRole", "iam:TagRole"], name);
                const roles = h.ofType(T.role).filter((r) => !inAccess(r));
                assert.ok(roles.length > 0, name);
                for (const role of roles) {
                    assert.strictEqual(role.inputs.path, path, `${name}: ${role.name} is outside the deploy role's reach`);
                }
            }
        });

        it("writes only log groups whose names start with one of the stack's prefixes, and every log group of the stack has one", () => {
            const toGlob = (resource: string) => new RegExp(`^${resource.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`);
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
                    assert.ok(globs.some((glob) => glob.test(arn)), `${name}: the deploy role cannot manage ${g.inputs.name}`);
                }
            }
        });

        it("attaches exactly the managed policies the program attaches, and no other", () => {
            for (const { name, h } of runs) {
                const allowed = statement(deployPolicyOf(h), "AttachManagedPolicies").Condition!.ArnEquals["iam:PolicyARN"];
                const attached = [...new Set(h.ofType(T.attachment).filter((r) => !inAccess(r)).map((r) => r.inputs.policyArn))].sort();
                assert.deepStrictEqual(attached, [...allowed].sort(), name);
            }
        });

        it("may never change the pipeline's own roles", () => {
            for (const { name, h, outputs } of runs) {
                const deny = statement(deployPolicyOf(h), "NeverChangeThePipelineRoles");
                assert.strictEqual(deny.Effect, "Deny");
                assert.deepStrictEqual(deny.Action, ["iam:*"]);
                const own = [outputs.pipeline?.deployRoleArn, outputs.pipeline?.previewRoleArn].filter((a) => a !== undefined);
                assert.strictEqual(own.length, h.ofType(T.role).filter(inAccess).length);
                assert.deepStrictEqual(asList(deny.Resource).sort(), own.sort(), name);
            }
        });

        it("fits IAM's 10,240-character limit for a role's inline policies", () => {
            // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (whitespace does not count)
            for (const { name, h } of runs) {
                const size = JSON.stringify(deployPolicyOf(h)).length;
                assert.ok(size <= 10_240, `${name}: ${size} characters`);
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
                assert.match(outputs.pipeline.deployRoleArn, new RegExp(`:${role.name}-[0-9a-f]{7}$`), name);
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
                const deployWrites = documentOf(h.one(T.rolePolicy, "berth-deploy-policy")).Statement
                    .filter((st) => st.Sid !== "Read").flatMap((st) => st.Action);
                for (const st of doc.Statement) {
                    assert.strictEqual(st.Effect, "Allow");
                    assert.deepStrictEqual(st.Action.filter((a) => deployWrites.includes(a) || !/^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)/.test(a)), [], name);
                }
                assert.deepStrictEqual(doc, previewPolicy());
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
