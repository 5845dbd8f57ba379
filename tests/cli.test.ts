import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliError, type AwsApis, type Deps, type StackView } from "../cli/context";
import { run } from "../cli/main";
import { automationStacks, NoStackError } from "../cli/stack";

/** The outputs of a deployed `dev` stack, as `pulumi stack output --json` shows them. */
const OUTPUTS = {
    url: "http://berth-dev-alb-123.eu-west-1.elb.amazonaws.com",
    clusterName: "berth-dev-cluster-1a2b3c4",
    dashboardUrl: "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=berth-dev",
    alarmTopicArn: "arn:aws:sns:eu-west-1:111122223333:berth-dev-alarms",
    services: {
        api: { kind: "public", repositoryUrl: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api", imageTag: "0a1b2c3-build7", commit: "0a1b2c3", logGroupName: "/berth/dev/api", serviceName: "api-service-9f8e7d6" },
        users: { kind: "backend", repositoryUrl: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/users", imageTag: "4d5e6f7-build7", commit: "4d5e6f7", logGroupName: "/berth/dev/users", serviceName: "users-service-1234567", discoveryName: "users" },
    },
    database: { address: "berth-dev.abc.eu-west-1.rds.amazonaws.com", port: 5432, name: "berth", secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1", identifier: "berth-dev" },
    pipeline: { deployRoleArn: "arn:aws:iam::111122223333:role/berth/dev/deploy", oidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" },
};

const CONFIG = { "aws:region": "eu-west-1", "berth:environment": "test" };

function fakeStack(overrides: Partial<StackView> = {}): StackView {
    return { name: "dev", project: "berth", outputs: async () => OUTPUTS, config: async () => CONFIG, ...overrides };
}

/** An AWS call no test expects fails loudly. */
function unexpected(name: string): never {
    throw new Error(`unexpected AWS call ${name}`);
}

function fakeAws(partial: { [K in keyof AwsApis]?: Partial<AwsApis[K]> } = {}): AwsApis {
    const wrap = <T extends object>(name: string, impl: Partial<T> | undefined) =>
        new Proxy((impl ?? {}) as T, { get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (() => unexpected(`${name}.${String(k)}`)) });
    return {
        ecs: wrap("ecs", partial.ecs),
        elb: wrap("elb", partial.elb),
        cloudwatch: wrap("cloudwatch", partial.cloudwatch),
        logs: wrap("logs", partial.logs),
    };
}

interface Harness {
    deps: Deps;
    out: string[];
    err: string[];
    selected: Array<string | undefined>;
}

function harness(options: { stack?: StackView | Error; aws?: AwsApis; deps?: Partial<Deps> } = {}): Harness {
    const out: string[] = [];
    const err: string[] = [];
    const selected: Array<string | undefined> = [];
    const deps: Deps = {
        stacks: {
            async select(name) {
                selected.push(name);
                if (options.stack instanceof Error) {
                    throw options.stack;
                }
                return options.stack ?? fakeStack();
            },
        },
        aws: () => options.aws ?? fakeAws(),
        term: { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: true },
        now: () => Date.parse("2026-12-03T12:00:00Z"),
        sleep: async () => {},
        which: () => undefined,
        run: async () => 0,
        interrupted: new AbortController().signal,
        cwd: os.tmpdir(),
        localUrl: "http://127.0.0.1:1",
        fetch: (() => unexpected("fetch")) as unknown as typeof fetch,
        ...options.deps,
    };
    return { deps, out, err, selected };
}

describe("berth command line", () => {
    describe("arguments and errors", () => {
        it("prints the usage and exits 2 without a command, 0 with --help", async () => {
            const none = harness();
            assert.strictEqual(await run([], none.deps), 2);
            assert.match(none.err.join("\n"), /usage: berth <command>/);
            const help = harness();
            assert.strictEqual(await run(["status", "--help"], help.deps), 0);
            assert.match(help.out.join("\n"), /berth status|status \[service\]/);
        });

        it("refuses an unknown option in one line and exits 2", async () => {
            const h = harness();
            assert.strictEqual(await run(["show", "--stak", "dev"], h.deps), 2);
            assert.match(h.err[0], /^berth: Unknown option '--stak'/);
        });

        it("refuses an unknown command", async () => {
            const h = harness();
            assert.strictEqual(await run(["deploy"], h.deps), 2);
            assert.deepStrictEqual(h.err, ["berth: unknown command \"deploy\"; commands: show, status, logs, exec (berth --help)"]);
        });

        it("passes --stack to the stack resolver, and nothing for the current stack", async () => {
            const named = harness();
            await run(["show", "--stack", "prod"], named.deps);
            assert.deepStrictEqual(named.selected, ["prod"]);
            const current = harness();
            await run(["show"], current.deps);
            assert.deepStrictEqual(current.selected, [undefined]);
        });

        it("says when there is no stack, in one line without a stack trace", async () => {
            const h = harness({ stack: new NoStackError("no stack selected; pass --stack <name> or run `pulumi stack select <name>`") });
            assert.strictEqual(await run(["show"], h.deps), 2);
            assert.deepStrictEqual(h.err, ["berth: no stack selected; pass --stack <name> or run `pulumi stack select <name>`"]);
        });

        it("says when the Pulumi CLI is missing (the real Automation API, PATH without pulumi)", async function () {
            this.timeout(60000);
            const saved = process.env.PATH;
            const empty = fs.mkdtempSync(path.join(os.tmpdir(), "berth-cli-path-"));
            process.env.PATH = `${empty}${path.delimiter}${path.dirname(process.execPath)}`;
            try {
                await assert.rejects(automationStacks(path.resolve(__dirname, "..")).select("dev"), (e: Error) =>
                    e instanceof CliError && /the Pulumi CLI is not installed or not on PATH/.test(e.message) && !e.message.includes("\n"));
            } finally {
                process.env.PATH = saved;
            }
        });
    });

    describe("show", () => {
        it("lists the URL, services with kind, routes, images and commits, the database without its password, the dashboard and the pipeline role", async () => {
            const h = harness();
            assert.strictEqual(await run(["show"], h.deps), 0);
            const text = h.out.join("\n");
            assert.match(text, /URL +http:\/\/berth-dev-alb-123\.eu-west-1\.elb\.amazonaws\.com/);
            assert.match(text, /Dashboard +https:\/\/console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#dashboards:name=berth-dev/);
            assert.match(text, /api +public +http:\/\/berth-dev-alb-123\.eu-west-1\.elb\.amazonaws\.com\/\* \(default route\) +0a1b2c3 +111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/api:0a1b2c3-build7/);
            assert.match(text, /users +backend +\/users\/\* via gateway, http:\/\/users \(Service Connect\) +4d5e6f7 +111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/users:4d5e6f7-build7/);
            assert.match(text, /Database +berth-dev\.abc\.eu-west-1\.rds\.amazonaws\.com:5432\/berth \(berth-dev; user and password in arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1\)/);
            assert.match(text, /Pipeline +deploy role +arn:aws:iam::111122223333:role\/berth\/dev\/deploy/);
            assert.doesNotMatch(text, /password=|"password"/i);
        });

        it("gives the same facts as JSON with --json", async () => {
            const h = harness();
            assert.strictEqual(await run(["show", "--json"], h.deps), 0);
            const view = JSON.parse(h.out.join("\n"));
            assert.strictEqual(view.url, OUTPUTS.url);
            assert.deepStrictEqual(view.services.map((s: { name: string; kind: string }) => [s.name, s.kind]), [["api", "public"], ["users", "backend"]]);
            assert.strictEqual(view.database.endpoint, "berth-dev.abc.eu-west-1.rds.amazonaws.com:5432/berth");
        });
    });
});
