/** `berth:pipeline`: the GitHub Actions pipeline's access to AWS (components/pipeline/deployAccess.ts). */
import { z } from "zod";
import { GIT_BRANCH, GITHUB_ENVIRONMENT, GITHUB_OIDC_PROVIDER_ARN, GITHUB_REPOSITORY } from "../core/githubAccess";
import { boolean } from "./parsers";

export const PIPELINE_ALLOWED = 'an object such as {"repository": "acme/berth", "environments": ["dev"]}';

/** Who may deploy the stack from GitHub Actions, and with which OIDC provider. */
export interface PipelineSettings {
    /** `owner/name`, or `owner@<owner id>/name@<repo id>` for immutable subject claims. */
    repository: string;
    /** Branches whose push jobs (without a GitHub environment) may assume the deploy role. */
    branches: string[];
    /** GitHub environments whose jobs may assume the deploy role. */
    environments: string[];
    /** Whether pull requests get a read-only role for `pulumi preview`. */
    pullRequests: boolean;
    /** The account's existing GitHub OIDC provider; without it the stack creates one. */
    oidcProviderArn?: string;
}

const PIPELINE_FIELDS = {
    repository: {
        schema: z.string().regex(GITHUB_REPOSITORY),
        allowed: "a GitHub repository as owner/name, or owner@<owner id>/name@<repository id> when it emits immutable subject claims",
    },
    branches: { schema: z.array(z.string().regex(GIT_BRANCH)), allowed: "a list of branch names such as [main], without wildcards" },
    environments: {
        schema: z.array(z.string().regex(GITHUB_ENVIRONMENT)),
        allowed: 'a list of GitHub environment names of letters, digits, ".", "_" and "-", such as [prod]',
    },
    pullRequests: {
        schema: boolean,
        allowed: "true or false",
    },
    oidcProviderArn: {
        schema: z.string().regex(GITHUB_OIDC_PROVIDER_ARN),
        allowed: "the ARN of the account's GitHub OIDC provider, arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    },
} as const;
const PIPELINE_KEYS = Object.keys(PIPELINE_FIELDS) as (keyof typeof PIPELINE_FIELDS)[];

export function parsePipeline(key: string, text: string, problems: string[]): PipelineSettings | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = text;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${key} is ${JSON.stringify(value)}; allowed: ${PIPELINE_ALLOWED}`);
        return undefined;
    }
    const fields = value as Record<string, unknown>;
    const before = problems.length;
    const unknown = Object.keys(fields).filter((k) => !(k in PIPELINE_FIELDS));
    if (unknown.length > 0) {
        problems.push(`${key} has unknown keys ${unknown.join(", ")}; allowed: ${PIPELINE_KEYS.join(", ")}`);
    }
    const out: Partial<PipelineSettings> = {};
    for (const field of PIPELINE_KEYS) {
        if (fields[field] === undefined) {
            continue;
        }
        const result = PIPELINE_FIELDS[field].schema.safeParse(fields[field]);
        if (result.success) {
            (out as Record<string, unknown>)[field] = result.data;
        } else {
            problems.push(`${key}.${field} is ${JSON.stringify(fields[field])}; allowed: ${PIPELINE_FIELDS[field].allowed}`);
        }
    }
    if (fields.repository === undefined) {
        problems.push(`${key}.repository is not set; allowed: ${PIPELINE_FIELDS.repository.allowed}`);
    }
    const listed = [fields.branches, fields.environments].reduce<number>((n, list) => n + (Array.isArray(list) ? list.length : 0), 0);
    if (listed === 0) {
        problems.push(`${key} names no branches and no environments; allowed: at least one, or the deploy role trusts no workflow`);
    }
    if (problems.length > before) {
        return undefined;
    }
    return {
        repository: out.repository!,
        branches: out.branches ?? [],
        environments: out.environments ?? [],
        pullRequests: out.pullRequests ?? false,
        oidcProviderArn: out.oidcProviderArn,
    };
}
