/**
 * What every `berth` command works with: the stack (its outputs and `aws:*` settings), AWS clients acting
 * as the stack's identity, and the terminal. Commands take these as one `Deps` value, so tests pass fakes.
 */
import type * as cw from "@aws-sdk/client-cloudwatch";
import type * as logs from "@aws-sdk/client-cloudwatch-logs";
import type * as ecs from "@aws-sdk/client-ecs";
import type * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import type * as sfn from "@aws-sdk/client-sfn";

/** A failure the user can act on: printed as one line, no stack trace. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.error,
    ) {
        super(message);
        this.name = "CliError";
    }
}

/** Exit codes: scripts tell "unhealthy" apart from "could not ask". */
export const EXIT = { ok: 0, unhealthy: 1, error: 2 } as const;

/** A stack as the Pulumi Automation API shows it. */
export interface StackView {
    name: string;
    /** The project's name (`Pulumi.yaml`): the first part of every physical name. */
    project: string;
    /** `pulumi stack output --json`, secrets left out. */
    outputs(): Promise<Record<string, unknown>>;
    /** `pulumi config --json`, plain values only (secrets are never needed here). */
    config(): Promise<Record<string, string>>;
}

export interface StackResolver {
    /** The named stack, or the current one as `pulumi` resolves it; a CliError when there is none. */
    select(name: string | undefined): Promise<StackView>;
}

/** The AWS calls the commands make, each a thin `client.send` (aws.ts), so fakes implement just these. */
export interface AwsApis {
    ecs: {
        describeServices(input: ecs.DescribeServicesCommandInput): Promise<ecs.DescribeServicesCommandOutput>;
        describeTaskDefinition(input: ecs.DescribeTaskDefinitionCommandInput): Promise<ecs.DescribeTaskDefinitionCommandOutput>;
        listTasks(input: ecs.ListTasksCommandInput): Promise<ecs.ListTasksCommandOutput>;
        describeTasks(input: ecs.DescribeTasksCommandInput): Promise<ecs.DescribeTasksCommandOutput>;
        executeCommand(input: ecs.ExecuteCommandCommandInput): Promise<ecs.ExecuteCommandCommandOutput>;
        /** The endpoint the Session Manager plugin is given, as the AWS CLI gives it. */
        endpoint(): Promise<string>;
    };
    elb: {
        describeTargetHealth(input: elb.DescribeTargetHealthCommandInput): Promise<elb.DescribeTargetHealthCommandOutput>;
    };
    cloudwatch: {
        describeAlarms(input: cw.DescribeAlarmsCommandInput): Promise<cw.DescribeAlarmsCommandOutput>;
    };
    logs: {
        filterLogEvents(input: logs.FilterLogEventsCommandInput): Promise<logs.FilterLogEventsCommandOutput>;
    };
    /** Step Functions: the jobs' state machines (`berth job run`). */
    sfn: {
        startExecution(input: sfn.StartExecutionCommandInput): Promise<sfn.StartExecutionCommandOutput>;
        describeExecution(input: sfn.DescribeExecutionCommandInput): Promise<sfn.DescribeExecutionCommandOutput>;
    };
}

export interface Terminal {
    out(line: string): void;
    err(line: string): void;
    /** Whether stdout is a terminal. */
    isTTY: boolean;
    /** What a long wait is waiting for: shown on stderr when it is a terminal, never in the output. */
    progress(line: string): void;
}

export interface Deps {
    stacks: StackResolver;
    /** Clients for the stack's region acting as its identity (`aws:profile`, `aws:assumeRoles`, ...). */
    aws(region: string, config: Readonly<Record<string, string>>): AwsApis;
    term: Terminal;
    now(): number;
    /** Resolves after `ms`, or at once when `signal` aborts. */
    sleep(ms: number, signal?: AbortSignal): Promise<void>;
    /** The full path of an executable on PATH, or undefined. */
    which(command: string): string | undefined;
    /** Runs a program attached to this terminal; resolves to its exit code. */
    run(command: string, args: string[]): Promise<number>;
    /** Aborts on Ctrl-C. */
    interrupted: AbortSignal;
    /** The project's directory (where `Pulumi.yaml` and `.berth/` are). */
    cwd: string;
    /** The local run's gateway (`npm start`): its base URL. */
    localUrl: string;
    fetch: typeof fetch;
}

/** The parts of the stack outputs the commands read (program/outputs.ts, `BerthOutputs`). */
export interface StackOutputs {
    url?: string;
    clusterName?: string;
    services?: Record<
        string,
        {
            kind?: string;
            repositoryUrl?: string;
            imageTag?: string;
            commit?: string;
            logGroupName?: string;
            serviceName?: string;
            discoveryName?: string;
        }
    >;
    pipeline?: { deployRoleArn?: string; previewRoleArn?: string; oidcProviderArn?: string };
    alarmTopicArn?: string;
    dashboardUrl?: string;
    database?: { address?: string; port?: number; name?: string; secretArn?: string; identifier?: string };
    jobs?: Record<string, { stateMachineArn?: string; schedule?: string; logGroupName?: string; commit?: string }>;
}

/** The service's entry in the outputs, or a CliError naming the services the stack has. */
export function serviceOutput(outputs: StackOutputs, stack: string, name: string): NonNullable<StackOutputs["services"]>[string] {
    const services = outputs.services ?? {};
    const found = services[name];
    if (!found) {
        const known = Object.keys(services);
        throw new CliError(
            `service ${JSON.stringify(name)} not found in stack ${stack}; services: ${known.length > 0 ? known.join(", ") : "none (has the stack been deployed?)"}`,
        );
    }
    return found;
}

/** The one line an AWS SDK error becomes. */
export function awsErrorLine(error: unknown): string | undefined {
    const e = error as { name?: string; message?: string };
    if (e?.name === "CredentialsProviderError" || e?.name === "ExpiredTokenException" || e?.name === "UnrecognizedClientException") {
        return (
            `no usable AWS credentials (${e.name}: ${firstLine(e.message)}); log in (aws sso login, AWS_PROFILE) ` +
            "or set the stack's aws:profile / aws:assumeRoles"
        );
    }
    if (e?.name === "AccessDeniedException" || e?.name === "AccessDenied") {
        return `AWS refused the call (${e.name}): ${firstLine(e.message)}`;
    }
    return undefined;
}

function firstLine(text: string | undefined): string {
    return (text ?? "").split("\n")[0];
}
