/**
 * `npm run acceptance -- <stack> [--region <region>]`: deploys a new stack of the `test` preset to the
 * account of the current AWS credentials, probes it, releases it three ways, destroys it and checks that
 * nothing of it is left (docs/deploy.md, "Acceptance run on your account"). The steps and judgements are
 * `scripts/acceptanceRun.ts`; this file wires Pulumi's Automation API, fetch and the AWS SDK to them.
 */
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { DEFAULT_ROUTE_PRIORITY } from "../core/listenerRules";
import { catalog } from "../catalog";
import type { Stack } from "@pulumi/pulumi/automation";
import {
    runAcceptance,
    type AcceptanceCredentials,
    type AcceptanceReport,
    type AcceptanceService,
    type AcceptanceStack,
    type Http,
    type Marker,
} from "./acceptanceRun";
import { shippedStacks } from "./stackConfig";

const ROOT = path.resolve(__dirname, "..");
/** Pulumi's stack names: letters, digits, `-`, `_` and `.` (`pulumi stack init --help`). */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const USAGE = "usage: npm run acceptance -- <stack> [--region <region>]";
/** The file a release writes into a service's build context (`services/<name>/src`, inside every shipped context). */
const MARKER_FILE = "acceptance-marker.txt";

/** The stack and region the run uses; throws with what is wrong. */
export function parseAcceptanceArgs(argv: readonly string[], env: NodeJS.ProcessEnv, shipped: readonly string[]): { stack: string; region: string } {
    const args = [...argv];
    let region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    const at = args.indexOf("--region");
    if (at >= 0) {
        region = args[at + 1];
        args.splice(at, 2);
    }
    if (args.length !== 1 || args[0].startsWith("-")) {
        throw new Error(`${USAGE}; got ${JSON.stringify(argv.join(" "))}`);
    }
    const [stack] = args;
    if (!STACK_NAME.test(stack) || shipped.includes(stack)) {
        throw new Error(
            `stack is "${stack}"; allowed: a new stack name (letters, digits, -, _, .), not one with a ` +
                `Pulumi.<stack>.yaml (${shipped.join(", ")}): the run destroys its stack at the end`,
        );
    }
    if (!region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
        throw new Error(`region is ${region === undefined ? "not set" : `"${region}"`}; allowed: --region <region>, or AWS_REGION (e.g. eu-west-1)`);
    }
    return { stack, region };
}

/** What stops the run before it starts, one sentence each. */
export function prerequisiteProblems(found: { pulumi: string | undefined; credentials: string | undefined }): string[] {
    const problems: string[] = [];
    if (found.pulumi === undefined) {
        problems.push("The Pulumi CLI is missing: no `pulumi` on PATH. Install it (https://www.pulumi.com/docs/install/) and log in (`pulumi login`).");
    }
    if (found.credentials !== undefined) {
        problems.push(`No AWS credentials: ${found.credentials}. Set them as for \`pulumi up\` (docs/deploy.md, "Deploy to AWS").`);
    }
    return problems;
}

/** The `pulumi` executable on PATH, if any. */
function findPulumi(env: NodeJS.ProcessEnv): string | undefined {
    return (env.PATH ?? "")
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, "pulumi"))
        .find((file) => {
            try {
                fs.accessSync(file, fs.constants.X_OK);
                return true;
            } catch {
                return false;
            }
        });
}

/** Resolves the SDK's default credential chain, as the deployment check's client does; the error message or undefined. */
async function credentialProblem(region: string): Promise<string | undefined> {
    try {
        const creds = await new ResourceGroupsTaggingAPIClient({ region }).config.credentials();
        return creds.accessKeyId ? undefined : "the credential chain gave no access key";
    } catch (err) {
        return (err as Error).message;
    }
}

/** A key pair, a JWT and an API key for the throw-away stack's gateway, made up for this run only. */
async function runCredentials(): Promise<AcceptanceCredentials> {
    const issuer = "berth-acceptance";
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const token = await new SignJWT({})
        .setProtectedHeader({ alg: "ES256" })
        .setSubject("acceptance")
        .setIssuer(issuer)
        .setAudience(issuer)
        .setIssuedAt()
        .setExpirationTime("6h")
        .sign(privateKey);
    return {
        token,
        apiKey: `acc_${randomBytes(24).toString("base64url")}`,
        jwtEnv: { AUTH_ISSUER: issuer, AUTH_AUDIENCE: issuer, AUTH_JWT_PUBLIC_KEY: await exportSPKI(publicKey), AUTH_JWT_ALGORITHMS: "ES256" },
    };
}

const http: Http = async (method, url, init) => {
    const res = await fetch(url, {
        method,
        headers: { ...(init?.body === undefined ? {} : { "content-type": "application/json" }), ...init?.headers },
        body: init?.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
        body = text === "" ? "" : JSON.parse(text);
    } catch {
        // Not JSON: the text itself.
    }
    return { status: res.status, body };
};

function markers(): Marker {
    const written = new Set<string>();
    return {
        write: (service, text) => {
            const file = path.join(ROOT, "services", service, "src", MARKER_FILE);
            fs.writeFileSync(file, `${text}\n`);
            written.add(file);
        },
        clear: () => {
            for (const file of written) {
                fs.rmSync(file, { force: true });
            }
            written.clear();
        },
    };
}

/**
 * Ctrl-C reaches the Pulumi CLI too, which stops its update cleanly; the run then starts no further release and
 * destroys the stack. A second Ctrl-C leaves at once. Returns whether Ctrl-C was pressed.
 */
function onInterrupt(stackName: string): () => boolean {
    let interrupted = false;
    process.on("SIGINT", () => {
        if (interrupted) {
            console.error(
                `\nLeaving: the stack ${stackName} may hold resources. Run \`pulumi destroy -s ${stackName}\`, then \`pulumi stack rm ${stackName}\`.`,
            );
            process.exit(130);
        }
        interrupted = true;
        console.error("\nInterrupted: finishing the current Pulumi operation, then destroying the stack (Ctrl-C again to leave at once).");
    });
    return () => interrupted;
}

/** The run's view of the Pulumi stack, its CLI's output indented. */
function acceptanceStack(stack: Stack, stackName: string): AcceptanceStack {
    const print = (text: string) => process.stdout.write(text.replace(/^(?=.)/gm, "    "));
    return {
        name: stackName,
        setConfig: (key, value, secret = false) => stack.setConfig(key, { value, secret }, true),
        removeConfig: (key) => stack.removeConfig(key, true),
        up: async () => {
            const result = await stack.up({ onOutput: print });
            return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
        },
        destroy: async () => {
            await stack.destroy({ onOutput: print });
        },
        remove: () => stack.workspace.removeStack(stackName),
    };
}

function acceptanceServices(): AcceptanceService[] {
    return catalog.map((s): AcceptanceService => ({
        name: s.name,
        kind: s.kind,
        gateway: s.gateway,
        routes: s.routes,
        auth: s.auth,
        priority: s.kind === "public" ? (s.priority ?? DEFAULT_ROUTE_PRIORITY) : undefined,
    }));
}

function printReport(report: AcceptanceReport): void {
    console.log(
        report.ok
            ? "Acceptance run passed."
            : `Acceptance run FAILED:\n${report.steps
                  .filter((s) => !s.ok)
                  .map((s) => `  ${s.step}: ${s.detail}`)
                  .join("\n")}`,
    );
}

/** The stack and region from the arguments once the CLI and credentials are there; an exit code when not. */
async function checkPrerequisites(argv: string[]): Promise<{ stackName: string; region: string; pulumi: string | undefined } | number> {
    let stackName: string;
    let region: string;
    try {
        ({ stack: stackName, region } = parseAcceptanceArgs(argv, process.env, shippedStacks(ROOT)));
    } catch (err) {
        console.error((err as Error).message);
        return 2;
    }
    const pulumi = findPulumi(process.env);
    // Without the CLI nothing else matters, and the credential chain may wait on the network.
    const problems = prerequisiteProblems({ pulumi, credentials: pulumi === undefined ? undefined : await credentialProblem(region) });
    if (problems.length > 0) {
        problems.forEach((p) => console.error(p));
        return 2;
    }
    return { stackName, region, pulumi };
}

async function main(argv: string[]): Promise<number> {
    const checked = await checkPrerequisites(argv);
    if (typeof checked === "number") {
        return checked;
    }
    const { stackName, region, pulumi } = checked;
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const workspace = await LocalWorkspace.create({ workDir: ROOT });
    if ((await workspace.listStacks()).some((s) => s.name === stackName || s.name.endsWith(`/${stackName}`))) {
        console.error(`stack is "${stackName}"; allowed: a stack that does not exist yet: the run deploys a fresh stack and destroys it at the end`);
        return 2;
    }
    const project = workspace.projectSettings ? (await workspace.projectSettings()).name : "berth";
    console.log(`Acceptance run: stack ${stackName} (environment test) in ${region}, with ${pulumi}`);
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: ROOT });
    const interrupted = onInterrupt(stackName);
    const report = await runAcceptance(
        {
            stack: acceptanceStack(stack, stackName),
            http,
            elb: new ElasticLoadBalancingV2Client({ region }),
            tagging: new ResourceGroupsTaggingAPIClient({ region }),
            marker: markers(),
            log: (line) => console.log(line),
            sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
            now: () => Date.now(),
            interrupted,
        },
        { region, project, services: acceptanceServices(), credentials: await runCredentials() },
    );
    printReport(report);
    return report.ok ? 0 : 1;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (err: Error) => {
            console.error(err.stack ?? err.message);
            process.exitCode = 1;
        },
    );
}
