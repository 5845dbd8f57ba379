import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployPolicy, previewPolicy, splitDeployPolicy, type PolicyContext } from "../../core/deployPermissions";
import { childName } from "../../core/naming";
import { NAT_INSTANCE_AMI_PARAMETER } from "../../core/nat";
import {
    DEPLOY_SESSION_SECONDS,
    GIT_BRANCH,
    GITHUB_ENVIRONMENT,
    GITHUB_OIDC_HOST,
    GITHUB_REPOSITORY,
    githubSubjects,
    githubTrustPolicy,
    STS_AUDIENCE,
} from "../../core/githubAccess";

export interface DeployAccessArgs {
    /**
     * The GitHub repository whose workflows may deploy: `owner/name`, or `owner@<owner id>/name@<repo id>`
     * when the repository emits immutable subject claims.
     * @example "acme/berth"
     */
    repository: string;
    /**
     * Branches whose push jobs (without a GitHub environment) may deploy.
     * @default []
     */
    branches?: readonly string[];
    /**
     * GitHub environments whose jobs may deploy; protect them with required reviewers in GitHub's settings.
     * At least one branch or environment is required.
     * @default []
     */
    environments?: readonly string[];
    /**
     * Whether to create a second, read-only role for `pulumi preview` of pull requests (`sub`
     * `repo:<repo>:pull_request`).
     * @default false
     */
    pullRequests?: boolean;
    /**
     * The ARN of the account's GitHub OIDC provider when one exists already (IAM holds one per URL per
     * account); without it, one is created.
     * @default a new provider
     */
    oidcProviderArn?: pulumi.Input<string>;
    /** The stack's region: log group ARNs name it. */
    region: string;
    /** The tags the stack's provider puts on every resource; the deploy role may change only roles that carry them. */
    stackTags: Readonly<Record<string, string>>;
    /** The IAM path of every role the stack creates (`stackRolePath`): the deploy role reaches roles there only. */
    rolePath: string;
    /** The prefixes of the stack's log group names, e.g. `/berth/dev/` and `/aws/rds/instance/berth-dev-db/`. */
    logGroupPrefixes: readonly string[];
    /** The starts of the stack's S3 bucket names, e.g. `berth-dev-alb-logs-`. */
    bucketPrefixes: readonly string[];
    /** The starts of the names of the secrets the stack stores, e.g. `berth/dev/`. */
    secretPrefixes: readonly string[];
    /**
     * The database instance's identifier, when the stack has one: the deploy role manages the master secret RDS
     * keeps for that instance, and no other.
     * @default no database
     */
    databaseIdentifier?: string;
    /** The permissions boundary every role of the stack carries (`RoleBoundary`): the deploy role creates and changes roles only with it. */
    boundaryArn: pulumi.Input<string>;
    /**
     * Refuse the OIDC provider's deletion (`protect`); the stack's destroy guard covers the rest.
     * @default false
     */
    protect?: boolean;
}

/**
 * Lets GitHub Actions deploy this stack without long-lived AWS keys.
 *
 * Creates: GitHub's OIDC identity provider (unless `oidcProviderArn` names an existing one; IAM holds one per
 * URL per account, so other stacks use it too and a destroy leaves it in place), a deploy role that only the
 * given repository's branches or environments can assume, with the policies built from `deployPermissions.ts`
 * (an inline one, and a managed one for the service writes) and denies on the pipeline's own roles and
 * policies, and with `pullRequests` a preview role that reads what `pulumi preview` reads.
 *
 * A human creates it with `pulumi up` (the pipeline cannot create the role it needs to run); after that,
 * any change to these resources is again a human's `pulumi up`: the deploy role may not change them.
 */
export class DeployAccess extends pulumi.ComponentResource {
    /** The role the deploy jobs assume (`role-to-assume`). */
    public readonly deployRoleArn: pulumi.Output<string>;
    /** The role pull-request previews assume, when `pullRequests` is on. */
    public readonly previewRoleArn?: pulumi.Output<string>;
    public readonly oidcProviderArn: pulumi.Output<string>;

    constructor(name: string, args: DeployAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:pipeline:DeployAccess", name, {}, opts);
        const branches = args.branches ?? [];
        const environments = args.environments ?? [];
        const pullRequests = args.pullRequests ?? false;
        validate(name, args.repository, branches, environments);

        const providerArn = args.oidcProviderArn === undefined ? this.createProvider(name, args.protect ?? false).arn : pulumi.output(args.oidcProviderArn);
        const deployRole = this.createRole(
            name,
            "deploy",
            providerArn,
            githubSubjects(args.repository, { branches, environments }),
            `Deploys Berth's stack from GitHub ${args.repository}; created and changed by a human's pulumi up only`,
        );
        const previewRole = pullRequests
            ? this.createRole(
                  name,
                  "preview",
                  providerArn,
                  [`repo:${args.repository}:pull_request`],
                  `Reads what pulumi preview needs for pull requests of GitHub ${args.repository}`,
              )
            : undefined;

        this.createDeployPolicies(name, args, deployRole, previewRole);
        if (previewRole) {
            this.createPreviewPolicy(name, args, previewRole);
        }

        this.deployRoleArn = deployRole.arn;
        this.previewRoleArn = previewRole?.arn;
        this.oidcProviderArn = providerArn;
        this.registerOutputs({
            deployRoleArn: this.deployRoleArn,
            previewRoleArn: this.previewRoleArn,
            oidcProviderArn: this.oidcProviderArn,
        });
    }

    /**
     * The deploy role's policies: the service writes in a managed policy, the rest inline with the denies on
     * the pipeline's own roles and policies.
     */
    private createDeployPolicies(name: string, args: DeployAccessArgs, deployRole: aws.iam.Role, previewRole: aws.iam.Role | undefined): void {
        const protectedRoleArns = pulumi
            .all([deployRole.arn, previewRole?.arn ?? pulumi.output(undefined)])
            .apply(([deploy, preview]) => (preview === undefined ? [deploy] : [deploy, preview]));
        // The service writes hold no ARN of the pipeline's own, so the managed policy needs none.
        const services = new aws.iam.Policy(
            childName(name, "deploy-services"),
            {
                path: args.rolePath,
                description: "What Berth's deploy role may do to the stack's resources; changed by a human's pulumi up only",
                policy: pulumi
                    .all([deployRole.arn, args.boundaryArn])
                    .apply(([arn, boundary]) => JSON.stringify(splitDeployPolicy(deployPolicy(policyContext(args, arn, boundary, [], []))).managed)),
            },
            { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
            childName(name, "deploy-services"),
            {
                role: deployRole.name,
                policyArn: services.arn,
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            childName(name, "deploy-policy"),
            {
                role: deployRole.id,
                policy: pulumi
                    .all([deployRole.arn, args.boundaryArn, protectedRoleArns, services.arn])
                    .apply(([arn, boundary, roles, servicesArn]) =>
                        JSON.stringify(splitDeployPolicy(deployPolicy(policyContext(args, arn, boundary, roles, [boundary, servicesArn]))).inline),
                    ),
            },
            { parent: this },
        );
    }

    private createPreviewPolicy(name: string, args: DeployAccessArgs, previewRole: aws.iam.Role): void {
        new aws.iam.RolePolicy(
            childName(name, "preview-policy"),
            {
                role: previewRole.id,
                policy: previewRole.arn.apply((arn) =>
                    JSON.stringify(
                        previewPolicy({
                            ...arnParts(arn),
                            region: args.region,
                            stackTags: args.stackTags,
                            publicParameters: [NAT_INSTANCE_AMI_PARAMETER],
                        }),
                    ),
                ),
            },
            { parent: this },
        );
    }

    private createProvider(name: string, protect: boolean): aws.iam.OpenIdConnectProvider {
        // AWS trusts GitHub's certificate through its own CA library; thumbprints are no longer needed:
        // https://github.com/aws-actions/configure-aws-credentials#configuring-iam-to-trust-github
        // IAM holds one provider per URL in an account (CreateOpenIDConnectProvider fails with EntityAlreadyExists:
        // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html), so other
        // stacks trust the same one: a destroy of this stack leaves it in place (`retainOnDelete`).
        return new aws.iam.OpenIdConnectProvider(
            childName(name, "github"),
            {
                url: `https://${GITHUB_OIDC_HOST}`,
                clientIdLists: [STS_AUDIENCE],
            },
            { parent: this, protect, retainOnDelete: true },
        );
    }

    private createRole(name: string, role: string, providerArn: pulumi.Output<string>, subjects: string[], description: string): aws.iam.Role {
        return new aws.iam.Role(
            childName(name, role),
            {
                description,
                maxSessionDuration: DEPLOY_SESSION_SECONDS,
                assumeRolePolicy: providerArn.apply((arn) => JSON.stringify(githubTrustPolicy(arn, subjects))),
            },
            { parent: this },
        );
    }
}

/** What the deploy policy is derived from, for the deploy role `arn`. */
function policyContext(args: DeployAccessArgs, arn: string, boundaryArn: string, protectedRoles: string[], protectedPolicies: string[]): PolicyContext {
    const { partition, account } = arnParts(arn);
    return {
        partition,
        account,
        region: args.region,
        stackTags: args.stackTags,
        logGroupPrefixes: args.logGroupPrefixes,
        bucketPrefixes: args.bucketPrefixes,
        secretPrefixes: args.secretPrefixes,
        databaseArn: args.databaseIdentifier === undefined ? undefined : `arn:${partition}:rds:${args.region}:${account}:db:${args.databaseIdentifier}`,
        protectedRoleArns: protectedRoles,
        protectedPolicyArns: protectedPolicies,
        rolePath: args.rolePath,
        boundaryArn,
        publicParameters: [NAT_INSTANCE_AMI_PARAMETER],
    };
}

/** The partition and account of an ARN (`arn:<partition>:<service>:<region>:<account>:...`). */
function arnParts(arn: string): { partition: string; account: string } {
    const [, partition, , , account] = arn.split(":");
    return { partition, account };
}

function validate(name: string, repository: string, branches: readonly string[], environments: readonly string[]): void {
    const where = `DeployAccess "${name}"`;
    if (!GITHUB_REPOSITORY.test(repository)) {
        throw new Error(`${where}: "repository" must be owner/name, got ${JSON.stringify(repository)}`);
    }
    if (branches.length === 0 && environments.length === 0) {
        throw new Error(`${where}: give "branches" or "environments", or the deploy role trusts no workflow`);
    }
    for (const branch of branches) {
        if (!GIT_BRANCH.test(branch)) {
            throw new Error(`${where}: "branches" holds ${JSON.stringify(branch)}, which is not a branch name`);
        }
    }
    for (const environment of environments) {
        if (!GITHUB_ENVIRONMENT.test(environment)) {
            throw new Error(`${where}: "environments" holds ${JSON.stringify(environment)}; use letters, digits, ".", "_" and "-"`);
        }
    }
}
