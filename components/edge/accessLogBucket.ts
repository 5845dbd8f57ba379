import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";

/**
 * Regions whose load balancers write access logs as the region's Elastic Load Balancing account, the
 * regions available before August 2022; newer regions write as the service principal
 * `logdelivery.elasticloadbalancing.amazonaws.com`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html#attach-bucket-policy).
 * The accounts come from the provider's own table (`aws.elb.getServiceAccount`, from
 * terraform-provider-aws internal/service/elb/service_account_data_source.go), which knows these regions only.
 */
export const LEGACY_ELB_LOG_REGIONS: readonly string[] = [
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ca-central-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/** The key prefix the ALB writes under; ELB appends `AWSLogs/<account>/...`. */
export const ACCESS_LOG_PREFIX = "alb";

export interface AccessLogBucketArgs {
    /** The ALB's region: the bucket must be in it, and it decides who delivers the logs. */
    region: string;
    /**
     * The start of the bucket's name (see `accessLogBucketPrefix`).
     * @default `<name>-alb-logs-`
     */
    bucketPrefix?: string;
    /** Days a log object is kept before S3 expires it. */
    expirationDays: number;
    /**
     * Whether deleting the bucket deletes the logs it holds (`pulumi destroy` of a test stack).
     * @default false
     */
    forceDestroy?: boolean;
    /**
     * `pulumi destroy` refuses to delete the bucket (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
    /**
     * Deleting the stack keeps the bucket and its logs.
     * @default false
     */
    retainOnDelete?: boolean;
}

/**
 * The S3 bucket the ALB writes its access logs to (elb-logging-enabled).
 *
 * Creates: the bucket; object ownership `BucketOwnerEnforced`, which turns ACLs off (s3-bucket-acl-prohibited;
 * ELB delivers through the bucket policy, not ACLs); all four public-access blocks
 * (s3-bucket-level-public-access-prohibited); default encryption with S3-managed keys, the only
 * server-side encryption ALB access logs support ("The only server-side encryption option that's supported
 * is Amazon S3-managed keys (SSE-S3)",
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html#access-log-create-bucket);
 * a lifecycle rule expiring logs (s3-lifecycle-policy-check); and the bucket policy letting the region's ELB
 * log delivery put objects under this account's prefix and refusing requests without TLS
 * (s3-bucket-ssl-requests-only).
 */
export class AccessLogBucket extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    /** The prefix to give the ALB's `accessLogs`. */
    public readonly prefix = ACCESS_LOG_PREFIX;
    /** What the ALB waits for: ELB checks that it may write when access logging is turned on. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: AccessLogBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:logs:AccessLogBucket", name, {}, opts);
        if (!Number.isInteger(args.expirationDays) || args.expirationDays < 1) {
            throw new Error(`AccessLogBucket "${name}": "expirationDays" must be a whole number of days, got ${args.expirationDays}`);
        }
        const bucket = this.createBucket(name, args);
        const { ownership, publicAccess, encryption } = this.configureBucket(name, args, bucket);
        // After the public-access block: S3 refuses a policy while it could still judge it public.
        const policy = this.createPolicy(name, args, bucket, [publicAccess, ownership]);

        this.bucketName = bucket.bucket;
        this.ready = [policy, encryption];
        this.registerOutputs({ bucketName: this.bucketName });
    }

    private createBucket(name: string, args: AccessLogBucketArgs): aws.s3.Bucket {
        return new aws.s3.Bucket(
            childName(name, "bucket"),
            {
                bucketPrefix: (args.bucketPrefix ?? `${name}-alb-logs-`).slice(0, 37),
                forceDestroy: args.forceDestroy ?? false,
            },
            { parent: this, protect: args.protect ?? false, retainOnDelete: args.retainOnDelete ?? false },
        );
    }

    /** Owner-enforced, not public, encrypted, and its logs expiring. */
    private configureBucket(
        name: string,
        args: AccessLogBucketArgs,
        bucket: aws.s3.Bucket,
    ): {
        ownership: aws.s3.BucketOwnershipControls;
        publicAccess: aws.s3.BucketPublicAccessBlock;
        encryption: aws.s3.BucketServerSideEncryptionConfiguration;
    } {
        const parent = { parent: this };
        const ownership = new aws.s3.BucketOwnershipControls(
            childName(name, "ownership"),
            {
                bucket: bucket.id,
                rule: { objectOwnership: "BucketOwnerEnforced" },
            },
            parent,
        );
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            childName(name, "public-access"),
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            parent,
        );
        const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
            childName(name, "encryption"),
            {
                bucket: bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
            },
            parent,
        );
        new aws.s3.BucketLifecycleConfiguration(
            childName(name, "lifecycle"),
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-access-logs",
                        status: "Enabled",
                        filter: {},
                        expiration: { days: args.expirationDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            parent,
        );
        return { ownership, publicAccess, encryption };
    }

    /** ELB's log delivery may put objects under this account's prefix; requests without TLS are refused. */
    private createPolicy(name: string, args: AccessLogBucketArgs, bucket: aws.s3.Bucket, dependsOn: pulumi.Resource[]): aws.s3.BucketPolicy {
        const parent = { parent: this };
        const identity = aws.getCallerIdentityOutput({}, parent);
        const writer = LEGACY_ELB_LOG_REGIONS.includes(args.region)
            ? { AWS: aws.elb.getServiceAccountOutput({ region: args.region }, parent).arn }
            : { Service: "logdelivery.elasticloadbalancing.amazonaws.com" };
        return new aws.s3.BucketPolicy(
            childName(name, "policy"),
            {
                bucket: bucket.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "ElbWritesAccessLogs",
                            Effect: "Allow",
                            Principal: writer,
                            Action: "s3:PutObject",
                            Resource: pulumi.interpolate`${bucket.arn}/${ACCESS_LOG_PREFIX}/AWSLogs/${identity.accountId}/*`,
                        },
                        {
                            Sid: "RequestsOverTlsOnly",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:*",
                            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                }),
            },
            { parent: this, dependsOn },
        );
    }
}
