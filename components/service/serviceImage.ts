import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as path from "path";
import { commitLabel, type SourceVersion } from "../../core/buildContext";
import { childName } from "../../core/naming";
import type { Platform } from "../../core/platform";
import { CACHE_TAG, COMMIT_TAG, COMMIT_VARIABLE, imageTag, lifecyclePolicy, MIN_KEEP_IMAGES } from "../../core/imageRetention";

export interface ServiceImageArgs {
    /**
     * The Docker build context, relative to the project (Pulumi runs the program there), e.g. `.`. Relative
     * on purpose: the image provider compares the path itself, so an absolute path would rebuild every image
     * in a checkout at another place.
     */
    context: string;
    /**
     * The Dockerfile, relative to the project, e.g. `services/users/Dockerfile`. A `<Dockerfile>.dockerignore`
     * next to it is the service's own ignore list: the build context and its hash hold only what it lets in.
     */
    dockerfile: string;
    /**
     * The CPU architecture to build for; the task definition's runtime platform must match.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /**
     * How many images the repository keeps; older ones expire. At least `MIN_KEEP_IMAGES`.
     * @default 10
     */
    keepImages?: number;
    /**
     * Whether deleting the repository deletes the images it still holds.
     * @default false
     */
    forceDelete?: boolean;
    /**
     * Build during `pulumi preview` too. Off, a preview validates the Dockerfile only, and a build happens
     * once, in `pulumi up`.
     * @default false
     */
    buildOnPreview?: boolean;
    /**
     * `pulumi destroy` refuses to delete the repository (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
    /**
     * Deleting the stack keeps the repository and its images (Pulumi's `retainOnDelete`).
     * @default false
     */
    retainOnDelete?: boolean;
    /** Build arguments, e.g. `BASE_IMAGE` to build from another Node image. */
    buildArgs?: Record<string, string>;
    /** The commit and content the image is built from (`sourceVersion()`): its tag names them. */
    source: SourceVersion;
}

/**
 * A service's container image in its own ECR repository.
 *
 * Creates: the ECR repository (scan on push, AES-256 at rest, immutable tags but the build cache's), a
 * lifecycle policy that keeps the newest images and the build cache, and the image built from the service's
 * Dockerfile with BuildKit, pushed under a tag of its own, its layers cached in the repository
 * (`cacheFrom`/`cacheTo`, so another machine or CI reuses them). `imageRef` pins the pushed digest, so every
 * change of the code rolls out and nothing depends on a moving tag.
 *
 * Tags are immutable (ecr-private-tag-immutability-enabled), and ECR refuses to push a tag that exists even
 * when the image is identical (aws/containers-roadmap#2179, moby/buildkit#3776). The image provider pushes on
 * every change of any of its inputs, so the tag is `<commit>[-dirty]-<build id>`: the build id is random and
 * drawn anew whenever anything that makes the provider build changes (`random.RandomId` keepers: the
 * content hash, the commit, the Dockerfile, platform, build arguments). Redeploying an older commit makes a
 * new tag rather than reusing the one it had.
 */
export class ServiceImage extends pulumi.ComponentResource {
    public readonly repositoryUrl: pulumi.Output<string>;
    public readonly repositoryName: pulumi.Output<string>;
    /** `<repository url>@sha256:<digest>`: what the task definition runs. */
    public readonly imageRef: pulumi.Output<string>;
    /** The tag pushed with this build, e.g. `3f2c1a9d04be-1a2b3c4d`. */
    public readonly tag: pulumi.Output<string>;
    /** `<commit>` or `<commit>-dirty`: the commit the image is built from. */
    public readonly commit: string;

    constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:image:ServiceImage", name, {}, opts);
        const keepImages = args.keepImages ?? 10;
        if (!Number.isInteger(keepImages) || keepImages < MIN_KEEP_IMAGES) {
            throw new Error(
                `ServiceImage "${name}": "keepImages" must be a whole number of at least ${MIN_KEEP_IMAGES} (a rollback needs the previous image), got ${keepImages}`,
            );
        }
        for (const key of ["context", "dockerfile"] as const) {
            if (path.isAbsolute(args[key])) {
                throw new Error(`ServiceImage "${name}": "${key}" must be relative to the project, got ${JSON.stringify(args[key])}`);
            }
        }

        const repository = new aws.ecr.Repository(
            childName(name, "repo"),
            {
                imageScanningConfiguration: { scanOnPush: true },
                // Every tag is immutable but the build cache's, which moves with every build
                // (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html).
                imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
                imageTagMutabilityExclusionFilters: [{ filter: `${CACHE_TAG}*`, filterType: "WILDCARD" }],
                encryptionConfigurations: [{ encryptionType: "AES256" }],
                forceDelete: args.forceDelete ?? false,
            },
            { parent: this, protect: args.protect ?? false, retainOnDelete: args.retainOnDelete ?? false },
        );

        new aws.ecr.LifecyclePolicy(
            childName(name, "lifecycle"),
            {
                repository: repository.name,
                policy: JSON.stringify(lifecyclePolicy(keepImages)),
            },
            { parent: this },
        );

        const buildId = new random.RandomId(
            childName(name, "build-id"),
            {
                byteLength: 4,
                keepers: {
                    commit: commitLabel(args.source),
                    contentHash: args.source.contentHash,
                    context: args.context,
                    dockerfile: args.dockerfile,
                    platform: args.platform ?? "linux/amd64",
                    buildArgs: JSON.stringify(args.buildArgs ?? {}),
                    buildOnPreview: String(args.buildOnPreview ?? false),
                },
            },
            { parent: this },
        );
        this.commit = commitLabel(args.source);
        this.tag = pulumi.interpolate`${imageTag(args.source)}-${buildId.hex}`;
        const image = this.buildAndPush(name, repository, args, this.tag);

        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryName = repository.name;
        this.imageRef = pulumi.interpolate`${repository.repositoryUrl}@${image.digest}`;
        this.registerOutputs({
            repositoryUrl: this.repositoryUrl,
            repositoryName: this.repositoryName,
            imageRef: this.imageRef,
            tag: this.tag,
        });
    }

    /**
     * The arguments of what runs this image, as every component that owns an image gives them: the image pinned
     * to its digest, and the commit it is built from in the task's environment (`COMMIT_VARIABLE`) and tags
     * (`COMMIT_TAG`), which `berth status` and the stack outputs report.
     */
    public runArgs<T extends { environment?: Record<string, pulumi.Input<string>>; tags?: Record<string, pulumi.Input<string>> }>(
        run: T,
    ): T & { image: pulumi.Output<string>; environment: Record<string, pulumi.Input<string>>; tags: Record<string, pulumi.Input<string>> } {
        return {
            ...run,
            image: this.imageRef,
            environment: { ...run.environment, [COMMIT_VARIABLE]: this.commit },
            tags: { ...run.tags, [COMMIT_TAG]: this.commit },
        };
    }

    private buildAndPush(name: string, repository: aws.ecr.Repository, args: ServiceImageArgs, tag: pulumi.Output<string>): dockerBuild.Image {
        const credentials = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
        const cacheRef = pulumi.interpolate`${repository.repositoryUrl}:${CACHE_TAG}`;
        return new dockerBuild.Image(
            childName(name, "image"),
            {
                context: { location: args.context },
                dockerfile: { location: args.dockerfile },
                platforms: [args.platform ?? "linux/amd64"],
                buildArgs: args.buildArgs,
                // The provider's default is true: every preview would build every image.
                buildOnPreview: args.buildOnPreview ?? false,
                // ECR takes a registry cache only as an OCI image manifest
                // (https://aws.amazon.com/blogs/containers/announcing-remote-cache-support-in-amazon-ecr-for-buildkit-clients/).
                cacheFrom: [{ registry: { ref: cacheRef } }],
                cacheTo: [{ registry: { ref: cacheRef, imageManifest: true, ociMediaTypes: true, mode: dockerBuild.CacheMode.Max } }],
                // The tag says which commit the image holds; the task definition uses the digest.
                tags: [pulumi.interpolate`${repository.repositoryUrl}:${tag}`],
                push: true,
                registries: [
                    {
                        address: repository.repositoryUrl,
                        username: credentials.userName,
                        password: credentials.password,
                    },
                ],
            },
            { parent: this },
        );
    }
}
