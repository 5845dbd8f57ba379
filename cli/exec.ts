/**
 * `berth exec <service> [command...]` (Copilot's `svc exec`): ECS Exec into a running task of the service,
 * through the Session Manager plugin the user installs, started the way the AWS CLI starts it for
 * `aws ecs execute-command` (aws/aws-cli, awscli/customizations/ecs/executecommand.py): the ExecuteCommand
 * response's session as JSON, the region, `StartSession`, the profile, `{"Target":
 * "ecs:<cluster>_<task ID>_<container runtime ID>"}` as JSON, and the ECS endpoint.
 */
import { CliError, serviceOutput, type AwsApis, type Deps, type StackOutputs, type StackView } from "./context";

export const PLUGIN = "session-manager-plugin";
/** AWS's page on installing the plugin, per operating system. */
export const PLUGIN_INSTALL_URL = "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";
const DEFAULT_COMMAND = "/bin/sh";

export interface ExecOptions {
    task?: string;
    container?: string;
}

export async function exec(
    deps: Deps,
    stack: StackView,
    aws: AwsApis,
    region: string,
    profile: string | undefined,
    service: string | undefined,
    command: string[],
    options: ExecOptions,
): Promise<number> {
    if (!service) {
        throw new CliError("exec needs a service: berth exec <service> [command...]");
    }
    // Checked first, as the AWS CLI does, so that no session is opened that nothing could attach to.
    const plugin = deps.which(PLUGIN);
    if (!plugin) {
        throw new CliError(
            `the Session Manager plugin (${PLUGIN}) is not on PATH; berth exec needs it to open a session in the task. Install it: ${PLUGIN_INSTALL_URL}`,
        );
    }
    const outputs = (await stack.outputs()) as StackOutputs;
    const out = serviceOutput(outputs, stack.name, service);
    const cluster = outputs.clusterName;
    if (!cluster || !out.serviceName) {
        throw new CliError(`stack ${stack.name} has no clusterName or services.${service}.serviceName output; run \`pulumi up\` with this version of Berth`);
    }
    const listed = await aws.ecs.listTasks({ cluster, serviceName: out.serviceName, desiredStatus: "RUNNING" });
    const arns = (listed.taskArns ?? []).filter((arn) => !options.task || arn.split("/").pop()!.startsWith(options.task));
    if (arns.length === 0) {
        throw new CliError(`service ${service} has no running task${options.task ? ` whose ID starts with ${options.task}` : ""}; see berth status ${service}`);
    }
    const described = await aws.ecs.describeTasks({ cluster, tasks: [arns[0]] });
    const task = described.tasks?.[0];
    const containerName = options.container ?? service;
    const container = task?.containers?.find((c) => c.name === containerName);
    if (!task || !container?.runtimeId) {
        throw new CliError(`task ${arns[0].split("/").pop()} has no running container ${containerName}`);
    }
    if (task.enableExecuteCommand === false) {
        throw new CliError(`ECS Exec is off for service ${service}; turn it on with \`pulumi config set berth:ecsExec true && pulumi up\` (new tasks only)`);
    }
    const taskId = task.taskArn!.split("/").pop()!;
    const answer = await aws.ecs.executeCommand({
        cluster,
        task: task.taskArn,
        container: containerName,
        interactive: true,
        command: command.length > 0 ? command.join(" ") : DEFAULT_COMMAND,
    });
    if (!answer.session) {
        throw new CliError("ECS answered ExecuteCommand without a session");
    }
    const clusterName = (answer.clusterArn ?? cluster).split("/").pop()!;
    deps.term.err(`Starting a session in task ${taskId}, container ${containerName} (exit to end it).`);
    return deps.run(plugin, [
        JSON.stringify(answer.session),
        region,
        "StartSession",
        profile ?? "",
        JSON.stringify({ Target: `ecs:${clusterName}_${taskId}_${container.runtimeId}` }),
        await aws.ecs.endpoint(),
    ]);
}
