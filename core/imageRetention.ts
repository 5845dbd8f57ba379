/** What a service's ECR repository keeps and how its images are tagged: pure, for the component, config/ and the tests. */
import { commitLabel, type SourceVersion } from "./buildContext";

/**
 * The fewest images a repository may keep: the running one, the one a rollback returns to, and the one
 * being rolled out. With fewer, ECR may expire the image a rollback needs.
 */
export const MIN_KEEP_IMAGES = 3;

/** The tag of the BuildKit layer cache each repository holds next to its images. */
export const CACHE_TAG = "buildcache";

/**
 * ECR lifecycle rules: keep the build cache, expire all but the newest `keep` images. An image a rule
 * matches is not considered by rules of lower priority, so the cache never counts against `keep`
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html).
 */
export function lifecyclePolicy(keep: number): object {
    return {
        rules: [
            {
                rulePriority: 1,
                description: "Keep the build cache",
                selection: { tagStatus: "tagged", tagPrefixList: [CACHE_TAG], countType: "imageCountMoreThan", countNumber: 1 },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Keep the newest ${keep} images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
                action: { type: "expire" },
            },
        ],
    };
}

/** The commit part of an image tag: the commit's first 12 hex digits, `-dirty` when the checkout differs. */
export function imageTag(source: Pick<SourceVersion, "commit" | "dirty">): string {
    return commitLabel({ commit: source.commit.slice(0, 12), dirty: source.dirty });
}

/** The environment variable that tells a task which commit its image is built from. */
export const COMMIT_VARIABLE = "BERTH_COMMIT";
/** The ECS tag on each task definition, service and (propagated) task saying the same. */
export const COMMIT_TAG = "berth:commit";
