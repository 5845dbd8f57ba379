import * as pulumi from "@pulumi/pulumi";
import { credentialsFor, type CheckIdentity } from "../../core/awsIdentity";
import { DEPLOYMENT_POLL_INTERVAL, DEPLOYMENT_TIMEOUT } from "../../core/rollout";
import { waitForRollout, type EcsApi, type ElbApi } from "../../core/rolloutCheck";

export interface DeploymentCheckArgs {
    /** The region of the cluster. */
    region: pulumi.Input<string>;
    /**
     * Whom to call AWS as: the stack's credential settings, the same the AWS provider is given (profile,
     * shared files, the chain of roles to assume), so that the check reads the account the service is in.
     * @default the AWS SDK's default credential chain (environment, `AWS_PROFILE`, SSO, instance role)
     */
    identity?: CheckIdentity;
    /** The cluster's name or ARN. */
    cluster: pulumi.Input<string>;
    /** The service's name. */
    service: pulumi.Input<string>;
    /** The task definition the service was just given: its deployment must complete. */
    taskDefinitionArn: pulumi.Input<string>;
    /**
     * Changes whenever the service is updated (`serviceRevision` in fargateService.ts): each update may
     * start a deployment, which the check confirms.
     * @default "": the check re-runs for a new task definition, service or strategy only
     */
    serviceRevision?: pulumi.Input<string>;
    /**
     * A public service's production listener rule: the check fails a release after which it forwards
     * traffic to a target group without the new tasks (rolloutCheck.ts, `productionRuleProblem`).
     * @default none: a backend
     */
    productionRuleArn?: pulumi.Input<string>;
    /**
     * The service's rollout strategy (rolloutStrategy.ts): where ECS reports the deployment's state.
     * @default "rolling"
     */
    strategy?: pulumi.Input<string>;
    /**
     * Seconds to wait for the deployment to complete: the strategy's expected release and time for a
     * rollback (see `deploymentCheckTimeout` in rolloutTimeline.ts).
     * @default DEPLOYMENT_TIMEOUT
     */
    timeoutSeconds?: pulumi.Input<number>;
}

/** The inputs as the dynamic provider receives them. */
interface CheckInputs {
    region: string;
    identity: CheckIdentity;
    cluster: string;
    service: string;
    taskDefinitionArn: string;
    serviceRevision: string;
    productionRuleArn: string;
    strategy: string;
    timeoutSeconds: number;
    pollSeconds: number;
}

/**
 * Only these inputs decide whether a deployment must be confirmed again: every update of the service
 * (`serviceRevision`; each sends `forceNewDeployment`), a new task definition, a new strategy (its
 * deployment runs the new way), another service. The timeouts do not.
 */
const WATCHED: ReadonlyArray<keyof CheckInputs> = ["region", "cluster", "service", "taskDefinitionArn", "serviceRevision", "strategy"];

/**
 * The provider runs in the Pulumi CLI's Node process from a serialized copy of these functions: modules are
 * required inside them, and everything else they use comes from their inputs or from rolloutCheck.ts and
 * awsIdentity.ts, which import nothing.
 */
const provider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: CheckInputs, news: CheckInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed = WATCHED.filter((key) => olds[key] !== news[key]);
        return { changes: changed.length > 0 };
    },

    async create(inputs: CheckInputs): Promise<pulumi.dynamic.CreateResult> {
        const confirmed = await confirm(inputs, undefined);
        return { id: `${inputs.cluster}/${inputs.service}`, outs: { ...inputs, confirmedDeployment: confirmed ?? "" } };
    },

    // The deployment confirmed last time is in the old outputs: the new one must be another (WaitOptions.after).
    async update(_id: string, olds: CheckInputs & { confirmedDeployment?: string }, news: CheckInputs): Promise<pulumi.dynamic.UpdateResult> {
        const confirmed = await confirm(news, olds.service === news.service ? olds.confirmedDeployment || undefined : undefined);
        return { outs: { ...news, confirmedDeployment: confirmed ?? "" } };
    },

    // Nothing to delete: the check owns no AWS resource.
    async delete(): Promise<void> {},
};

/** Waits for the deployment, and gives its ID (see `waitForRollout`). */
async function confirm(inputs: CheckInputs, after: string | undefined): Promise<string | undefined> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@aws-sdk/client-ecs") as typeof import("@aws-sdk/client-ecs");
    const credentials = credentialsFor(inputs.identity, inputs.region);
    const client = new sdk.ECSClient({ region: inputs.region, credentials });
    const api: EcsApi = {
        describeServices: (input) => client.send(new sdk.DescribeServicesCommand(input)),
        listTasks: (input) => client.send(new sdk.ListTasksCommand(input)),
        describeTasks: (input) => client.send(new sdk.DescribeTasksCommand(input)),
        listServiceDeployments: (input) => client.send(new sdk.ListServiceDeploymentsCommand(input)),
        describeServiceDeployments: (input) => client.send(new sdk.DescribeServiceDeploymentsCommand(input)),
        describeServiceRevisions: (input) => client.send(new sdk.DescribeServiceRevisionsCommand(input)),
    };
    const elbSdk = inputs.productionRuleArn
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports
          (require("@aws-sdk/client-elastic-load-balancing-v2") as typeof import("@aws-sdk/client-elastic-load-balancing-v2"))
        : undefined;
    const elbClient = elbSdk && new elbSdk.ElasticLoadBalancingV2Client({ region: inputs.region, credentials });
    const elb: ElbApi | undefined = elbSdk &&
        elbClient && {
            describeRules: (input) => elbClient.send(new elbSdk.DescribeRulesCommand(input)),
            describeTargetHealth: (input) => elbClient.send(new elbSdk.DescribeTargetHealthCommand(input)),
        };
    try {
        return await waitForRollout(
            api,
            { ...inputs, productionRuleArn: inputs.productionRuleArn || undefined },
            {
                timeoutMs: inputs.timeoutSeconds * 1000,
                pollMs: inputs.pollSeconds * 1000,
                after,
            },
            elb,
        );
    } finally {
        client.destroy();
        elbClient?.destroy();
    }
}

/**
 * Fails `pulumi up` unless the service's deployment of `taskDefinitionArn` reached COMPLETED, the service
 * runs it and, for a public service, its production rule sends traffic only to target groups holding the new
 * tasks, naming the service, the deployment's state and why its tasks stopped (see rolloutCheck.ts for what
 * ECS reports and why the AWS provider's own wait is not enough). Calls AWS as the stack's identity.
 *
 * Runs on create and whenever the service is updated (every update may start a deployment), its task
 * definition or its strategy changes; a `pulumi up` that changes nothing about the service calls nothing.
 */
export class DeploymentCheck extends pulumi.dynamic.Resource {
    public readonly taskDefinitionArn!: pulumi.Output<string>;

    constructor(name: string, args: DeploymentCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            provider,
            name,
            {
                region: args.region,
                identity: args.identity ?? { assumeRoles: [] },
                cluster: args.cluster,
                service: args.service,
                taskDefinitionArn: args.taskDefinitionArn,
                serviceRevision: args.serviceRevision ?? "",
                productionRuleArn: args.productionRuleArn ?? "",
                strategy: args.strategy ?? "rolling",
                timeoutSeconds: args.timeoutSeconds ?? DEPLOYMENT_TIMEOUT,
                pollSeconds: DEPLOYMENT_POLL_INTERVAL,
            },
            opts,
            "berth",
            "DeploymentCheck",
        );
    }
}
