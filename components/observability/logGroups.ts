/**
 * Log groups a stack kept (`retainOnDelete`, prod) outlive `pulumi destroy` under their fixed names: the
 * stack's own (`/berth/prod/users`) and those AWS dictates (RDS's `/aws/rds/instance/<identifier>/postgresql`,
 * named after the instance's fixed identifier). A later `pulumi up` of a stack of the same name would fail to
 * create them (`ResourceAlreadyExistsException`, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
 * Instead Berth adopts each one that exists (Pulumi's `import` option): the new stack writes on into the kept
 * group, with the retention and key its settings give. A resource already in the state with that ID stays an
 * ordinary resource (pulumi/pulumi developer-docs/architecture/import.md, "`import` resource option"), and an
 * adopted group whose settings differ is updated after the import (pulumi/pulumi#19339, as
 * https://www.pulumi.com/docs/iac/concepts/resources/options/import/ describes; older CLIs refuse such an
 * import with "inputs to import do not match the existing resource").
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/** The names of the log groups that exist under any of `prefixes`, looked up once before anything is registered. */
export async function existingLogGroups(prefixes: readonly string[], provider: pulumi.ProviderResource): Promise<ReadonlySet<string>> {
    const found = await Promise.all(prefixes.map((logGroupNamePrefix) => aws.cloudwatch.getLogGroups({ logGroupNamePrefix }, { provider })));
    return new Set(found.flatMap((r) => r.logGroupNames));
}

/**
 * A transformation for the stack's components: every log group registered under a name in `existing` is
 * imported rather than created. Names that are Outputs are left alone (Berth names none that way).
 */
export function adoptLogGroups(existing: ReadonlySet<string>): pulumi.ResourceTransformation {
    return (args) => {
        const name: unknown = args.props.name;
        if (args.type !== LOG_GROUP || typeof name !== "string" || !existing.has(name)) {
            return undefined;
        }
        return { props: args.props, opts: pulumi.mergeOptions(args.opts, { import: name }) };
    };
}
