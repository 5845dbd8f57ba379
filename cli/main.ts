/**
 * `berth`: the day-two command line (Copilot's `svc show`, `svc status`, `svc logs`, `svc exec`) for a
 * deployed stack, or for the local run (`npm start`) with `--local`.
 *
 * Exit codes: 0 fine, 1 something is unhealthy (`status`), 2 the question could not be answered (no stack,
 * no credentials, unknown service, bad arguments): one line on stderr, never a stack trace.
 */
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { awsErrorLine, CliError, EXIT, type Deps, type StackView } from "./context";
import { NoStackError } from "./stackErrors";

export const USAGE = `usage: berth <command> [options]

commands:
  show                         the stack's URL, services, routes, images, database, dashboard, pipeline roles
  status [service]             tasks, deployment, revision and commit, targets, alarms, events; exit 1 if unhealthy
  logs <service>               the service's logs [--since 10m] [--filter pattern] [--task id] [--follow] [--json]
  exec <service> [command...]  a shell (or the command) in a running task, through ECS Exec [--task id] [--container name]
  job run <job>                runs the job now and waits: exit 0 succeeded, 1 failed or timed out

options:
  --stack <name>   the stack (default: the current one, as \`pulumi stack select\` set it)
  --local          the local run (\`npm start\`) instead of a stack (status, logs, job run)
  --json           machine-readable output
  -h, --help       this text`;

const OPTIONS = {
    stack: { type: "string" },
    local: { type: "boolean" },
    json: { type: "boolean" },
    follow: { type: "boolean", short: "f" },
    since: { type: "string" },
    filter: { type: "string" },
    task: { type: "string" },
    container: { type: "string" },
    help: { type: "boolean", short: "h" },
} as const;

export type Options = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };

/** Runs one command; resolves to the exit code. Errors the user can act on become one line on stderr. */
export async function run(argv: string[], deps: Deps): Promise<number> {
    let command: string | undefined;
    let rest: string[];
    let options: Options;
    try {
        // `exec` passes everything after the service to the task untouched (`--` before it is optional).
        const split = execSplit(argv);
        const parsed = parseArgs({ args: argv.slice(0, split), options: OPTIONS, allowPositionals: true, strict: true });
        options = parsed.values as Options;
        [command, ...rest] = parsed.positionals;
        const passed = argv.slice(split);
        rest = [...rest, ...(passed[0] === "--" ? passed.slice(1) : passed)];
    } catch (error) {
        deps.term.err(`berth: ${(error as Error).message}`);
        deps.term.err(USAGE);
        return EXIT.error;
    }
    if (options.help || !command) {
        (options.help ? deps.term.out : deps.term.err)(USAGE);
        return options.help ? EXIT.ok : EXIT.error;
    }
    try {
        return await dispatch(command, rest, options, deps);
    } catch (error) {
        if (error instanceof CliError) {
            deps.term.err(`berth: ${error.message}`);
            return error.exitCode;
        }
        const line = awsErrorLine(error);
        if (line) {
            deps.term.err(`berth: ${line}`);
            return EXIT.error;
        }
        const e = error as Error;
        deps.term.err(`berth: ${e?.name ?? "Error"}: ${`${e?.message ?? error}`.split("\n")[0]}`);
        return EXIT.error;
    }
}

/** Where berth's own arguments end: after `exec`'s service, or at the end. */
function execSplit(argv: string[]): number {
    const positionals: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            return argv.length;
        }
        if (arg.startsWith("-")) {
            const name = arg.replace(/^--?/, "").split("=")[0];
            const option = Object.entries(OPTIONS).find(([long, o]) => long === name || ("short" in o && o.short === name))?.[1];
            if (option?.type === "string" && !arg.includes("=")) {
                i++;
            }
            continue;
        }
        positionals.push(arg);
        if (positionals.length === 2 && positionals[0] === "exec") {
            return i + 1;
        }
    }
    return argv.length;
}

async function dispatch(command: string, args: string[], options: Options, deps: Deps): Promise<number> {
    switch (command) {
        case "show": {
            const stack = await selectStack(deps, options);
            // Each command loads its modules when it runs: the catalogue and the AWS clients load the AWS provider's types.
            const [{ show }, { catalog }] = await Promise.all([import("./show"), import("../catalog")]);
            return show(deps, stack, catalog, options.json === true);
        }
        case "status": {
            const stack = await stackOrLocal(deps, options);
            if (!stack) {
                return (await import("./local")).localStatus(deps, args[0], options.json === true);
            }
            const { aws } = await stackAws(deps, stack);
            return (await import("./status")).status(deps, stack, aws, args[0], options.json === true);
        }
        case "logs": {
            const stack = await stackOrLocal(deps, options);
            if (!stack) {
                return (await import("./local")).localLogs(deps, args[0], options);
            }
            const { aws } = await stackAws(deps, stack);
            return (await import("./logs")).logs(deps, stack, aws, args[0], options);
        }
        case "exec": {
            const stack = await selectStack(deps, options);
            const { aws, region, config } = await stackAws(deps, stack);
            return (await import("./exec")).exec(deps, stack, aws, region, config["aws:profile"] ?? process.env.AWS_PROFILE, args[0], args.slice(1), options);
        }
        case "job": {
            if (args[0] !== "run") {
                throw new CliError(`unknown job command ${JSON.stringify(args[0] ?? "")}; allowed: berth job run <job>`);
            }
            if (options.local) {
                if (options.stack) {
                    throw new CliError("--local and --stack are exclusive; give one");
                }
                return (await import("./job")).localJobRun(deps, args[1], options.json === true);
            }
            const stack = await selectStack(deps, options);
            const { aws } = await stackAws(deps, stack);
            return (await import("./job")).jobRun(deps, stack, aws, args[1], options.json === true);
        }
        default:
            throw new CliError(`unknown command ${JSON.stringify(command)}; commands: show, status, logs, exec, job (berth --help)`);
    }
}

function selectStack(deps: Deps, options: Options): Promise<StackView> {
    // The Pulumi CLI reads the backend's state: seconds on a remote backend.
    deps.term.progress(`Reading ${options.stack ? `stack ${options.stack}` : "the current stack"} through Pulumi`);
    return deps.stacks.select(options.stack);
}

/** The stack, or undefined for the local run: with --local, or when there is no stack to read. */
async function stackOrLocal(deps: Deps, options: Options): Promise<StackView | undefined> {
    if (options.local) {
        if (options.stack) {
            throw new CliError("--local and --stack are exclusive; give one");
        }
        return undefined;
    }
    try {
        return await selectStack(deps, options);
    } catch (error) {
        if (error instanceof NoStackError && !options.stack) {
            deps.term.err(`berth: ${error.message}; showing the local run (npm start)`);
            return undefined;
        }
        throw error;
    }
}

/** The stack's region and clients, or a CliError when `aws:region` is missing or a setting is wrong. */
export async function stackAws(deps: Deps, stack: StackView): Promise<{ region: string; config: Record<string, string>; aws: ReturnType<Deps["aws"]> }> {
    const config = await stack.config();
    const region = config["aws:region"];
    if (!region) {
        throw new CliError(`stack ${stack.name} has no aws:region; set it with \`pulumi config set aws:region <region>\``);
    }
    try {
        return { region, config, aws: deps.aws(region, config) };
    } catch (error) {
        throw new CliError(`stack ${stack.name}: ${(error as Error).message.replace(/\n\s*/g, " ")}`);
    }
}

/** The real machine: the Automation API, the AWS SDK, this terminal. */
export function realDeps(cwd: string): Deps {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { automationStacks } = require("./stack") as typeof import("./stack");
    const controller = new AbortController();
    // Ctrl-C ends `logs --follow` cleanly; during `exec` it goes to the session, which the plugin handles, as
    // the AWS CLI ignores it while the plugin runs (awscli/customizations/ecs/executecommand.py).
    process.on("SIGINT", () => controller.abort());
    return {
        stacks: automationStacks(cwd),
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        aws: (region, config) => (require("./aws") as typeof import("./aws")).sdkApis(region, config),
        term: {
            out: (l) => process.stdout.write(`${l}\n`),
            err: (l) => process.stderr.write(`${l}\n`),
            isTTY: process.stdout.isTTY === true,
            progress: (l) => {
                if (process.stderr.isTTY) {
                    process.stderr.write(`\x1b[2m${l}...\x1b[0m\n`);
                }
            },
        },
        now: () => Date.now(),
        sleep: (ms, signal) =>
            new Promise((resolve) => {
                const timer = setTimeout(resolve, ms);
                signal?.addEventListener(
                    "abort",
                    () => {
                        clearTimeout(timer);
                        resolve();
                    },
                    { once: true },
                );
            }),
        which: (command) => {
            const found = spawnSync(process.platform === "win32" ? "where" : "which", [command], { encoding: "utf8" });
            return found.status === 0 ? found.stdout.split("\n")[0].trim() || undefined : undefined;
        },
        run: (command, args) =>
            new Promise((resolve, reject) => {
                const child = spawn(command, args, { stdio: "inherit" });
                child.on("error", reject);
                child.on("exit", (code) => resolve(code ?? EXIT.error));
            }),
        interrupted: controller.signal,
        cwd,
        localUrl: process.env.BERTH_LOCAL_URL ?? "http://127.0.0.1:8080",
        fetch,
    };
}

if (require.main === module) {
    const root = path.resolve(__dirname, "..");
    run(process.argv.slice(2), realDeps(root)).then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            console.error(`berth: ${error instanceof Error ? error.message : String(error)}`);
            process.exitCode = 2;
        },
    );
}
