/**
 * What `pulumi up` of Berth needs from AWS: the one place that maps each Pulumi resource type (and invoke)
 * the program uses to the IAM actions its provider calls, and the policies built from that map for the
 * pipeline's deploy and preview roles (see `deployAccess.ts`).
 *
 * A test runs the whole program for every shipped stack and fails when a registered type or an invoke is
 * missing here, or when an entry here is no longer used: a new resource type gets its row in the same change.
 *
 * Where the actions come from:
 * - each type's create/read/update/delete calls in the Terraform AWS provider that `@pulumi/aws` wraps
 *   (https://github.com/hashicorp/terraform-provider-aws/tree/main/internal/service), cross-checked with a
 *   least-privilege deployer for the same stack of services (ECS on Fargate, ALB, Service Connect):
 *   https://github.com/bloom-housing/bloom/blob/main/infra/tofu_importable_modules/bloom_deployer_permission_set_policy/main.tf
 * - names and condition keys: the Service Authorization Reference,
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * - tagging on create: the default tags reach AWS inside the create call, which AWS authorizes with the
 *   service's tagging action too (ec2:CreateTags, elasticloadbalancing:AddTags, ecs:TagResource, iam:TagRole, ...),
 *   e.g. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
 * Reads are granted broadly (`ec2:Describe*`): the providers' waiters read more than their create calls; but
 * SSM parameters only by name (`PARAMETER_READS`), and secret values of the stack's own secrets only.
 */
import { TRAFFIC_SHIFT_POLICY } from "./rolloutStrategy";

/** Which resources a write may touch. */
export type Scope =
    /**
     * Any resource of the service: AWS offers no narrower scope for these calls
     * (docs/pipeline.md, "The deploy role, and why the stack creates it", says why for each).
     */
    | "any"
    /**
     * Existing resources that carry the stack's tags (`aws:ResourceTag/project` and `/stack`, the provider's
     * default tags): every resource these calls authorize is one the stack created.
     */
    | "stackTagged"
    /** Creating a resource with the stack's tags in the request (`aws:RequestTag/...`). */
    | "newTagged"
    /**
     * Tagging: on resources that carry the stack's tags, and, for the tag-on-create of a new resource, with the
     * stack's tags in the request on a resource that carries no `stack` tag yet, so that no resource of
     * another stack can be tagged into this one.
     */
    | "tagging"
    /**
     * KMS alias operations, which KMS authorizes on the alias and on the key
     * (https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html): any alias (an alias carries no
     * tags), but only a key that carries the stack's tags.
     */
    | "keyAliases"
    /** IAM roles under the stack's path that carry this stack's tags. */
    | "stackRoles"
    /**
     * Writes to the stack's roles that IAM lets a policy tie to the role's permissions boundary
     * (`iam:PermissionsBoundary`): allowed only while the role carries the stack's boundary.
     */
    | "boundedStackRoles"
    /**
     * Creating IAM roles under the stack's path (`stackRolePath`), only with this stack's tags in the request
     * and the stack's permissions boundary: `iam:CreateRole`, and `iam:TagRole` for the tags it creates them with.
     */
    | "newStackRoles"
    /** CloudWatch Logs groups under the stack's prefix (`/<project>/<stack>/`). */
    | "stackLogGroups"
    /** The stack's S3 buckets and their objects, by the start of their names. */
    | "stackBuckets"
    /** The stack's own Secrets Manager secrets, by the start of their names. */
    | "stackSecrets"
    /**
     * The master secret RDS manages for the stack's database instance, by the tag RDS puts on it
     * (`aws:rds:primaryDBInstanceArn`): created with it in the request, changed when the secret carries it.
     */
    | "databaseSecret";

export interface TypePermissions {
    /** Actions that only read: enough for `pulumi preview` and the waits between writes. */
    read: readonly string[];
    /** Actions that create, change or delete, by the resources they may touch. */
    write: Readonly<Partial<Record<Scope, readonly string[]>>>;
    /** Services this type hands the stack's roles to (`iam:PassRole`, limited by `iam:PassedToService`). */
    passesRolesTo?: readonly string[];
    /** AWS managed policies this type attaches to the stack's roles, as the ARN's part after `iam::aws:`. */
    attachesPolicies?: readonly string[];
    /**
     * Services whose service-linked role AWS creates along with the first such resource in an account; the
     * caller needs `iam:CreateServiceLinkedRole` for it.
     */
    serviceLinkedRoles?: readonly string[];
}

const EC2_READ = ["ec2:Describe*"];
const EC2_TAGS = ["ec2:CreateTags", "ec2:DeleteTags"];
const ELB_READ = ["elasticloadbalancing:Describe*"];
const ELB_TAGS = ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"];
const ECS_READ = ["ecs:Describe*", "ecs:List*"];
const ECS_TAGS = ["ecs:TagResource", "ecs:UntagResource"];
// Every s3:GetBucket* action reads a bucket's configuration, never an object; the wildcards keep the deploy
// role's policy within IAM's size limit (see the RDS reads too).
const S3_READ = [
    "s3:GetBucket*",
    "s3:GetAccelerateConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    // forceDestroy lists every object version before it deletes them.
    "s3:ListBucketVersions",
];
// RDS's Describe* calls all read metadata (instances, groups, parameters, event subscriptions, log file names).
const RDS_READ = ["rds:Describe*", "rds:ListTagsForResource"];
const RDS_TAGS = ["rds:AddTagsToResource", "rds:RemoveTagsFromResource"];

type Writes = Partial<Record<Scope, readonly string[]>>;
const ec2 = (write: Writes): TypePermissions => ({ read: EC2_READ, write: { ...write, tagging: EC2_TAGS } });
const elb = (write: Writes): TypePermissions => ({ read: ELB_READ, write: { ...write, tagging: ELB_TAGS } });

/**
 * Per Pulumi resource type: what its provider calls.
 *
 * Scopes, from each action's resource types and condition keys in the Service Authorization Reference (above):
 * a change or delete is `stackTagged` when every resource it authorizes is one the stack created (all carry
 * the provider's default tags); a create is `newTagged` when it makes one resource whose tags travel in the
 * request. A call that also authorizes a resource the stack did not tag (a VPC for a new subnet, AWS's AMI for
 * an instance, a new security-group rule) stays `any`.
 */
export const RESOURCE_PERMISSIONS: Readonly<Record<string, TypePermissions>> = {
    "aws:ec2/vpc:Vpc": ec2({ newTagged: ["ec2:CreateVpc"], stackTagged: ["ec2:ModifyVpcAttribute", "ec2:DeleteVpc"] }),
    "aws:ec2/subnet:Subnet": ec2({ any: ["ec2:CreateSubnet"], stackTagged: ["ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"] }),
    "aws:ec2/internetGateway:InternetGateway": ec2({
        newTagged: ["ec2:CreateInternetGateway"],
        stackTagged: ["ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"],
    }),
    "aws:ec2/eip:Eip": ec2({ newTagged: ["ec2:AllocateAddress"], stackTagged: ["ec2:DisassociateAddress", "ec2:ReleaseAddress"] }),
    "aws:ec2/natGateway:NatGateway": ec2({ any: ["ec2:CreateNatGateway"], stackTagged: ["ec2:DeleteNatGateway"] }),
    "aws:ec2/routeTable:RouteTable": ec2({ any: ["ec2:CreateRouteTable"], stackTagged: ["ec2:DeleteRouteTable"] }),
    "aws:ec2/route:Route": ec2({ stackTagged: ["ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"] }),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ec2({
        stackTagged: ["ec2:AssociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DisassociateRouteTable"],
    }),
    // The provider revokes the allow-all egress rule AWS adds to every new group.
    "aws:ec2/securityGroup:SecurityGroup": ec2({
        any: ["ec2:CreateSecurityGroup"],
        stackTagged: ["ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"],
    }),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ec2({
        any: ["ec2:AuthorizeSecurityGroupIngress"],
        stackTagged: ["ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupIngress"],
    }),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ec2({
        any: ["ec2:AuthorizeSecurityGroupEgress"],
        stackTagged: ["ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupEgress"],
    }),

    // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    "aws:lb/loadBalancer:LoadBalancer": {
        ...elb({
            newTagged: ["elasticloadbalancing:CreateLoadBalancer"],
            stackTagged: [
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:DeleteLoadBalancer",
            ],
        }),
        serviceLinkedRoles: ["elasticloadbalancing.amazonaws.com"],
    },
    "aws:lb/listener:Listener": elb({
        any: ["elasticloadbalancing:CreateListener"],
        stackTagged: ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:DeleteListener"],
    }),
    "aws:lb/listenerRule:ListenerRule": elb({
        any: ["elasticloadbalancing:CreateRule"],
        stackTagged: ["elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:DeleteRule"],
    }),
    "aws:lb/targetGroup:TargetGroup": elb({
        newTagged: ["elasticloadbalancing:CreateTargetGroup"],
        stackTagged: ["elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup"],
    }),

    "aws:servicediscovery/httpNamespace:HttpNamespace": {
        read: ["servicediscovery:GetNamespace", "servicediscovery:GetOperation", "servicediscovery:ListNamespaces", "servicediscovery:ListTagsForResource"],
        write: {
            any: [
                "servicediscovery:CreateHttpNamespace",
                "servicediscovery:UpdateHttpNamespace",
                "servicediscovery:DeleteNamespace",
                "servicediscovery:TagResource",
                "servicediscovery:UntagResource",
            ],
        },
    },
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
    "aws:ecs/cluster:Cluster": {
        read: ECS_READ,
        write: { newTagged: ["ecs:CreateCluster"], stackTagged: ["ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:DeleteCluster"], tagging: ECS_TAGS },
        serviceLinkedRoles: ["ecs.amazonaws.com"],
    },
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
        read: ECS_READ,
        write: { stackTagged: ["ecs:PutClusterCapacityProviders"] },
    },
    "aws:ecs/taskDefinition:TaskDefinition": {
        read: ECS_READ,
        // DeregisterTaskDefinition takes no resource ("*" only).
        write: { newTagged: ["ecs:RegisterTaskDefinition"], any: ["ecs:DeregisterTaskDefinition"], tagging: ECS_TAGS },
        passesRolesTo: ["ecs-tasks.amazonaws.com"],
    },
    // Service Connect's Cloud Map services are made by ECS's service-linked role, not by the caller. A service
    // whose deployments shift traffic hands ECS the infrastructure role it moves traffic with (albRoute.ts):
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
    "aws:ecs/service:Service": {
        read: ECS_READ,
        write: { newTagged: ["ecs:CreateService"], stackTagged: ["ecs:UpdateService", "ecs:DeleteService"], tagging: ECS_TAGS },
        serviceLinkedRoles: ["ecs.amazonaws.com"],
        passesRolesTo: ["ecs.amazonaws.com"],
    },

    "aws:ec2/vpcEndpoint:VpcEndpoint": ec2({ any: ["ec2:CreateVpcEndpoint"], stackTagged: ["ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints"] }),
    // The provider adds and removes a route table of a gateway endpoint with ModifyVpcEndpoint.
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": ec2({ stackTagged: ["ec2:ModifyVpcEndpoint"] }),

    "aws:kms/key:Key": {
        read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
        // KMS authorizes keys by their tags: https://docs.aws.amazon.com/kms/latest/developerguide/abac.html
        write: {
            newTagged: ["kms:CreateKey"],
            stackTagged: ["kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion"],
            tagging: ["kms:TagResource", "kms:UntagResource"],
        },
    },
    "aws:sns/topic:Topic": {
        read: ["sns:GetTopicAttributes", "sns:ListTagsForResource"],
        write: { any: ["sns:CreateTopic", "sns:SetTopicAttributes", "sns:DeleteTopic", "sns:TagResource", "sns:UntagResource"] },
    },
    "aws:sns/topicPolicy:TopicPolicy": {
        read: ["sns:GetTopicAttributes"],
        write: { any: ["sns:SetTopicAttributes"] },
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        read: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
        write: { any: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"] },
        // The NAT instance's recover and reboot actions: PutMetricAlarm creates AWSServiceRoleForCloudWatchEvents
        // the first time an alarm has an EC2 action (CloudWatch API reference, PutMetricAlarm).
        serviceLinkedRoles: ["events.amazonaws.com"],
    },
    "aws:cloudwatch/dashboard:Dashboard": {
        read: ["cloudwatch:GetDashboard"],
        write: { any: ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"] },
    },

    // A range outside the VPC's primary block carries the database's isolated subnets.
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": ec2({ stackTagged: ["ec2:AssociateVpcCidrBlock", "ec2:DisassociateVpcCidrBlock"] }),

    "aws:rds/subnetGroup:SubnetGroup": {
        read: RDS_READ,
        write: { newTagged: ["rds:CreateDBSubnetGroup"], stackTagged: ["rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup"], tagging: RDS_TAGS },
    },
    "aws:rds/parameterGroup:ParameterGroup": {
        read: RDS_READ,
        write: {
            newTagged: ["rds:CreateDBParameterGroup"],
            stackTagged: ["rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup", "rds:DeleteDBParameterGroup"],
            tagging: RDS_TAGS,
        },
    },
    // With manageMasterUserPassword RDS creates, rotates and deletes the master secret with the caller's
    // rights: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions
    "aws:rds/instance:Instance": {
        // It never needs the secret's value.
        read: [...RDS_READ, "secretsmanager:DescribeSecret", "kms:DescribeKey"],
        write: {
            newTagged: ["rds:CreateDBInstance"],
            stackTagged: ["rds:ModifyDBInstance", "rds:RebootDBInstance", "rds:DeleteDBInstance"],
            tagging: RDS_TAGS,
            databaseSecret: ["secretsmanager:CreateSecret", "secretsmanager:RotateSecret", "secretsmanager:TagResource", "secretsmanager:DeleteSecret"],
        },
        serviceLinkedRoles: ["rds.amazonaws.com"],
        // Enhanced Monitoring's role (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html).
        passesRolesTo: ["monitoring.rds.amazonaws.com"],
    },
    // The database's events to the alarm topic.
    "aws:rds/eventSubscription:EventSubscription": {
        read: RDS_READ,
        write: {
            newTagged: ["rds:CreateEventSubscription"],
            stackTagged: [
                "rds:ModifyEventSubscription",
                "rds:DeleteEventSubscription",
                "rds:AddSourceIdentifierToSubscription",
                "rds:RemoveSourceIdentifierFromSubscription",
            ],
            tagging: RDS_TAGS,
        },
    },

    // The restart after a secret rotation: an EventBridge rule per reader starts a Step Functions state machine.
    // Step Functions sets up the log delivery of a state machine's logging with the state machine's role, not the
    // caller's (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html; secretRestart.ts).
    "aws:sfn/stateMachine:StateMachine": {
        read: ["states:DescribeStateMachine", "states:ListTagsForResource", "states:ListStateMachineVersions"],
        write: {
            any: ["states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine", "states:TagResource", "states:UntagResource"],
        },
        passesRolesTo: ["states.amazonaws.com"],
    },
    // Jobs (components/jobs/scheduledJob.ts): an EventBridge Scheduler schedule starts the job's state machine with
    // a role it is handed; schedules carry no tags (the provider calls Create/Get/Update/DeleteSchedule:
    // terraform-provider-aws internal/service/scheduler/schedule.go).
    "aws:scheduler/schedule:Schedule": {
        read: ["scheduler:GetSchedule"],
        write: { any: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"] },
        passesRolesTo: ["scheduler.amazonaws.com"],
    },
    "aws:cloudwatch/eventRule:EventRule": {
        read: ["events:DescribeRule", "events:ListTagsForResource"],
        write: { any: ["events:PutRule", "events:EnableRule", "events:DisableRule", "events:DeleteRule", "events:TagResource", "events:UntagResource"] },
    },
    "aws:cloudwatch/eventTarget:EventTarget": {
        read: ["events:ListTargetsByRule"],
        write: { any: ["events:PutTargets", "events:RemoveTargets"] },
        passesRolesTo: ["events.amazonaws.com"],
    },

    // The VPC's default group, adopted: the provider revokes every rule AWS put in it, after it has tagged the
    // group (untagged until then, so `tagging` lets it in): terraform-provider-aws
    // internal/service/ec2/vpc_default_security_group.go, updateTags before forceRevokeSecurityGroupRules.
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ec2({ stackTagged: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"] }),
    // Flow logs to CloudWatch Logs hand the flow-log role to the service:
    // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html#flow-logs-iam-user
    "aws:ec2/flowLog:FlowLog": { ...ec2({ any: ["ec2:CreateFlowLogs"], stackTagged: ["ec2:DeleteFlowLogs"] }), passesRolesTo: ["vpc-flow-logs.amazonaws.com"] },
    // RunInstances also authorizes AWS's AMI and the new network interface and volume.
    "aws:ec2/instance:Instance": ec2({
        any: ["ec2:RunInstances"],
        stackTagged: ["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances"],
    }),
    // The NAT instance declared running: the provider starts (or stops) the stack's instance to match.
    "aws:ec2transitgateway/instanceState:InstanceState": ec2({ stackTagged: ["ec2:StartInstances", "ec2:StopInstances"] }),

    // The ALB's access-log bucket and its configuration; forceDestroy empties it before deleting it.
    "aws:s3/bucket:Bucket": {
        read: S3_READ,
        write: {
            stackBuckets: ["s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        },
    },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": { read: S3_READ, write: { stackBuckets: ["s3:PutBucketOwnershipControls"] } },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { read: S3_READ, write: { stackBuckets: ["s3:PutBucketPublicAccessBlock"] } },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        read: S3_READ,
        write: { stackBuckets: ["s3:PutEncryptionConfiguration"] },
    },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": { read: S3_READ, write: { stackBuckets: ["s3:PutLifecycleConfiguration"] } },
    "aws:s3/bucketPolicy:BucketPolicy": { read: S3_READ, write: { stackBuckets: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"] } },

    "aws:kms/alias:Alias": {
        read: ["kms:ListAliases"],
        write: { keyAliases: ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"] },
    },

    // https://docs.aws.amazon.com/waf/latest/developerguide/security_iam_service-with-iam.html; associating a web
    // ACL with an ALB also needs elasticloadbalancing:SetWebAcl on the load balancer.
    "aws:wafv2/webAcl:WebAcl": {
        read: ["wafv2:GetWebACL", "wafv2:ListTagsForResource"],
        write: { any: ["wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:TagResource", "wafv2:UntagResource"] },
    },
    "aws:wafv2/webAclAssociation:WebAclAssociation": {
        read: ["wafv2:GetWebACLForResource"],
        write: { any: ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"], stackTagged: ["elasticloadbalancing:SetWebAcl"] },
    },

    "aws:acm/certificate:Certificate": {
        read: ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
        write: { any: ["acm:RequestCertificate", "acm:DeleteCertificate", "acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate"] },
    },
    "aws:acm/certificateValidation:CertificateValidation": { read: ["acm:DescribeCertificate"], write: {} },
    "aws:route53/record:Record": {
        read: ["route53:ListResourceRecordSets", "route53:GetChange"],
        write: { any: ["route53:ChangeResourceRecordSets"] },
    },

    "aws:secretsmanager/secret:Secret": {
        read: ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
        write: {
            stackSecrets: [
                "secretsmanager:CreateSecret",
                "secretsmanager:UpdateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
            ],
        },
    },
    // The provider reads a version back (GetSecretValue) when it refreshes: only the stack's own secrets, and
    // never for the preview role, which reads with "Resource": "*".
    "aws:secretsmanager/secretVersion:SecretVersion": {
        read: ["secretsmanager:ListSecretVersionIds"],
        write: { stackSecrets: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"] },
    },
    // The workers' queues (components/messaging/), granted like the SNS topics beside them.
    "aws:sqs/queue:Queue": {
        read: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
        write: { any: ["sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue"] },
    },
    "aws:sqs/queuePolicy:QueuePolicy": {
        read: ["sqs:GetQueueAttributes"],
        write: { any: ["sqs:SetQueueAttributes"] },
    },
    "aws:sns/topicSubscription:TopicSubscription": {
        read: ["sns:GetSubscriptionAttributes"],
        write: { any: ["sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes"] },
    },

    // Berth's dynamic resources run inside `pulumi up` with the same credentials. The deployment check reads
    // the service's deployments (or, for canary, linear and blue/green, its service deployments and their
    // revisions), its tasks, and a public service's production rule and its target groups' targets
    // (deploymentCheck.ts); the destroy guard calls nothing.
    "pulumi-nodejs:dynamic/berth:DeploymentCheck": {
        read: [
            "ecs:DescribeServices",
            "ecs:ListTasks",
            "ecs:DescribeTasks",
            "ecs:ListServiceDeployments",
            "ecs:DescribeServiceDeployments",
            "ecs:DescribeServiceRevisions",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetHealth",
        ],
        write: {},
    },
    "pulumi-nodejs:dynamic/berth:DestroyGuard": { read: [], write: {} },
    // The random suffix of the database's final snapshot: computed by the Pulumi engine, no AWS call.
    "random:index/randomId:RandomId": { read: [], write: {} },

    "aws:ecr/repository:Repository": {
        read: ["ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetRepositoryPolicy"],
        write: {
            newTagged: ["ecr:CreateRepository"],
            stackTagged: [
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                // forceDelete empties the repository before deleting it.
                "ecr:BatchDeleteImage",
                "ecr:DeleteRepository",
            ],
            tagging: ["ecr:TagResource", "ecr:UntagResource"],
        },
    },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
        read: ["ecr:GetLifecyclePolicy"],
        write: { stackTagged: ["ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy"] },
    },
    // BuildKit pushes with the ECR token of the `getAuthorizationToken` invoke, so with the caller's rights.
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
    "docker-build:index:Image": {
        read: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        write: { stackTagged: ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"] },
    },

    "aws:cloudwatch/logGroup:LogGroup": {
        read: ["logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"],
        write: {
            stackLogGroups: [
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:DeleteLogGroup",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:TagLogGroup",
                "logs:UntagLogGroup",
            ],
        },
    },

    // The provider creates roles with their tags in CreateRole itself. IAM authorizes those tags as iam:TagRole
    // on the new role, with aws:RequestTag (iann0036/iamlive#97, fixed in #98: CreateRole with tags needs
    // iam:TagRole; https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html), and has no
    // CreateAction key to tell a tag-on-create apart from a later TagRole, unlike EC2, ELB or ECS. So TagRole
    // is granted on request tags too, and every statement on roles is limited to the stack's path.
    "aws:iam/role:Role": {
        read: ["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"],
        write: {
            newStackRoles: ["iam:CreateRole", "iam:TagRole"],
            // UpdateAssumeRolePolicy offers no iam:PermissionsBoundary key (see boundedStackRoles), so it goes by path and tags.
            stackRoles: ["iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:DeleteRole"],
            boundedStackRoles: ["iam:PutRolePermissionsBoundary"],
        },
    },
    // The stack's permissions boundary (roleBoundary.ts): a human's `pulumi up` writes it, the deploy role only reads it.
    "aws:iam/policy:Policy": {
        read: ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListPolicyTags"],
        write: {},
    },
    // Inline policies of the stack's roles (ECS Exec's ssmmessages on the task role, secrets on the execution role).
    "aws:iam/rolePolicy:RolePolicy": {
        read: ["iam:GetRolePolicy", "iam:ListRolePolicies"],
        write: { boundedStackRoles: ["iam:PutRolePolicy", "iam:DeleteRolePolicy"] },
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        read: ["iam:ListAttachedRolePolicies"],
        write: {},
        // The ECS execution roles, the database's Enhanced Monitoring role, and ECS's traffic role (albRoute.ts).
        attachesPolicies: ["policy/service-role/AmazonECSTaskExecutionRolePolicy", "policy/service-role/AmazonRDSEnhancedMonitoringRole", TRAFFIC_SHIFT_POLICY],
    },

    // Registering an ECS service as a scalable target reads and updates the service with the caller's rights,
    // and target tracking creates its CloudWatch alarms the same way:
    // https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html
    "aws:appautoscaling/target:Target": {
        read: ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:ListTagsForResource", "ecs:DescribeServices"],
        write: {
            any: [
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:TagResource",
                "application-autoscaling:UntagResource",
            ],
            stackTagged: ["ecs:UpdateService"],
        },
        serviceLinkedRoles: ["ecs.application-autoscaling.amazonaws.com"],
    },
    "aws:appautoscaling/scheduledAction:ScheduledAction": {
        read: ["application-autoscaling:DescribeScheduledActions"],
        write: { any: ["application-autoscaling:PutScheduledAction", "application-autoscaling:DeleteScheduledAction"] },
    },
    "aws:appautoscaling/policy:Policy": {
        read: ["application-autoscaling:DescribeScalingPolicies", "cloudwatch:DescribeAlarms"],
        write: {
            any: [
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
            ],
        },
    },
};

/**
 * Per invoke token: what the data source reads. The provider's own start (`sts:GetCallerIdentity`) needs
 * no permission: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
export const INVOKE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": ["ec2:DescribeAvailabilityZones"],
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ["ecr:GetAuthorizationToken"],
    // Needs no permission either (see above): the alarm topic's key policy names the account.
    "aws:index/getCallerIdentity:getCallerIdentity": [],
    // Answered from the provider's own table of regions' ELB accounts, without calling AWS
    // (terraform-provider-aws internal/service/elb/service_account_data_source.go).
    "aws:elb/getServiceAccount:getServiceAccount": [],
    // The partition comes from the provider's configuration, not from a call.
    "aws:index/getPartition:getPartition": [],
    // The hosted zone's name, to check that it holds the stack's domain.
    "aws:route53/getZone:getZone": ["route53:GetHostedZone", "route53:ListTagsForResource"],
    // The stack's kept log groups, adopted rather than created again (components/observability/logGroups.ts).
    "aws:cloudwatch/getLogGroups:getLogGroups": ["logs:DescribeLogGroups"],
    // The NAT instance's AMI, from AWS's public parameter.
    "aws:ssm/getParameter:getParameter": ["ssm:GetParameter"],
};

/**
 * Invoke reads that reveal data when granted on every resource: `ssm:GetParameter` decrypts any SecureString
 * under the account's `aws/ssm` key, whose key policy lets every principal of the account use it
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html). Both roles get
 * them on the public parameters the program reads only.
 */
const PARAMETER_READS: readonly string[] = ["ssm:GetParameter"];

/** What the policies are scoped to. */
export interface PolicyContext {
    partition: string;
    account: string;
    region: string;
    /** The tags every resource of the stack carries (the provider's default tags, e.g. project and stack). */
    stackTags: Readonly<Record<string, string>>;
    /**
     * The prefixes of the stack's log group names: its own (`/berth/dev/`) and those AWS services dictate,
     * such as RDS's `/aws/rds/instance/<identifier>/`.
     */
    logGroupPrefixes: readonly string[];
    /** The starts of the stack's S3 bucket names, e.g. `berth-dev-alb-logs-`. */
    bucketPrefixes: readonly string[];
    /** The starts of the names of the secrets the stack stores, e.g. `berth/dev/`. */
    secretPrefixes: readonly string[];
    /** The stack's database instance (ARN), whose master secret RDS manages with the deploy role's rights. */
    databaseArn?: string;
    /** Roles the deploy role must never change, whatever their tags: its own and its siblings'. */
    protectedRoleArns: readonly string[];
    /** Managed policies the deploy role must never change: the stack's role boundary and its own. */
    protectedPolicyArns: readonly string[];
    /** The IAM path of every role the stack creates, `/<project>/<stack>/` (`stackRolePath`). */
    rolePath: string;
    /** The permissions boundary every role of the stack carries (roleBoundary.ts). */
    boundaryArn: string;
    /** The public SSM parameters the program reads (the NAT instance's AMI). */
    publicParameters: readonly string[];
}

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** Drops the actions a wildcard of the same list already grants (`ec2:DescribeVpcs` under `ec2:Describe*`). */
function withoutCovered(actions: string[]): string[] {
    const wildcards = actions.filter((a) => a.endsWith("*")).map((a) => a.slice(0, -1));
    return actions.filter((a) => a.endsWith("*") || !wildcards.some((w) => a.startsWith(w)));
}

function allReads(permissions: Readonly<Record<string, TypePermissions>>, invokes: Readonly<Record<string, readonly string[]>>): string[] {
    return withoutCovered(sorted([...Object.values(permissions).flatMap((p) => p.read), ...Object.values(invokes).flat()])).filter(
        (a) => !PARAMETER_READS.includes(a),
    );
}

function tagCondition(kind: "ResourceTag" | "RequestTag", tags: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:${kind}/${key}`, value]));
}

/** The public parameters, as IAM names them: AWS's public parameters have no account in their ARN. */
function parameterResources(ctx: Pick<PolicyContext, "partition" | "region" | "publicParameters">): string[] {
    return ctx.publicParameters.map((name) => `arn:${ctx.partition}:ssm:${ctx.region}::parameter${name}`);
}

/** The stack's secrets, as IAM matches them (Secrets Manager appends a random suffix to each name). */
export function secretResources(ctx: Pick<PolicyContext, "partition" | "region" | "account" | "secretPrefixes">): string[] {
    return ctx.secretPrefixes.map((prefix) => `arn:${ctx.partition}:secretsmanager:${ctx.region}:${ctx.account}:secret:${prefix}*`);
}

/** The stack's buckets and the objects in them, as IAM matches them. */
export function bucketResources(ctx: Pick<PolicyContext, "partition" | "bucketPrefixes">): string[] {
    return ctx.bucketPrefixes.flatMap((prefix) => [`arn:${ctx.partition}:s3:::${prefix}*`, `arn:${ctx.partition}:s3:::${prefix}*/*`]);
}

/** The globs of the stack's log groups, as IAM matches them (`*` for any characters). */
export function logGroupResources(ctx: Pick<PolicyContext, "partition" | "region" | "account" | "logGroupPrefixes">): string[] {
    return ctx.logGroupPrefixes.map((prefix) => `arn:${ctx.partition}:logs:${ctx.region}:${ctx.account}:log-group:${prefix}*`);
}

/**
 * Deletes and changes granted on every resource because the service takes no resource for them:
 * `ecs:DeregisterTaskDefinition` authorizes on "*" only (the Service Authorization Reference for ECS). A
 * task definition holds no data; Berth keeps its own revisions registered (`skipDestroy`).
 */
export const UNSCOPABLE_WRITES: readonly string[] = ["ecs:DeregisterTaskDefinition"];

/** The services whose deletes and changes the deploy role gets on the stack's resources only (by tags, names or path). */
export const STACK_SCOPED_SERVICES: readonly string[] = ["ec2", "ecr", "ecs", "elasticloadbalancing", "iam", "kms", "logs", "rds", "s3", "secretsmanager"];

/** Tag actions that add tags (the others remove them). */
const ADDS_TAGS = /:(CreateTags|AddTags|TagResource|AddTagsToResource)$/;

/**
 * IAM's writes on roles, all of them: what the deploy role may never do to the pipeline's own roles. Reads
 * stay allowed, so that `pulumi refresh` and `pulumi preview --refresh` read the roles like any other.
 */
const ROLE_WRITES = [
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PassRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
];

/**
 * The actions that take the `iam:PermissionsBoundary` condition key on roles (the Service Authorization
 * Reference for IAM, https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html,
 * as in AWS's own delegation example: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
 * UpdateAssumeRolePolicy is not among them: a condition on a key the request lacks never matches, so it
 * would refuse every trust policy update.
 */
export const BOUNDARY_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
] as const;

/** Writes that would change a managed policy's document or delete it. */
const POLICY_WRITES = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"];

/**
 * Statements of the deploy role that hold the service writes scoped by tags: kept in a managed policy of their
 * own, since IAM caps a role's inline policies at 10,240 characters together and a managed policy at 6,144
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 */
export const SERVICE_STATEMENTS = ["Write", "CreateStackResources", "ChangeStackResources", "TagStackResources", "TagNewResources"];

/**
 * The deploy role's policy: every read, every write of the map within its scope, IAM on the stack's roles only
 * with the stack's permissions boundary, and explicit denies on the pipeline's own roles and managed policies,
 * so that no change merged to the branch can widen what the pipeline may do.
 */
export function deployPolicy(
    ctx: PolicyContext,
    permissions: Readonly<Record<string, TypePermissions>> = RESOURCE_PERMISSIONS,
    invokes: Readonly<Record<string, readonly string[]>> = INVOKE_PERMISSIONS,
): PolicyDocument {
    const entries = Object.values(permissions);
    const writes = (scope: Scope) => sorted(entries.flatMap((p) => p.write[scope] ?? []));
    // Only roles under the stack's path: a role elsewhere in the account, tagged or not, is out of reach.
    const roles = `arn:${ctx.partition}:iam::${ctx.account}:role${ctx.rolePath}*`;
    const resourceTags = tagCondition("ResourceTag", ctx.stackTags);
    const requestTags = tagCondition("RequestTag", ctx.stackTags);
    const withBoundary = { "iam:PermissionsBoundary": ctx.boundaryArn };
    const tagging = writes("tagging");
    const statements: PolicyStatement[] = [
        { Sid: "Read", Effect: "Allow", Action: allReads(permissions, invokes), Resource: "*" },
        {
            Sid: "ReadPublicParameters",
            Effect: "Allow",
            Action: sorted(
                Object.values(invokes)
                    .flat()
                    .filter((a) => PARAMETER_READS.includes(a)),
            ),
            Resource: parameterResources(ctx),
        },
        { Sid: "Write", Effect: "Allow", Action: writes("any"), Resource: "*" },
        { Sid: "CreateStackResources", Effect: "Allow", Action: writes("newTagged"), Resource: "*", Condition: { StringEquals: requestTags } },
        { Sid: "ChangeStackResources", Effect: "Allow", Action: writes("stackTagged"), Resource: "*", Condition: { StringEquals: resourceTags } },
        { Sid: "TagStackResources", Effect: "Allow", Action: tagging, Resource: "*", Condition: { StringEquals: resourceTags } },
        {
            Sid: "TagNewResources",
            Effect: "Allow",
            Action: tagging.filter((a) => ADDS_TAGS.test(a)),
            Resource: "*",
            // A new resource carries no tags yet; another stack's carries its own `stack` tag.
            Condition: { StringEquals: requestTags, Null: { "aws:ResourceTag/stack": "true" } },
        },
        {
            Sid: "KeyAliases",
            Effect: "Allow",
            Action: writes("keyAliases"),
            Resource: `arn:${ctx.partition}:kms:${ctx.region}:${ctx.account}:alias/*`,
        },
        {
            Sid: "StackKeysOfAliases",
            Effect: "Allow",
            Action: writes("keyAliases"),
            Resource: `arn:${ctx.partition}:kms:${ctx.region}:${ctx.account}:key/*`,
            Condition: { StringEquals: resourceTags },
        },
        {
            Sid: "CreateStackRoles",
            Effect: "Allow",
            Action: writes("newStackRoles").filter((a) => (BOUNDARY_ACTIONS as readonly string[]).includes(a)),
            Resource: roles,
            Condition: { StringEquals: { ...requestTags, ...withBoundary } },
        },
        {
            Sid: "TagNewStackRoles",
            Effect: "Allow",
            Action: writes("newStackRoles").filter((a) => !(BOUNDARY_ACTIONS as readonly string[]).includes(a)),
            Resource: roles,
            Condition: { StringEquals: requestTags },
        },
        { Sid: "ChangeStackRoles", Effect: "Allow", Action: writes("stackRoles"), Resource: roles, Condition: { StringEquals: resourceTags } },
        {
            Sid: "ChangeBoundedStackRoles",
            Effect: "Allow",
            Action: writes("boundedStackRoles"),
            Resource: roles,
            Condition: { StringEquals: { ...resourceTags, ...withBoundary } },
        },
    ];

    const policies = sorted(entries.flatMap((p) => p.attachesPolicies ?? []));
    const passedTo = sorted(entries.flatMap((p) => p.passesRolesTo ?? []));
    const linked = sorted(entries.flatMap((p) => p.serviceLinkedRoles ?? []));
    const secretArn = `arn:${ctx.partition}:secretsmanager:${ctx.region}:${ctx.account}:secret:rds!*`;
    const instanceTag = (kind: "RequestTag" | "ResourceTag") => ({ [`aws:${kind}/aws:rds:primaryDBInstanceArn`]: ctx.databaseArn! });
    const databaseSecret = writes("databaseSecret");
    // Each of these only when the map (or the context) gives it something to name.
    const optional: [boolean, PolicyStatement][] = [
        [
            policies.length > 0,
            {
                Sid: "AttachManagedPolicies",
                Effect: "Allow",
                Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                Resource: roles,
                Condition: {
                    StringEquals: { ...resourceTags, ...withBoundary },
                    ArnEquals: { "iam:PolicyARN": policies.map((p) => `arn:${ctx.partition}:iam::aws:${p}`) },
                },
            },
        ],
        [
            passedTo.length > 0,
            {
                Sid: "PassStackRoles",
                Effect: "Allow",
                Action: ["iam:PassRole"],
                Resource: roles,
                Condition: { StringEquals: { ...resourceTags, "iam:PassedToService": passedTo } },
            },
        ],
        [
            linked.length > 0,
            {
                Sid: "ServiceLinkedRoles",
                Effect: "Allow",
                Action: ["iam:CreateServiceLinkedRole"],
                Resource: `arn:${ctx.partition}:iam::${ctx.account}:role/aws-service-role/*`,
                Condition: { StringEquals: { "iam:AWSServiceName": linked } },
            },
        ],
        [true, { Sid: "StackLogGroups", Effect: "Allow", Action: writes("stackLogGroups"), Resource: logGroupResources(ctx) }],
        [
            writes("stackSecrets").length > 0 && ctx.secretPrefixes.length > 0,
            { Sid: "StackSecrets", Effect: "Allow", Action: writes("stackSecrets"), Resource: secretResources(ctx) },
        ],
        // RDS creates, tags, rotates and deletes its master secret with the caller's rights
        // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions);
        // RDS names them all `rds!db-<uuid>`, so only the tag naming the instance singles out this stack's.
        [
            databaseSecret.length > 0 && ctx.databaseArn !== undefined,
            {
                Sid: "CreateDatabaseSecret",
                Effect: "Allow",
                Action: databaseSecret.filter((a) => /:(CreateSecret|TagResource)$/.test(a)),
                Resource: secretArn,
                // IfExists: AWS documents which tag RDS gives the secret, not whether its forwarded CreateSecret and
                // TagResource carry it in the request; a secret being created has no tag yet, and any other instance's
                // secret carries its own, which no caller can change (`aws:` tags are AWS's alone:
                // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html).
                Condition: { StringEqualsIfExists: { ...instanceTag("RequestTag"), ...instanceTag("ResourceTag") } },
            },
        ],
        [
            databaseSecret.length > 0 && ctx.databaseArn !== undefined,
            {
                Sid: "ChangeDatabaseSecret",
                Effect: "Allow",
                Action: databaseSecret.filter((a) => !/:CreateSecret$/.test(a)),
                Resource: secretArn,
                Condition: { StringEquals: instanceTag("ResourceTag") },
            },
        ],
        [
            writes("stackBuckets").length > 0 && ctx.bucketPrefixes.length > 0,
            { Sid: "StackBuckets", Effect: "Allow", Action: writes("stackBuckets"), Resource: bucketResources(ctx) },
        ],
        // The boundary is what keeps every role the deploy role touches from doing more: it may neither
        // create or change a role without it (StringNotEquals also matches a request without the key:
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html),
        // nor take it off, nor rewrite it.
        [
            true,
            {
                Sid: "OnlyRolesWithinTheBoundary",
                Effect: "Deny",
                Action: [...BOUNDARY_ACTIONS].filter((a) => !/:(Delete|Detach)/.test(a)),
                Resource: "*",
                Condition: { StringNotEquals: withBoundary },
            },
        ],
        [true, { Sid: "KeepTheBoundary", Effect: "Deny", Action: ["iam:DeleteRolePermissionsBoundary"], Resource: "*" }],
        [
            ctx.protectedPolicyArns.length > 0,
            { Sid: "NeverChangeThePipelinePolicies", Effect: "Deny", Action: POLICY_WRITES, Resource: [...ctx.protectedPolicyArns] },
        ],
        [ctx.protectedRoleArns.length > 0, { Sid: "NeverChangeThePipelineRoles", Effect: "Deny", Action: ROLE_WRITES, Resource: [...ctx.protectedRoleArns] }],
    ];
    statements.push(...optional.filter(([wanted]) => wanted).map(([, s]) => s));
    return { Version: "2012-10-17", Statement: statements.filter((s) => s.Action.length > 0 && (!Array.isArray(s.Resource) || s.Resource.length > 0)) };
}

/** The deploy role's policy as IAM holds it: the service writes in a managed policy, the rest inline. */
export function splitDeployPolicy(doc: PolicyDocument): { inline: PolicyDocument; managed: PolicyDocument } {
    const managed = doc.Statement.filter((s) => SERVICE_STATEMENTS.includes(s.Sid));
    return {
        inline: { Version: doc.Version, Statement: doc.Statement.filter((s) => !SERVICE_STATEMENTS.includes(s.Sid)) },
        managed: { Version: doc.Version, Statement: managed },
    };
}

/** What the preview role is scoped to. */
export type PreviewContext = Pick<PolicyContext, "partition" | "account" | "region" | "stackTags" | "publicParameters">;

/**
 * The preview role's policy, for `pulumi preview` of pull requests whose code nobody has reviewed: exactly what
 * a preview calls. A preview runs the program, so its invokes (INVOKE_PERMISSIONS), and asks each provider for
 * a diff against the state; it refreshes nothing unless asked to (`--refresh`, which the workflow does not pass). With `buildOnPreview`, the image build reads its
 * layer cache from the stack's repositories.
 */
export function previewPolicy(ctx: PreviewContext, invokes: Readonly<Record<string, readonly string[]>> = INVOKE_PERMISSIONS): PolicyDocument {
    const reads = sorted(Object.values(invokes).flat());
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "Invokes", Effect: "Allow", Action: reads.filter((a) => !PARAMETER_READS.includes(a)), Resource: "*" },
            { Sid: "ReadPublicParameters", Effect: "Allow", Action: reads.filter((a) => PARAMETER_READS.includes(a)), Resource: parameterResources(ctx) },
            {
                Sid: "ReadStackImageCache",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                Resource: `arn:${ctx.partition}:ecr:${ctx.region}:${ctx.account}:repository/*`,
                Condition: { StringEquals: tagCondition("ResourceTag", ctx.stackTags) },
            },
        ].filter((s) => s.Action.length > 0) as PolicyStatement[],
    };
}
