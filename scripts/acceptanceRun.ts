/**
 * The acceptance run's steps and judgements (`npm run acceptance -- <stack>`,
 * docs/deploy.md, "Acceptance run on your account"): a fresh stack is deployed, probed through its URL, released three ways, destroyed and checked
 * for leftovers. Everything it touches comes in as a client (the Pulumi stack, HTTP, the AWS SDK clients, the
 * marker file, the clock), so that the whole plan runs here against fakes; `scripts/acceptance.ts` wires the
 * real ones.
 */
import {
    fail,
    KEPT_ON_PURPOSE,
    productionForward,
    servingGroup,
    shortArn,
    SHIFT_STRATEGY,
    taggedResources,
    type ElbClient,
    type TaggingClient,
} from "./acceptanceAws";

export {
    KEPT_ON_PURPOSE,
    productionForward,
    servingGroup,
    SHIFT_STRATEGY,
    StepFailure,
    taggedResources,
    type ElbClient,
    type Serving,
    type TaggingClient,
} from "./acceptanceAws";
import type { ServiceKind } from "../core/serviceKind";

/** The stack under test, as the Automation API drives it. Every method rejects on failure. */
export interface AcceptanceStack {
    readonly name: string;
    /** `pulumi config set --path [--secret] <key> <value>`. */
    setConfig(key: string, value: string, secret?: boolean): Promise<void>;
    /** `pulumi config rm --path <key>`. */
    removeConfig(key: string): Promise<void>;
    /** `pulumi up`; resolves with the stack outputs' plain values. */
    up(): Promise<Record<string, unknown>>;
    destroy(): Promise<void>;
    /** `pulumi stack rm`. */
    remove(): Promise<void>;
}

export interface HttpResponse {
    status: number;
    /** Parsed JSON, or the text when the body is not JSON. */
    body: unknown;
}
/** One HTTP request; rejects only when no response came (refused, reset, timed out). */
export type Http = (method: string, url: string, init?: { headers?: Record<string, string>; body?: unknown }) => Promise<HttpResponse>;

/** A file in a service's build context whose content makes a new image (a new content hash, so a new build id). */
export interface Marker {
    write(service: string, text: string): void;
    /** Removes every marker written; the checkout is as it was. */
    clear(): void;
}

export interface AcceptanceClients {
    stack: AcceptanceStack;
    http: Http;
    elb: ElbClient;
    tagging: TaggingClient;
    marker: Marker;
    log: (line: string) => void;
    sleep: (ms: number) => Promise<void>;
    now: () => number;
    /** True once the user asked to stop (Ctrl-C): no further release step starts; the clean-up still runs. */
    interrupted?: () => boolean;
}

/** What of the catalogue the run needs: who is the gateway, which routes need which credential. */
export interface AcceptanceService {
    name: string;
    kind: ServiceKind;
    gateway: boolean;
    routes: readonly string[];
    auth: "none" | "jwt" | "apiKey";
    /** Public services: their production listener rule's priority (the default route's for the gateway). */
    priority?: number;
}

/** Credentials the run gives the throw-away stack's gateway, and presents on its auth routes. */
export interface AcceptanceCredentials {
    /** `x-api-key` value; the gateway's `AUTH_API_KEYS` holds it. */
    apiKey: string;
    /** A JWT the `jwt` settings below accept. */
    token: string;
    /** The gateway's `AUTH_*` variables for JWTs (issuer, audience, public key, algorithms). */
    jwtEnv: Record<string, string>;
}

export interface AcceptanceOptions {
    region: string;
    /** The Pulumi project: the `project` tag on every resource. */
    project: string;
    services: readonly AcceptanceService[];
    credentials: AcceptanceCredentials;
    /** Releases under the shifting strategy. @default 3 */
    shiftReleases?: number;
    /** Between two probes while a release runs. @default 5000 */
    probeIntervalMs?: number;
    /** How long tagged resources may linger after `pulumi destroy` (some are deleted eventually). @default 900000 */
    leftoverWaitMs?: number;
    /** Between two looks for leftovers. @default 30000 */
    leftoverPollMs?: number;
}

export interface StepResult {
    step: string;
    ok: boolean;
    /** What was seen: on failure, what is wrong and what was expected. */
    detail: string;
}

export interface AcceptanceReport {
    ok: boolean;
    steps: StepResult[];
}

/** The gateway variable whose bad value makes it exit at start (services/api/src/main.ts): the failing release. */
export const FAILING_VARIABLE = "UPSTREAM_CONNECTIONS";
/**
 * Runs the whole plan. Whatever fails, `pulumi destroy` runs at the end, then the leftover check, then
 * `pulumi stack rm` (only after a destroy that succeeded: removing a stack that still has resources would
 * orphan them).
 */
export async function runAcceptance(clients: AcceptanceClients, options: AcceptanceOptions): Promise<AcceptanceReport> {
    const steps: StepResult[] = [];
    const { log } = clients;
    const gateway = options.services.find((s) => s.gateway);
    const state: RunState = {};

    const step = async (name: string, body: () => Promise<string>, cleanUp = false): Promise<boolean> => {
        if (!cleanUp && clients.interrupted?.()) {
            steps.push({ step: name, ok: false, detail: "not run: the run was interrupted" });
            log(`✘ ${name}: not run, the run was interrupted`);
            return false;
        }
        log(`▶ ${name}`);
        try {
            const detail = await body();
            steps.push({ step: name, ok: true, detail });
            log(`✔ ${name}: ${detail}`);
            return true;
        } catch (err) {
            const detail = err instanceof Error ? err.message : String(err);
            steps.push({ step: name, ok: false, detail });
            log(`✘ ${name}: ${detail}`);
            return false;
        }
    };

    try {
        if (!gateway) {
            await step("plan", async () => fail('the catalogue has no gateway ("gateway: true"); the run probes the seed API through it'));
        } else if (
            (await step("configure", () => configure(clients.stack, options, gateway))) &&
            (await step("deploy a fresh stack", () => deployFresh(clients, state, gateway)))
        ) {
            await step("probe the seed API", () => probeSeedApi(clients.http, state.url!, options.services, options.credentials));
            if (await step(`release ${gateway.name}`, () => release(clients, state, gateway, options))) {
                await step(`a failing release of ${gateway.name}`, () => failingRelease(clients, state, gateway, options));
                await step(`${options.shiftReleases ?? 3} ${SHIFT_STRATEGY} releases of ${gateway.name}`, () =>
                    shiftingReleases(clients, state, gateway, options),
                );
            }
        }
    } finally {
        await step(
            "remove the release marker",
            async () => {
                clients.marker.clear();
                return "the checkout is as it was";
            },
            true,
        );
        const destroyed = await step(
            "pulumi destroy",
            async () => {
                await clients.stack.destroy();
                return "every resource of the stack is deleted";
            },
            true,
        );
        if (destroyed) {
            await step("nothing tagged with the stack is left", () => leftovers(clients, options), true);
            await step(
                "pulumi stack rm",
                async () => {
                    await clients.stack.remove();
                    return `stack ${clients.stack.name} removed`;
                },
                true,
            );
        } else {
            log(
                `  the stack ${clients.stack.name} is kept: run \`pulumi destroy -s ${clients.stack.name}\` again, then \`pulumi stack rm ${clients.stack.name}\``,
            );
        }
    }
    return { ok: steps.every((s) => s.ok), steps };
}

interface RunState {
    url?: string;
    /** The gateway's commit label serving now, as `/health` and the stack output say. */
    commit?: string;
}

/** The config keys the run sets: the `test` preset, the region, credentials for every auth mode the catalogue uses. */
export function acceptanceConfig(options: AcceptanceOptions, gateway: AcceptanceService): { key: string; value: string; secret: boolean }[] {
    const modes = new Set(options.services.map((s) => s.auth));
    const secret = (name: string, value: string) => ({ key: `berth:secrets.${gateway.name}.${name}`, value, secret: true });
    return [
        { key: "berth:environment", value: "test", secret: false },
        { key: "aws:region", value: options.region, secret: false },
        ...(modes.has("apiKey") ? [secret("AUTH_API_KEYS", JSON.stringify({ acceptance: options.credentials.apiKey }))] : []),
        ...(modes.has("jwt") ? Object.entries(options.credentials.jwtEnv).map(([k, v]) => secret(k, v)) : []),
    ];
}

async function configure(stack: AcceptanceStack, options: AcceptanceOptions, gateway: AcceptanceService): Promise<string> {
    const config = acceptanceConfig(options, gateway);
    for (const { key, value, secret } of config) {
        await stack.setConfig(key, value, secret);
    }
    return config.map((c) => (c.secret ? `${c.key} (secret)` : `${c.key}=${c.value}`)).join(", ");
}

/** The stack outputs the run reads, checked. */
function outputsOf(outputs: Record<string, unknown>, gateway: AcceptanceService): { url: string; commit: string; imageTag: string } {
    const url = outputs.url;
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
        fail(`the stack output url is ${JSON.stringify(url)}; expected http(s)://…`);
    }
    const service = (outputs.services as Record<string, { commit?: unknown; imageTag?: unknown }> | undefined)?.[gateway.name];
    if (typeof service?.commit !== "string" || typeof service.imageTag !== "string") {
        fail(`the stack output services.${gateway.name} has no commit and imageTag`);
    }
    return { url: (url as string).replace(/\/+$/, ""), commit: service!.commit as string, imageTag: service!.imageTag as string };
}

async function deployFresh(clients: AcceptanceClients, state: RunState, gateway: AcceptanceService): Promise<string> {
    const out = outputsOf(await clients.stack.up(), gateway);
    state.url = out.url;
    await expectServing(clients.http, out.url, out.commit, "after the first deploy");
    state.commit = out.commit;
    return `${out.url} answers; ${gateway.name} runs ${out.imageTag}`;
}

/** The gateway's `/health` answers 200 naming `commit`. */
async function expectServing(http: Http, url: string, commit: string, when: string, source = "the stack output"): Promise<void> {
    const res = await request(http, "GET", `${url}/health`);
    const seen = (res.body as { commit?: unknown } | undefined)?.commit;
    if (res.status !== 200) {
        fail(`GET /health answered ${res.status} ${when}; expected 200`);
    }
    if (seen !== commit) {
        fail(`GET /health names commit ${JSON.stringify(seen)} ${when}; expected ${JSON.stringify(commit)} (${source})`);
    }
}

async function request(http: Http, method: string, url: string, init?: { headers?: Record<string, string>; body?: unknown }): Promise<HttpResponse> {
    try {
        return await http(method, url, init);
    } catch (err) {
        return fail(`${method} ${url} got no answer: ${err instanceof Error ? err.message : String(err)}`);
    }
}

/** One expectation of a probe: the status, then whatever `check` says of the body (undefined when fine). */
function expectStatus(what: string, res: HttpResponse, status: number, check?: (body: unknown) => string | undefined): void {
    if (res.status !== status) {
        fail(`${what} answered ${res.status} ${JSON.stringify(res.body).slice(0, 200)}; expected ${status}`);
    }
    const problem = check?.(res.body);
    if (problem) {
        fail(`${what}: ${problem}`);
    }
}

/**
 * The seed API through the public URL: list, create, the same again (409), delete, gone (404); then every
 * route that needs a credential answers 401 without one and passes with the run's.
 */
export async function probeSeedApi(http: Http, url: string, services: readonly AcceptanceService[], credentials: AcceptanceCredentials): Promise<string> {
    const users = services.find((s) => s.routes.includes("/users"));
    if (!users) {
        fail("no service of the catalogue routes /users, the seed API the run probes");
    }
    const auth = credentialHeaders(users!.auth, credentials);
    const list = await request(http, "GET", `${url}/users`, { headers: auth });
    expectStatus("GET /users", list, 200, (b) => (Array.isArray(b) ? undefined : "the body is not a list"));
    const email = `acceptance-${Math.random().toString(36).slice(2, 10)}@example.com`;
    const body = { name: "Acceptance Run", email, role: "viewer" };
    const created = await request(http, "POST", `${url}/users`, { headers: auth, body });
    expectStatus("POST /users", created, 201, (b) => (Number.isInteger((b as { id?: unknown })?.id) ? undefined : "the created user has no id"));
    const id = (created.body as { id: number }).id;
    expectStatus("POST /users with a taken email", await request(http, "POST", `${url}/users`, { headers: auth, body }), 409);
    expectStatus(`DELETE /users/${id}`, await request(http, "DELETE", `${url}/users/${id}`, { headers: auth }), 204);
    expectStatus(`GET /users/${id} after its delete`, await request(http, "GET", `${url}/users/${id}`, { headers: auth }), 404);

    const guarded = services.filter((s) => s.auth !== "none" && s.routes.length > 0);
    for (const service of guarded) {
        const route = service.routes[0];
        expectStatus(`GET ${route} without a credential`, await request(http, "GET", `${url}${route}`), 401);
        const res = await request(http, "GET", `${url}${route}`, { headers: credentialHeaders(service.auth, credentials) });
        if (res.status === 401 || res.status === 403 || res.status >= 500) {
            fail(`GET ${route} with the run's ${service.auth === "jwt" ? "JWT" : "API key"} answered ${res.status}; expected it to pass the gateway`);
        }
    }
    const authNote =
        guarded.length === 0
            ? "no route of the catalogue requires a credential, so there is no 401 to check"
            : `${guarded.map((s) => s.routes[0]).join(", ")}: 401 without a credential, admitted with one`;
    return `list, create (201), conflict (409), delete (204), gone (404); ${authNote}`;
}

function credentialHeaders(mode: AcceptanceService["auth"], credentials: AcceptanceCredentials): Record<string, string> {
    if (mode === "apiKey") {
        return { "x-api-key": credentials.apiKey };
    }
    return mode === "jwt" ? { authorization: `Bearer ${credentials.token}` } : {};
}

/** A release that makes a new image of the gateway (a marker in its build context); the new commit must serve. */
async function release(clients: AcceptanceClients, state: RunState, gateway: AcceptanceService, options: AcceptanceOptions): Promise<string> {
    if (state.commit!.endsWith("-dirty")) {
        fail(
            `${gateway.name} was deployed from ${state.commit}: its build context has changes not committed, so a release ` +
                "cannot be told apart by its commit; run the acceptance from a clean checkout (git stash)",
        );
    }
    clients.marker.write(gateway.name, "release 1");
    const out = outputsOf(await clients.stack.up(), gateway);
    if (out.commit === state.commit) {
        fail(`the release left the stack output services.${gateway.name}.commit at ${out.commit}; expected a new one`);
    }
    await expectServing(clients.http, out.url, out.commit, "after the release");
    await probeSeedApi(clients.http, out.url, options.services, options.credentials);
    state.commit = out.commit;
    return `${out.commit} (${out.imageTag}) serves`;
}

/**
 * Probes the gateway and the seed list while `during` runs; resolves with what `during` did and every probe
 * that failed.
 */
async function probing<T>(
    clients: AcceptanceClients,
    url: string,
    intervalMs: number,
    during: () => Promise<T>,
): Promise<{ result: PromiseSettledResult<T>; failures: string[]; probes: number }> {
    const failures: string[] = [];
    let probes = 0;
    let done = false;
    const loop = (async () => {
        while (!done) {
            probes++;
            for (const path of ["/health", "/users"]) {
                try {
                    const res = await clients.http("GET", `${url}${path}`);
                    if (res.status !== 200) {
                        failures.push(`GET ${path} answered ${res.status}`);
                    }
                } catch (err) {
                    failures.push(`GET ${path} got no answer (${err instanceof Error ? err.message : String(err)})`);
                }
            }
            await clients.sleep(intervalMs);
        }
    })();
    const [result] = await Promise.allSettled([during()]);
    done = true;
    await loop;
    return { result, failures, probes };
}

/**
 * A release whose gateway exits at start (`UPSTREAM_CONNECTIONS=0`): `pulumi up` must fail (the deployment check sees
 * the circuit breaker's rollback), the old version must serve throughout and after.
 */
async function failingRelease(clients: AcceptanceClients, state: RunState, gateway: AcceptanceService, options: AcceptanceOptions): Promise<string> {
    const key = `berth:secrets.${gateway.name}.${FAILING_VARIABLE}`;
    await clients.stack.setConfig(key, "0", true);
    try {
        const { result, failures, probes } = await probing(clients, state.url!, options.probeIntervalMs ?? 5000, () => clients.stack.up());
        if (result.status === "fulfilled") {
            fail(
                `pulumi up succeeded with ${FAILING_VARIABLE}=0, which stops the gateway at start; expected it to fail (the deployment check should see the rollback)`,
            );
        }
        if (failures.length > 0) {
            fail(`the old version stopped serving during the failed release: ${failures.length} of ${probes * 2} probes failed, first: ${failures[0]}`);
        }
        await expectServing(clients.http, state.url!, state.commit!, "after the failed release", "the version serving before it");
        await probeSeedApi(clients.http, state.url!, options.services, options.credentials);
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        return `pulumi up failed (${reason.split("\n")[0].slice(0, 160)}); ${state.commit} served through ${probes * 2} probes and after`;
    } finally {
        await clients.stack.removeConfig(key);
    }
}

/**
 * Releases under blue/green: each makes a new image, must finish `pulumi up`, and leave the production rule on
 * the other target group than before, with healthy targets, and the seed API answering.
 */
async function shiftingReleases(clients: AcceptanceClients, state: RunState, gateway: AcceptanceService, options: AcceptanceOptions): Promise<string> {
    if (gateway.priority === undefined) {
        fail(`${gateway.name} has no listener rule priority; the run reads its production rule by it`);
    }
    const priority = gateway.priority!;
    await clients.stack.setConfig(`berth:services.${gateway.name}.rollout`, SHIFT_STRATEGY, false);
    let previous = servingGroup(await productionForward(clients.elb, state.url!, priority));
    const seen = [shortArn(previous)];
    for (let i = 1; i <= (options.shiftReleases ?? 3); i++) {
        if (clients.interrupted?.()) {
            fail(`interrupted before release ${i}; production traffic went ${seen.join(" → ")}`);
        }
        clients.marker.write(gateway.name, `${SHIFT_STRATEGY} release ${i}`);
        const { result, failures, probes } = await probing(clients, state.url!, options.probeIntervalMs ?? 5000, () => clients.stack.up());
        if (result.status === "rejected") {
            fail(`release ${i}: pulumi up failed: ${String(result.reason instanceof Error ? result.reason.message : result.reason).split("\n")[0]}`);
        }
        if (failures.length > 0) {
            fail(`release ${i}: ${failures.length} of ${probes * 2} probes failed while traffic shifted, first: ${failures[0]}`);
        }
        const now = servingGroup(await productionForward(clients.elb, state.url!, priority));
        if (now === previous) {
            fail(`release ${i}: the production rule still forwards to ${shortArn(now)}; a ${SHIFT_STRATEGY} release moves traffic to the other target group`);
        }
        await probeSeedApi(clients.http, state.url!, options.services, options.credentials);
        seen.push(shortArn(now));
        previous = now;
    }
    return `production traffic went ${seen.join(" → ")}`;
}

/**
 * Waits, within a bound, until no resource carries the stack's tags. The Tagging API may go on listing a
 * resource for a while after its deletion (https://repost.aws/questions/QUH0hblHnBT9iK5VpfsVRnBQ), hence the wait.
 */
async function leftovers(clients: AcceptanceClients, options: AcceptanceOptions): Promise<string> {
    const deadline = clients.now() + (options.leftoverWaitMs ?? 15 * 60_000);
    for (;;) {
        const tagged = await taggedResources(clients.tagging, options.project, clients.stack.name);
        const left = tagged.filter((arn) => !KEPT_ON_PURPOSE.test(arn));
        if (left.length === 0) {
            const kept = tagged.length === 0 ? "" : `; ${tagged.length} task definition revision(s) stay registered on purpose`;
            return `no resource tagged project=${options.project}, stack=${clients.stack.name} in ${options.region}${kept}`;
        }
        if (clients.now() >= deadline) {
            return fail(
                `${left.length} resource(s) tagged project=${options.project}, stack=${clients.stack.name} are left ` +
                    `${Math.round((options.leftoverWaitMs ?? 15 * 60_000) / 60_000)} min after pulumi destroy: ${left.join(", ")}`,
            );
        }
        clients.log(`  ${left.length} tagged resource(s) still listed; looking again`);
        await clients.sleep(options.leftoverPollMs ?? 30_000);
    }
}
