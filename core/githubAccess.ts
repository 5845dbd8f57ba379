/**
 * Which GitHub Actions workflows may assume the stack's deploy roles: the OIDC issuer and audience, the
 * forms of repositories, branches and environments, the `sub` claims and the trust policy. Pure, so that
 * config/ validates the settings and the tests read the policy without Pulumi.
 */

/** GitHub's OIDC issuer. https://docs.github.com/en/actions/reference/security/oidc */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience `aws-actions/configure-aws-credentials` asks GitHub for, and the one the roles accept. */
export const STS_AUDIENCE = "sts.amazonaws.com";
/**
 * How long the pipeline's credentials may last. `pulumi up` of `prod` can outlast AWS's one-hour default
 * (rolling several services one after another); credentials that expire mid-update leave it half done.
 * The workflow asks for no more than this (`role-duration-seconds`), and its jobs stop before that.
 */
export const DEPLOY_SESSION_SECONDS = 2 * 60 * 60;

/**
 * A GitHub repository as the OIDC `sub` claim spells it: `owner/name`, or `owner@<owner id>/name@<repo id>`
 * for repositories that emit immutable subject claims (created from 15 July 2026 on, or opted in):
 * https://github.com/aws-actions/configure-aws-credentials#immutable-subject-claims
 */
export const GITHUB_REPOSITORY =
    /^(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}|[A-Za-z0-9][A-Za-z0-9-]{0,38}@[0-9]+\/[A-Za-z0-9._-]{1,100}@[0-9]+)$/;
/** A branch name that can be matched exactly: Git's ref rules, without wildcards. */
export const GIT_BRANCH = /^(?!\/|.*(?:\/\/|\.\.|@\{|\/$|\.lock$|\.$))[A-Za-z0-9._\/-]{1,255}$/;
/** A GitHub environment name, restricted to characters that need no escaping in a `sub` claim. */
export const GITHUB_ENVIRONMENT = /^[A-Za-z0-9._-]{1,255}$/;
/** An existing GitHub OIDC provider in IAM. */
export const GITHUB_OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;

export interface GithubSubjects {
    /** Jobs of pushes to these branches (jobs without an `environment`). */
    branches: readonly string[];
    /** Jobs that run in these GitHub environments. */
    environments: readonly string[];
}

/**
 * The `sub` claims of the jobs a role trusts, exactly (no wildcards). A job with an `environment` carries
 * `repo:<repo>:environment:<name>` and no branch; a push job without one carries `repo:<repo>:ref:refs/heads/<branch>`:
 * https://docs.github.com/en/actions/reference/security/oidc
 */
export function githubSubjects(repository: string, subjects: GithubSubjects): string[] {
    return [
        ...subjects.branches.map((branch) => `repo:${repository}:ref:refs/heads/${branch}`),
        ...subjects.environments.map((environment) => `repo:${repository}:environment:${environment}`),
    ];
}

/**
 * A trust policy for GitHub's OIDC tokens with the given `sub` claims and AWS's audience, as GitHub and AWS
 * describe it: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
 * and https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub
 */
export function githubTrustPolicy(providerArn: string, subjects: readonly string[]): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
                        [`${GITHUB_OIDC_HOST}:sub`]: [...subjects],
                    },
                },
            },
        ],
    };
}
