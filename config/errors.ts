import * as pulumi from "@pulumi/pulumi";

/** A wrong stack configuration. Pulumi prints a RunError's message without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}
