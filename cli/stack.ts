/**
 * The stack through the Pulumi Automation API: the project's directory as a LocalWorkspace, the named stack
 * or the current one (`pulumi stack select`), its outputs and its configuration. It runs the Pulumi CLI,
 * which must be installed and logged in to the stack's backend.
 */
import { CliError, type StackResolver, type StackView } from "./context";
import { NoStackError } from "./stackErrors";

export { NoStackError } from "./stackErrors";

export function automationStacks(workDir: string): StackResolver {
    return {
        async select(name) {
            // Loaded here: the Automation API is large, and `berth --help` or a local run need none of it.
            const auto = await import("@pulumi/pulumi/automation");
            let workspace: import("@pulumi/pulumi/automation").LocalWorkspace;
            try {
                workspace = await auto.LocalWorkspace.create({ workDir });
            } catch (error) {
                throw problem(error);
            }
            let stackName = name;
            if (!stackName) {
                const current = await workspace.stack().catch((error) => {
                    throw problem(error);
                });
                if (!current) {
                    throw new NoStackError("no stack selected; pass --stack <name> or run `pulumi stack select <name>`");
                }
                stackName = current.name;
            }
            const project = (await workspace.projectSettings()).name;
            let stack: import("@pulumi/pulumi/automation").Stack;
            try {
                stack = await auto.Stack.select(stackName, workspace);
            } catch (error) {
                if (error instanceof auto.StackNotFoundError) {
                    throw new NoStackError(`stack ${JSON.stringify(stackName)} not found; list them with \`pulumi stack ls\``);
                }
                throw problem(error);
            }
            return automationView(stack, project);
        },
    };
}

function automationView(stack: import("@pulumi/pulumi/automation").Stack, project: string): StackView {
    return {
        name: stack.name,
        project,
        async outputs() {
            const outputs = await stack.outputs();
            return Object.fromEntries(
                Object.entries(outputs)
                    .filter(([, v]) => !v.secret)
                    .map(([k, v]) => [k, v.value]),
            );
        },
        async config() {
            const config = await stack.getAllConfig();
            return Object.fromEntries(
                Object.entries(config)
                    .filter(([, v]) => !v.secret)
                    .map(([k, v]) => [k, v.value]),
            );
        },
    };
}

/**
 * The first line of what the Pulumi CLI said, or that it is missing: then no stack can be read, and
 * `status` and `logs` fall back to the local run as they do without a stack.
 */
function problem(error: unknown): CliError {
    const e = error as { code?: string; message?: string; stderr?: string };
    const text = `${e?.message ?? ""}`;
    if (e?.code === "ENOENT" || /ENOENT|command not found|Failed to get Pulumi CLI version/i.test(text)) {
        return new NoStackError("the Pulumi CLI is not installed or not on PATH (install it: https://www.pulumi.com/docs/install/)");
    }
    const line =
        text
            .split("\n")
            .map((l) => l.trim())
            .find((l) => /error:/i.test(l)) ?? text.split("\n")[0];
    return new CliError(`pulumi: ${line.replace(/^.*?error:\s*/i, "")}`);
}
