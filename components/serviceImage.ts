import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import type { Platform } from "../services/catalog";
import { childName } from "./naming";

export interface ServiceImageArgs {
    /**
     * The Docker build context: the repository root, so that a service's Dockerfile can copy the
     * workspace's lock file and shared packages.
     */
    context: string;
    /** The Dockerfile, e.g. `services/users/Dockerfile` resolved against the repository root. */
    dockerfile: string;
    /**
     * The CPU architecture to build for; the task definition's runtime platform must match.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /**
     * How many images the repository keeps; older ones expire.
     * @default 10
     */
    keepImages?: number;
    /**
     * Whether deleting the stack deletes the repository even while it holds images.
     * @default false
     */
    forceDelete?: boolean;
    /** Build arguments, e.g. `BASE_IMAGE` to build from another Node image. */
    buildArgs?: Record<string, string>;
}

/**
 * A service's container image in its own ECR repository.
 *
 * Creates: the ECR repository (scan on push, AES-256 at rest), a lifecycle policy that keeps the newest
 * images, and the image built from the service's Dockerfile and pushed. `imageRef` pins the pushed
 * digest, so every change of the code rolls out and nothing depends on a moving tag.
 */
export class ServiceImage extends pulumi.ComponentResource {
    public readonly repositoryUrl: pulumi.Output<string>;
    public readonly repositoryName: pulumi.Output<string>;
    /** `<repository url>@sha256:<digest>`: what the task definition runs. */
    public readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:image:ServiceImage", name, {}, opts);
        const keepImages = args.keepImages ?? 10;
        if (!Number.isInteger(keepImages) || keepImages < 1) {
            throw new Error(`ServiceImage "${name}": "keepImages" must be a positive whole number, got ${keepImages}`);
        }

        const repository = new aws.ecr.Repository(childName(name, "repo"), {
            imageScanningConfiguration: { scanOnPush: true },
            imageTagMutability: "MUTABLE",
            encryptionConfigurations: [{ encryptionType: "AES256" }],
            forceDelete: args.forceDelete ?? false,
        }, { parent: this });

        new aws.ecr.LifecyclePolicy(childName(name, "lifecycle"), {
            repository: repository.name,
            policy: JSON.stringify(lifecyclePolicy(keepImages)),
        }, { parent: this });

        const image = this.buildAndPush(name, repository, args);

        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryName = repository.name;
        this.imageRef = pulumi.interpolate`${repository.repositoryUrl}@${image.digest}`;
        this.registerOutputs({
            repositoryUrl: this.repositoryUrl,
            repositoryName: this.repositoryName,
            imageRef: this.imageRef,
        });
    }

    private buildAndPush(name: string, repository: aws.ecr.Repository, args: ServiceImageArgs): dockerBuild.Image {
        const credentials = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
        return new dockerBuild.Image(childName(name, "image"), {
            context: { location: args.context },
            dockerfile: { location: args.dockerfile },
            platforms: [args.platform ?? "linux/amd64"],
            buildArgs: args.buildArgs,
            // The tag only gives the push a name; the task definition uses the digest.
            tags: [pulumi.interpolate`${repository.repositoryUrl}:latest`],
            push: true,
            registries: [{
                address: repository.repositoryUrl,
                username: credentials.userName,
                password: credentials.password,
            }],
        }, { parent: this });
    }
}

/** ECR lifecycle rules: expire all but the newest `keep` images. */
export function lifecyclePolicy(keep: number): object {
    return {
        rules: [{
            rulePriority: 1,
            description: `Keep the newest ${keep} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
            action: { type: "expire" },
        }],
    };
}
