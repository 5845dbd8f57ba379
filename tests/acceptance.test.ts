/**
 * The acceptance run's plan and judgements (scripts/acceptanceRun.ts) against a fake account: a stack whose
 * `pulumi up` behaves as Berth's does (a release makes a new commit label, a gateway that cannot start fails
 * the update and leaves the old version serving, blue/green moves the production rule to the other group),
 * a fake seed API, ELBv2 and Tagging API. Each failure mode is one knob of the fake, and must be reported
 * with a message that says what was wrong; `pulumi destroy` must run whatever failed.
 */
import {
    DescribeListenersCommand,
    DescribeLoadBalancersCommand,
    DescribeRulesCommand,
    DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import * as assert from "assert";
import { execFile } from "child_process";
import * as path from "path";
import {
    acceptanceConfig,
    FAILING_VARIABLE,
    productionForward,
    runAcceptance,
    servingGroup,
    SHIFT_STRATEGY,
    type AcceptanceClients,
    type AcceptanceOptions,
    type AcceptanceReport,
    type AcceptanceService,
    type HttpResponse,
} from "../scripts/acceptanceRun";
import { parseAcceptanceArgs, prerequisiteProblems } from "../scripts/acceptance";
import { readStackConfig } from "../scripts/stackConfig";
import { loadSettings } from "../config";
import { catalog } from "../catalog";
import { ROOT } from "./support/pulumi";

const COMMIT = "3f2c1a9d04be5e6f7a8b9c0d1e2f3a4b5c6d7e8f";
const DNS = "berth-alb-1234567-1234567890.eu-west-1.elb.amazonaws.com";
const LB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/berth-alb/1";
const LISTENER_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/berth-alb/1/2";
const BLUE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-tg-blue/3";
const GREEN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-tg-green/4";
const API_KEY = "acceptance-key-0123456789abcdef0123456789";
const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhY2NlcHRhbmNlIn0.c2ln";

const SHIPPED: AcceptanceService[] = [
    { name: "api", kind: "public", gateway: true, routes: [], auth: "none", priority: 50000 },
    { name: "users", kind: "backend", gateway: false, routes: ["/users"], auth: "none" },
    { name: "products", kind: "backend", gateway: false, routes: ["/products"], auth: "none" },
];

/** How the fake account misbehaves; all false is an account where Berth works. */
interface Knobs {
    /** The first `pulumi up` fails. */
    firstUpFails?: boolean;
    /** The seed API answers 201 to a taken email. */
    noConflict?: boolean;
    /** `pulumi up` succeeds although the gateway cannot start. */
    failingUpSucceeds?: boolean;
    /** The failed release takes the old version down. */
    failedReleaseBreaksOld?: boolean;
    /** After the failed release, this commit answers instead of the old one (every probe still 200). */
    failedReleaseServes?: string;
    /** Blue/green releases leave the production rule where it was. */
    noFlip?: boolean;
    /** ARNs the Tagging API keeps listing after the destroy. */
    leftovers?: string[];
    /** The gateway lets requests without a credential through on auth routes. */
    authOpen?: boolean;
    /** `pulumi destroy` fails. */
    destroyFails?: boolean;
}

class FakeAccount {
    readonly config = new Map<string, { value: string; secret: boolean }>();
    readonly calls: string[] = [];
    readonly lines: string[] = [];
    readonly markers = new Map<string, string>();
    private lastMarkers = "";
    serving: string | undefined;
    active = BLUE;
    users = new Map<number, string>([[1, "ada@example.com"]]);
    nextId = 2;
    clock = 0;
    destroyed = false;

    constructor(
        private readonly knobs: Knobs = {},
        private readonly services: AcceptanceService[] = SHIPPED,
    ) {}

    private commitLabel(): string {
        return this.markers.size > 0 ? `${COMMIT}-dirty` : COMMIT;
    }

    private async up(): Promise<Record<string, unknown>> {
        const first = this.serving === undefined;
        this.calls.push("up");
        if (first && this.knobs.firstUpFails) {
            throw new Error("error: creating ECS service: AccessDeniedException");
        }
        const markers = JSON.stringify([...this.markers]);
        const changed = markers !== this.lastMarkers;
        if (this.config.get("berth:secrets.api.UPSTREAM_CONNECTIONS")?.value === "0") {
            if (this.knobs.failedReleaseBreaksOld) {
                this.serving = "";
            }
            this.serving = this.knobs.failedReleaseServes ?? this.serving;
            if (!this.knobs.failingUpSucceeds) {
                throw new Error("error: api: deployment ecs-svc/1 FAILED: rolled back (tasks stopped: Essential container exited)");
            }
            return this.outputs();
        }
        this.lastMarkers = markers;
        if (changed && this.config.get("berth:services.api.rollout")?.value === "blueGreen" && !this.knobs.noFlip) {
            this.active = this.active === BLUE ? GREEN : BLUE;
        }
        if (first || changed) {
            this.serving = this.commitLabel();
        }
        return this.outputs();
    }

    private outputs(): Record<string, unknown> {
        return {
            url: `http://${DNS}`,
            services: { api: { commit: this.commitLabel(), imageTag: `${this.commitLabel().slice(0, 12)}-${this.calls.length}` } },
        };
    }

    private async http(method: string, url: string, init?: { headers?: Record<string, string>; body?: unknown }): Promise<HttpResponse> {
        const { pathname } = new URL(url);
        this.calls.push(`${method} ${pathname}`);
        if (!this.serving || this.destroyed) {
            return { status: 503, body: { error: { code: "unavailable" } } };
        }
        if (pathname === "/health") {
            return { status: 200, body: { status: "ok", service: "api", commit: this.serving } };
        }
        const guarded = this.services.find((s) => s.routes.some((r) => pathname.startsWith(r)) && s.auth !== "none");
        if (guarded && !this.knobs.authOpen) {
            const presented = guarded.auth === "apiKey" ? init?.headers?.["x-api-key"] === API_KEY : init?.headers?.authorization === `Bearer ${TOKEN}`;
            if (!presented) {
                return { status: 401, body: { error: { code: "unauthorized" } } };
            }
        }
        const match = /^\/users(?:\/(\d+))?$/.exec(pathname);
        if (!match) {
            return { status: 200, body: [] };
        }
        const id = match[1] === undefined ? undefined : Number(match[1]);
        if (method === "GET" && id === undefined) {
            return { status: 200, body: [...this.users].map(([i, email]) => ({ id: i, email })) };
        }
        if (method === "POST") {
            const email = (init?.body as { email: string }).email;
            if ([...this.users.values()].includes(email) && !this.knobs.noConflict) {
                return { status: 409, body: { error: { code: "conflict" } } };
            }
            const created = this.nextId++;
            this.users.set(created, email);
            return { status: 201, body: { id: created, email } };
        }
        if (method === "DELETE") {
            return this.users.delete(id!) ? { status: 204, body: "" } : { status: 404, body: {} };
        }
        return this.users.has(id!) ? { status: 200, body: { id } } : { status: 404, body: { error: { code: "not_found" } } };
    }

    clients(): AcceptanceClients {
        const elb = {
            send: async (command: any): Promise<any> => {
                if (command instanceof DescribeLoadBalancersCommand) {
                    return {
                        LoadBalancers: [
                            { DNSName: "other.elb.amazonaws.com", LoadBalancerArn: "arn:other" },
                            { DNSName: DNS, LoadBalancerArn: LB_ARN },
                        ],
                    };
                }
                if (command instanceof DescribeListenersCommand) {
                    assert.strictEqual(command.input.LoadBalancerArn, LB_ARN);
                    return { Listeners: [{ Protocol: "HTTP", ListenerArn: LISTENER_ARN }] };
                }
                if (command instanceof DescribeRulesCommand) {
                    assert.strictEqual(command.input.ListenerArn, LISTENER_ARN);
                    const weights = [
                        { TargetGroupArn: BLUE, Weight: this.active === BLUE ? 100 : 0 },
                        { TargetGroupArn: GREEN, Weight: this.active === GREEN ? 100 : 0 },
                    ];
                    return {
                        Rules: [
                            {
                                Priority: "49999",
                                Actions: [{ Type: "forward", ForwardConfig: { TargetGroups: weights.map((w) => ({ ...w, Weight: 100 - w.Weight })) } }],
                            },
                            { Priority: "50000", Actions: [{ Type: "forward", ForwardConfig: { TargetGroups: weights } }] },
                        ],
                    };
                }
                if (command instanceof DescribeTargetHealthCommand) {
                    const healthy = command.input.TargetGroupArn === this.active;
                    return { TargetHealthDescriptions: [{ TargetHealth: { State: healthy ? "healthy" : "unused" } }] };
                }
                throw new Error(`unexpected ELB call ${command.constructor.name}`);
            },
        };
        const tagging = {
            send: async (command: GetResourcesCommand): Promise<any> => {
                assert.deepStrictEqual(command.input.TagFilters, [
                    { Key: "project", Values: ["berth"] },
                    { Key: "stack", Values: ["acceptance-1"] },
                ]);
                this.calls.push("tagging");
                const kept = "arn:aws:ecs:eu-west-1:123456789012:task-definition/berth-acceptance-1-api:3";
                const left = this.destroyed ? [kept, ...(this.knobs.leftovers ?? [])] : ["arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1"];
                return { ResourceTagMappingList: left.map((ResourceARN) => ({ ResourceARN })), PaginationToken: "" };
            },
        };
        return {
            stack: {
                name: "acceptance-1",
                setConfig: async (key, value, secret = false) => {
                    this.calls.push(`config ${key}`);
                    this.config.set(key, { value, secret });
                },
                removeConfig: async (key) => {
                    this.calls.push(`config rm ${key}`);
                    this.config.delete(key);
                },
                up: () => this.up(),
                destroy: async () => {
                    this.calls.push("destroy");
                    if (this.knobs.destroyFails) {
                        throw new Error("error: deleting EC2 Subnet: DependencyViolation");
                    }
                    this.destroyed = true;
                },
                remove: async () => {
                    this.calls.push("stack rm");
                },
            },
            http: (method, url, init) => this.http(method, url, init),
            elb,
            tagging,
            marker: {
                write: (service, text) => this.markers.set(service, text),
                clear: () => {
                    this.calls.push("marker clear");
                    this.markers.clear();
                },
            },
            log: (line) => this.lines.push(line),
            sleep: async (ms) => {
                this.clock += ms;
            },
            now: () => this.clock,
        };
    }
}

function options(services: AcceptanceService[] = SHIPPED): AcceptanceOptions {
    return {
        region: "eu-west-1",
        project: "berth",
        services,
        credentials: { apiKey: API_KEY, token: TOKEN, jwtEnv: { AUTH_ISSUER: "berth-acceptance", AUTH_AUDIENCE: "berth-acceptance" } },
        leftoverWaitMs: 60_000,
        leftoverPollMs: 10_000,
    };
}

async function run(knobs: Knobs = {}, services?: AcceptanceService[]): Promise<{ report: AcceptanceReport; account: FakeAccount }> {
    const account = new FakeAccount(knobs, services);
    const report = await runAcceptance(account.clients(), options(services));
    return { report, account };
}

const failed = (report: AcceptanceReport) => report.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.detail}`);

describe("the acceptance run", () => {
    it("passes on an account where every step works, and says what it saw", async () => {
        const { report, account } = await run();
        assert.deepStrictEqual(failed(report), []);
        assert.strictEqual(report.ok, true);
        assert.deepStrictEqual(
            report.steps.map((s) => s.step),
            [
                "configure",
                "deploy a fresh stack",
                "probe the seed API",
                "release api",
                "a failing release of api",
                "3 blueGreen releases of api",
                "remove the release marker",
                "pulumi destroy",
                "nothing tagged with the stack is left",
                "pulumi stack rm",
            ],
        );
        const detail = (name: string) => report.steps.find((s) => s.step === name)!.detail;
        assert.match(detail("release api"), new RegExp(`^${COMMIT}-dirty \\(`));
        assert.strictEqual(detail("3 blueGreen releases of api"), "production traffic went api-tg-blue/3 → api-tg-green/4 → api-tg-blue/3 → api-tg-green/4");
        assert.match(detail("a failing release of api"), /^pulumi up failed \(error: api: deployment ecs-svc\/1 FAILED: rolled back/);
        // Four `pulumi up`s of releases plus the first deploy and the failing one.
        assert.strictEqual(account.calls.filter((c) => c === "up").length, 6);
        // The failing switch is gone again, and the marker too.
        assert.strictEqual(account.config.has("berth:secrets.api.UPSTREAM_CONNECTIONS"), false);
        assert.strictEqual(account.markers.size, 0);
        assert.deepStrictEqual(account.calls.slice(-4), ["marker clear", "destroy", "tagging", "stack rm"]);
        assert.ok(account.lines.includes("▶ pulumi destroy"), account.lines.join("\n"));
        assert.strictEqual(
            detail("nothing tagged with the stack is left"),
            "no resource tagged project=berth, stack=acceptance-1 in eu-west-1; 1 task definition revision(s) stay registered on purpose",
        );
    });

    it("deploys the test preset in the chosen region, and gives the gateway credentials only for the auth modes the catalogue uses", () => {
        const gateway = SHIPPED[0];
        assert.deepStrictEqual(acceptanceConfig(options(), gateway), [
            { key: "berth:environment", value: "test", secret: false },
            { key: "aws:region", value: "eu-west-1", secret: false },
        ]);
        const withKeys = [...SHIPPED, { name: "billing", kind: "backend" as const, gateway: false, routes: ["/billing"], auth: "apiKey" as const }];
        assert.deepStrictEqual(acceptanceConfig(options(withKeys), gateway).slice(2), [
            { key: "berth:secrets.api.AUTH_API_KEYS", value: JSON.stringify({ acceptance: API_KEY }), secret: true },
        ]);
    });

    it("fails its release in the deploy, not in Berth's config check: the failing variable and the strategy are settings Berth takes", () => {
        const { project, config } = readStackConfig("dev", ROOT);
        const gateway = catalog.find((s) => s.gateway)!;
        const withRelease = (variable: string) => ({
            ...config,
            ...Object.fromEntries(acceptanceConfig(options(), gateway).map((c) => [c.key, c.value])),
            "berth:secrets": JSON.stringify({ [gateway.name]: { [variable]: "0" } }),
            "berth:services": JSON.stringify({ [gateway.name]: { rollout: SHIFT_STRATEGY } }),
        });
        const settings = loadSettings(withRelease(FAILING_VARIABLE), { project, stack: "acceptance-1" }, catalog, ["berth:secrets"]);
        assert.deepStrictEqual(
            settings.secrets[gateway.name].map((s) => s.name),
            [FAILING_VARIABLE],
        );
        assert.strictEqual(settings.rollouts[gateway.name].strategy, SHIFT_STRATEGY);
        // A variable Berth sets itself would be refused before anything is deployed.
        assert.throws(
            () => loadSettings(withRelease("TIMEOUT_MS"), { project, stack: "acceptance-1" }, catalog, ["berth:secrets"]),
            /TIMEOUT_MS is a variable Berth sets on api itself/,
        );
    });

    it("checks an auth route: 401 without the credential, admitted with it", async () => {
        const billing: AcceptanceService = { name: "billing", kind: "backend", gateway: false, routes: ["/billing"], auth: "apiKey" };
        const { report } = await run({}, [...SHIPPED, billing]);
        assert.deepStrictEqual(failed(report), []);
        assert.match(report.steps.find((s) => s.step === "probe the seed API")!.detail, /\/billing: 401 without a credential, admitted with one/);
        const open = await run({ authOpen: true }, [...SHIPPED, billing]);
        assert.deepStrictEqual(
            failed(open.report).filter((f) => f.startsWith("probe")),
            ["probe the seed API: GET /billing without a credential answered 200 []; expected 401"],
        );
    });

    it("fails when a probe of the seed API fails, naming the request and what it expected", async () => {
        const { report, account } = await run({ noConflict: true });
        assert.strictEqual(report.ok, false);
        assert.match(failed(report)[0], /^probe the seed API: POST \/users with a taken email answered 201 .*; expected 409$/);
        assert.deepStrictEqual(account.calls.slice(-3), ["destroy", "tagging", "stack rm"]);
    });

    it("fails when a release that cannot start does not fail pulumi up", async () => {
        const { report } = await run({ failingUpSucceeds: true });
        assert.deepStrictEqual(failed(report), [
            "a failing release of api: pulumi up succeeded with UPSTREAM_CONNECTIONS=0, which stops the gateway at start; expected it to fail (the deployment check should see the rollback)",
        ]);
    });

    it("fails when the old version stops serving during a failed release", async () => {
        const { report } = await run({ failedReleaseBreaksOld: true });
        assert.match(
            failed(report)[0],
            /^a failing release of api: the old version stopped serving during the failed release: \d+ of \d+ probes failed, first: GET \/(health|users) answered 503$/,
        );
    });

    it("fails when another version than the old one answers after a failed release", async () => {
        const { report } = await run({ failedReleaseServes: "0badc0de" });
        assert.deepStrictEqual(failed(report), [
            `a failing release of api: GET /health names commit "0badc0de" after the failed release; expected "${COMMIT}-dirty" (the version serving before it)`,
        ]);
    });

    it("fails when a blue/green release leaves the production rule on the same target group", async () => {
        const { report } = await run({ noFlip: true });
        assert.deepStrictEqual(failed(report), [
            "3 blueGreen releases of api: release 1: the production rule still forwards to api-tg-blue/3; a blueGreen release moves traffic to the other target group",
        ]);
    });

    it("fails when resources tagged with the stack outlive the destroy past the bound, listing them", async () => {
        const left = "arn:aws:logs:eu-west-1:123456789012:log-group:/berth/acceptance-1/api";
        const { report, account } = await run({ leftovers: [left] });
        assert.deepStrictEqual(failed(report), [
            `nothing tagged with the stack is left: 1 resource(s) tagged project=berth, stack=acceptance-1 are left 1 min after pulumi destroy: ${left}`,
        ]);
        // It looked again until the bound, not once.
        assert.strictEqual(account.calls.filter((c) => c === "tagging").length, 7);
    });

    it("destroys the stack even when the first deploy fails, and removes it afterwards", async () => {
        const { report, account } = await run({ firstUpFails: true });
        assert.deepStrictEqual(failed(report), ["deploy a fresh stack: error: creating ECS service: AccessDeniedException"]);
        assert.deepStrictEqual(
            report.steps.map((s) => s.step),
            ["configure", "deploy a fresh stack", "remove the release marker", "pulumi destroy", "nothing tagged with the stack is left", "pulumi stack rm"],
        );
        assert.deepStrictEqual(account.calls.slice(-3), ["destroy", "tagging", "stack rm"]);
    });

    it("starts no further step once interrupted, and still cleans up", async () => {
        const account = new FakeAccount();
        const clients = account.clients();
        const report = await runAcceptance({ ...clients, interrupted: () => account.calls.includes("up") }, options());
        assert.deepStrictEqual(
            report.steps.map((s) => `${s.step}: ${s.ok ? "ok" : s.detail}`),
            [
                "configure: ok",
                "deploy a fresh stack: ok",
                "probe the seed API: not run: the run was interrupted",
                "release api: not run: the run was interrupted",
                "remove the release marker: ok",
                "pulumi destroy: ok",
                "nothing tagged with the stack is left: ok",
                "pulumi stack rm: ok",
            ],
        );
    });

    it("keeps a stack whose destroy failed, and says how to finish", async () => {
        const { report, account } = await run({ destroyFails: true });
        assert.deepStrictEqual(failed(report), ["pulumi destroy: error: deleting EC2 Subnet: DependencyViolation"]);
        assert.strictEqual(account.calls.includes("stack rm"), false);
        assert.ok(
            account.lines.some((l) => l.includes("`pulumi destroy -s acceptance-1` again")),
            account.lines.join("\n"),
        );
    });
});

describe("the production rule's target groups", () => {
    it("reads a plain forward to one group (no ForwardConfig) as that group with all the traffic", async () => {
        const elb = {
            send: async (command: any): Promise<any> => {
                if (command instanceof DescribeLoadBalancersCommand) {
                    return command.input.Marker === undefined
                        ? { LoadBalancers: [{ DNSName: "other.elb.amazonaws.com", LoadBalancerArn: "arn:other" }], NextMarker: "page-2" }
                        : { LoadBalancers: [{ DNSName: DNS, LoadBalancerArn: LB_ARN }] };
                }
                if (command instanceof DescribeListenersCommand) {
                    return {
                        Listeners: [
                            { Protocol: "HTTP", ListenerArn: "arn:http" },
                            { Protocol: "HTTPS", ListenerArn: LISTENER_ARN },
                        ],
                    };
                }
                if (command instanceof DescribeRulesCommand) {
                    assert.strictEqual(command.input.ListenerArn, LISTENER_ARN, "the HTTPS listener serves when there is one");
                    return {
                        Rules: [
                            { Priority: "50000", Actions: [{ Type: "forward", TargetGroupArn: BLUE }] },
                            { Priority: "default", Actions: [] },
                        ],
                    };
                }
                return { TargetHealthDescriptions: [{ TargetHealth: { State: "healthy" } }, { TargetHealth: { State: "draining" } }] };
            },
        };
        const forward = await productionForward(elb, `https://${DNS.toUpperCase()}/`, 50000);
        assert.deepStrictEqual(forward, [{ targetGroupArn: BLUE, weight: 1, healthy: 1 }]);
        assert.strictEqual(servingGroup(forward), BLUE);
        assert.throws(
            () =>
                servingGroup([
                    { targetGroupArn: BLUE, weight: 90, healthy: 1 },
                    { targetGroupArn: GREEN, weight: 10, healthy: 1 },
                ]),
            /^Error: the production rule splits traffic over 2 target groups \(api-tg-blue\/3: 90, api-tg-green\/4: 10\); expected all of it on one after a blueGreen release$/,
        );
        assert.throws(() => servingGroup([{ targetGroupArn: GREEN, weight: 100, healthy: 0 }]), /forwards to api-tg-green\/4, which has no healthy target/);
    });
});

describe("npm run acceptance", () => {
    it("takes a new stack name and a region, and refuses the shipped stacks", () => {
        assert.deepStrictEqual(parseAcceptanceArgs(["acc-1", "--region", "eu-west-1"], {}, ["dev", "prod"]), { stack: "acc-1", region: "eu-west-1" });
        assert.deepStrictEqual(parseAcceptanceArgs(["acc-1"], { AWS_REGION: "eu-central-1" }, ["dev", "prod"]), { stack: "acc-1", region: "eu-central-1" });
        assert.throws(() => parseAcceptanceArgs([], {}, ["dev"]), /^Error: usage: npm run acceptance -- <stack> \[--region <region>\]/);
        assert.throws(
            () => parseAcceptanceArgs(["prod"], { AWS_REGION: "eu-west-1" }, ["dev", "prod"]),
            /^Error: stack is "prod"; allowed: a new stack name .* not one with a Pulumi\.<stack>\.yaml \(dev, prod\): the run destroys its stack at the end$/,
        );
        assert.throws(() => parseAcceptanceArgs(["acc-1"], {}, ["dev"]), /region is not set; allowed: --region <region>, or AWS_REGION/);
    });

    it("names each missing prerequisite", () => {
        assert.deepStrictEqual(prerequisiteProblems({ pulumi: undefined, credentials: "Could not load credentials from any providers" }), [
            "The Pulumi CLI is missing: no `pulumi` on PATH. Install it (https://www.pulumi.com/docs/install/) and log in (`pulumi login`).",
            'No AWS credentials: Could not load credentials from any providers. Set them as for `pulumi up` (docs/deploy.md, "Deploy to AWS").',
        ]);
        assert.deepStrictEqual(prerequisiteProblems({ pulumi: "/usr/local/bin/pulumi", credentials: undefined }), []);
    });

    it("refuses to start without the Pulumi CLI, saying so, before it creates anything", async function () {
        this.timeout(60_000);
        const node = process.execPath;
        const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
            execFile(
                node,
                ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "acceptance.ts"), "acc-nocli", "--region", "eu-west-1"],
                {
                    cwd: ROOT,
                    // Only node's own directory: no pulumi.
                    env: { PATH: path.dirname(node), HOME: process.env.HOME ?? "/tmp" },
                },
                (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
            );
        });
        assert.strictEqual(result.code, 2, result.out);
        assert.match(result.out, /The Pulumi CLI is missing: no `pulumi` on PATH/);
        assert.doesNotMatch(result.out, /▶/);
    });
});
