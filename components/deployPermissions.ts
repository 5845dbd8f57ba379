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
 * Reads are granted broadly (`ec2:Describe*`): the providers' waiters read more than their create calls.
 */
import { TRAFFIC_SHIFT_POLICY } from "./rolloutStrategy";

/** Which resources a write may touch. */
export type Scope =
    /** Any resource of the service: AWS offers no practical narrower scope for these calls. */
    | "any"
    /** IAM roles that carry this stack's tags (the provider's default tags). */
    | "stackRoles"
    /**
     * Creating IAM roles under the stack's path (`stackRolePath`), only with this stack's tags in the request:
     * `iam:CreateRole`, and `iam:TagRole` for the tags it creates them with. The path keeps `iam:TagRole` on
     * request tags from reaching any other role of the account.
     */
    | "newStackRoles"
    /** CloudWatch Logs groups under the stack's prefix (`/<project>/<stack>/`). */
    | "stackLogGroups"
    /** The stack's S3 buckets and their objects, by the start of their names. */
    | "stackBuckets"
    /** The stack's Secrets Manager secrets, by the start of their names (its own, and those RDS manages). */
    | "stackSecrets";

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
    "s3:GetBucket*", "s3:GetAccelerateConfiguration", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration", "s3:ListBucket",
    // forceDestroy lists every object version before it deletes them.
    "s3:ListBucketVersions",
];
// RDS's Describe* calls all read metadata (instances, groups, parameters, event subscriptions, log file names).
const RDS_READ = ["rds:Describe*", "rds:ListTagsForResource"];
const RDS_TAGS = ["rds:AddTagsToResource", "rds:RemoveTagsFromResource"];

const ec2 = (...actions: string[]): TypePermissions => ({ read: EC2_READ, write: { any: [...actions, ...EC2_TAGS] } });
const elb = (...actions: string[]): TypePermissions => ({ read: ELB_READ, write: { any: [...actions, ...ELB_TAGS] } });

/** Per Pulumi resource type: what its provider calls. */
export const RESOURCE_PERMISSIONS: Readonly<Record<string, TypePermissions>> = {
    "aws:ec2/vpc:Vpc": ec2("ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteVpc"),
    "aws:ec2/subnet:Subnet": ec2("ec2:CreateSubnet", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"),
    "aws:ec2/internetGateway:InternetGateway": ec2(
        "ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
    ),
    "aws:ec2/eip:Eip": ec2("ec2:AllocateAddress", "ec2:DisassociateAddress", "ec2:ReleaseAddress"),
    "aws:ec2/natGateway:NatGateway": ec2("ec2:CreateNatGateway", "ec2:DeleteNatGateway"),
    "aws:ec2/routeTable:RouteTable": ec2("ec2:CreateRouteTable", "ec2:DeleteRouteTable"),
    "aws:ec2/route:Route": ec2("ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ec2(
        "ec2:AssociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DisassociateRouteTable",
    ),
    // The provider revokes the allow-all egress rule AWS adds to every new group.
    "aws:ec2/securityGroup:SecurityGroup": ec2("ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ec2(
        "ec2:AuthorizeSecurityGroupIngress", "ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupIngress",
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ec2(
        "ec2:AuthorizeSecurityGroupEgress", "ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupEgress",
    ),

    // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    "aws:lb/loadBalancer:LoadBalancer": {
        ...elb(
            "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:DeleteLoadBalancer",
        ),
        serviceLinkedRoles: ["elasticloadbalancing.amazonaws.com"],
    },
    "aws:lb/listener:Listener": elb(
        "elasticloadbalancing:CreateListener", "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:DeleteListener",
    ),
    "aws:lb/listenerRule:ListenerRule": elb(
        "elasticloadbalancing:CreateRule", "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:DeleteRule",
    ),
    "aws:lb/targetGroup:TargetGroup": elb(
        "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
    ),

    "aws:servicediscovery/httpNamespace:HttpNamespace": {
        read: [
            "servicediscovery:GetNamespace", "servicediscovery:GetOperation",
            "servicediscovery:ListNamespaces", "servicediscovery:ListTagsForResource",
        ],
        write: {
            any: [
                "servicediscovery:CreateHttpNamespace", "servicediscovery:UpdateHttpNamespace",
                "servicediscovery:DeleteNamespace", "servicediscovery:TagResource", "servicediscovery:UntagResource",
            ],
        },
    },
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
    "aws:ecs/cluster:Cluster": {
        read: ECS_READ,
        write: { any: ["ecs:CreateCluster", "ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:DeleteCluster", ...ECS_TAGS] },
        serviceLinkedRoles: ["ecs.amazonaws.com"],
    },
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
        read: ECS_READ,
        write: { any: ["ecs:PutClusterCapacityProviders"] },
    },
    "aws:ecs/taskDefinition:TaskDefinition": {
        read: ECS_READ,
        write: { any: ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", ...ECS_TAGS] },
        passesRolesTo: ["ecs-tasks.amazonaws.com"],
    },
    // Service Connect's Cloud Map services are made by ECS's service-linked role, not by the caller. A service
    // whose deployments shift traffic hands ECS the infrastructure role it moves traffic with (albRoute.ts):
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
    "aws:ecs/service:Service": {
        read: ECS_READ,
        write: { any: ["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", ...ECS_TAGS] },
        serviceLinkedRoles: ["ecs.amazonaws.com"],
        passesRolesTo: ["ecs.amazonaws.com"],
    },

    "aws:ec2/vpcEndpoint:VpcEndpoint": ec2("ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints"),
    // The provider adds and removes a route table of a gateway endpoint with ModifyVpcEndpoint.
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": ec2("ec2:ModifyVpcEndpoint"),

    "aws:kms/key:Key": {
        read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
        write: {
            any: [
                "kms:CreateKey", "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
                "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
            ],
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
    },
    "aws:cloudwatch/dashboard:Dashboard": {
        read: ["cloudwatch:GetDashboard"],
        write: { any: ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"] },
    },

    // A range outside the VPC's primary block carries the database's isolated subnets.
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": ec2("ec2:AssociateVpcCidrBlock", "ec2:DisassociateVpcCidrBlock"),

    "aws:rds/subnetGroup:SubnetGroup": {
        read: RDS_READ,
        write: { any: ["rds:CreateDBSubnetGroup", "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", ...RDS_TAGS] },
    },
    "aws:rds/parameterGroup:ParameterGroup": {
        read: RDS_READ,
        write: { any: ["rds:CreateDBParameterGroup", "rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup", "rds:DeleteDBParameterGroup", ...RDS_TAGS] },
    },
    // With manageMasterUserPassword RDS creates, rotates and deletes the master secret with the caller's
    // rights: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions
    "aws:rds/instance:Instance": {
        read: [...RDS_READ, "secretsmanager:DescribeSecret", "kms:DescribeKey"],
        write: {
            any: ["rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:RebootDBInstance", "rds:DeleteDBInstance", ...RDS_TAGS],
            stackSecrets: ["secretsmanager:CreateSecret", "secretsmanager:RotateSecret", "secretsmanager:TagResource", "secretsmanager:DeleteSecret"],
        },
        serviceLinkedRoles: ["rds.amazonaws.com"],
        // Enhanced Monitoring's role (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html).
        passesRolesTo: ["monitoring.rds.amazonaws.com"],
    },
    // The database's events to the alarm topic.
    "aws:rds/eventSubscription:EventSubscription": {
        read: RDS_READ,
        write: {
            any: [
                "rds:CreateEventSubscription", "rds:ModifyEventSubscription", "rds:DeleteEventSubscription",
                "rds:AddSourceIdentifierToSubscription", "rds:RemoveSourceIdentifierFromSubscription", ...RDS_TAGS,
            ],
        },
    },

    // The restart after a secret rotation: an EventBridge rule per reader starts a Step Functions state machine.
    // Step Functions sets up the log delivery of a state machine's logging with the state machine's role, not the
    // caller's (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html; secretRestart.ts).
    "aws:sfn/stateMachine:StateMachine": {
        read: ["states:DescribeStateMachine", "states:ListTagsForResource", "states:ListStateMachineVersions"],
        write: {
            any: [
                "states:CreateStateMachine", "states:UpdateStateMachine", "states:DeleteStateMachine",
                "states:TagResource", "states:UntagResource",
            ],
        },
        passesRolesTo: ["states.amazonaws.com"],
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

    // The VPC's default group, adopted: the provider revokes every rule AWS put in it.
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ec2("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"),
    // Flow logs to CloudWatch Logs hand the flow-log role to the service:
    // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html#flow-logs-iam-user
    "aws:ec2/flowLog:FlowLog": { ...ec2("ec2:CreateFlowLogs", "ec2:DeleteFlowLogs"), passesRolesTo: ["vpc-flow-logs.amazonaws.com"] },
    "aws:ec2/instance:Instance": ec2(
        "ec2:RunInstances", "ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances",
    ),

    // The ALB's access-log bucket and its configuration; forceDestroy empties it before deleting it.
    "aws:s3/bucket:Bucket": {
        read: S3_READ,
        write: {
            stackBuckets: [
                "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", "s3:DeleteObject", "s3:DeleteObjectVersion",
            ],
        },
    },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": { read: S3_READ, write: { stackBuckets: ["s3:PutBucketOwnershipControls"] } },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { read: S3_READ, write: { stackBuckets: ["s3:PutBucketPublicAccessBlock"] } },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        read: S3_READ, write: { stackBuckets: ["s3:PutEncryptionConfiguration"] },
    },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": { read: S3_READ, write: { stackBuckets: ["s3:PutLifecycleConfiguration"] } },
    "aws:s3/bucketPolicy:BucketPolicy": { read: S3_READ, write: { stackBuckets: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"] } },

    "aws:kms/alias:Alias": {
        read: ["kms:ListAliases"],
        write: { any: ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"] },
    },

    // https://docs.aws.amazon.com/waf/latest/developerguide/security_iam_service-with-iam.html; associating a web
    // ACL with an ALB also needs elasticloadbalancing:SetWebAcl on the load balancer.
    "aws:wafv2/webAcl:WebAcl": {
        read: ["wafv2:GetWebACL", "wafv2:ListTagsForResource"],
        write: { any: ["wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:TagResource", "wafv2:UntagResource"] },
    },
    "aws:wafv2/webAclAssociation:WebAclAssociation": {
        read: ["wafv2:GetWebACLForResource"],
        write: { any: ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "elasticloadbalancing:SetWebAcl"] },
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
                "secretsmanager:CreateSecret", "secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource", "secretsmanager:UntagResource",
            ],
        },
    },
    // The provider reads a version back (GetSecretValue) when it refreshes: only the stack's own secrets, and
    // never for the preview role, which reads with "Resource": "*".
    "aws:secretsmanager/secretVersion:SecretVersion": {
        read: ["secretsmanager:ListSecretVersionIds"],
        write: { stackSecrets: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"] },
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
            "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks",
            "ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions",
            "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetHealth",
        ],
        write: {},
    },
    "pulumi-nodejs:dynamic/berth:DestroyGuard": { read: [], write: {} },
    // The random suffix of the database's final snapshot: computed by the Pulumi engine, no AWS call.
    "random:index/randomId:RandomId": { read: [], write: {} },

    "aws:ecr/repository:Repository": {
        read: ["ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetRepositoryPolicy"],
        write: {
            any: [
                "ecr:CreateRepository", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
                // forceDelete empties the repository before deleting it.
                "ecr:BatchDeleteImage", "ecr:DeleteRepository", "ecr:TagResource", "ecr:UntagResource",
            ],
        },
    },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
        read: ["ecr:GetLifecyclePolicy"],
        write: { any: ["ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy"] },
    },
    // BuildKit pushes with the ECR token of the `getAuthorizationToken` invoke, so with the caller's rights.
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
    "docker-build:index:Image": {
        read: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        write: { any: ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"] },
    },

    "aws:cloudwatch/logGroup:LogGroup": {
        read: ["logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"],
        write: {
            stackLogGroups: [
                "logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:DeleteLogGroup",
                "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup",
            ],
        },
    },

    // The provider creates roles with their tags in CreateRole itself. IAM authorizes those tags as iam:TagRole
    // on the new role, with aws:RequestTag (iann0036/iamlive#97, fixed in #98: CreateRole with tags needs
    // iam:TagRole; https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html), and has no
    // CreateAction key to tell a tag-on-create apart from a later TagRole, unlike EC2, ELB or ECS. So TagRole
    // is granted on request tags too, and every statement on roles is limited to the stack's path.
    "aws:iam/role:Role": {
        read: [
            "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
        ],
        write: {
            newStackRoles: ["iam:CreateRole", "iam:TagRole"],
            stackRoles: [
                "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
                "iam:TagRole", "iam:UntagRole", "iam:DeleteRole",
            ],
        },
    },
    // Inline policies of the stack's roles (ECS Exec's ssmmessages on the task role, secrets on the execution role).
    "aws:iam/rolePolicy:RolePolicy": {
        read: ["iam:GetRolePolicy", "iam:ListRolePolicies"],
        write: { stackRoles: ["iam:PutRolePolicy", "iam:DeleteRolePolicy"] },
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
        read: [
            "application-autoscaling:DescribeScalableTargets", "application-autoscaling:ListTagsForResource",
            "ecs:DescribeServices",
        ],
        write: {
            any: [
                "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:TagResource", "application-autoscaling:UntagResource", "ecs:UpdateService",
            ],
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
                "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
                "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
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
    // The NAT instance's AMI, from AWS's public parameter.
    "aws:ssm/getParameter:getParameter": ["ssm:GetParameter"],
};

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
    /**
     * The starts of the stack's Secrets Manager secret names: its own (`berth/dev/`) and RDS's managed master
     * secrets (`rds!`, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
     */
    secretPrefixes: readonly string[];
    /** Roles the deploy role must never change, whatever their tags: its own and its siblings'. */
    protectedRoleArns: readonly string[];
    /** The IAM path of every role the stack creates, `/<project>/<stack>/` (`stackRolePath`). */
    rolePath: string;
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
    return withoutCovered(sorted([...Object.values(permissions).flatMap((p) => p.read), ...Object.values(invokes).flat()]));
}

function tagCondition(kind: "ResourceTag" | "RequestTag", tags: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:${kind}/${key}`, value]));
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
 * The deploy role's policy: every read, every write of the map within its scope, and an explicit deny on
 * the pipeline's own roles, so that no change merged to the branch can widen what the pipeline may do.
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
    const statements: PolicyStatement[] = [
        { Sid: "Read", Effect: "Allow", Action: allReads(permissions, invokes), Resource: "*" },
        { Sid: "Write", Effect: "Allow", Action: writes("any"), Resource: "*" },
        {
            Sid: "CreateStackRoles",
            Effect: "Allow",
            Action: writes("newStackRoles"),
            Resource: roles,
            Condition: { StringEquals: tagCondition("RequestTag", ctx.stackTags) },
        },
        {
            Sid: "ChangeStackRoles",
            Effect: "Allow",
            Action: writes("stackRoles"),
            Resource: roles,
            Condition: { StringEquals: tagCondition("ResourceTag", ctx.stackTags) },
        },
    ];

    const policies = sorted(entries.flatMap((p) => p.attachesPolicies ?? []));
    const passedTo = sorted(entries.flatMap((p) => p.passesRolesTo ?? []));
    const linked = sorted(entries.flatMap((p) => p.serviceLinkedRoles ?? []));
    // Each of these only when the map (or the context) gives it something to name.
    const optional: [boolean, PolicyStatement][] = [
        [policies.length > 0, {
            Sid: "AttachManagedPolicies",
            Effect: "Allow",
            Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            Resource: roles,
            Condition: {
                StringEquals: tagCondition("ResourceTag", ctx.stackTags),
                ArnEquals: { "iam:PolicyARN": policies.map((p) => `arn:${ctx.partition}:iam::aws:${p}`) },
            },
        }],
        [passedTo.length > 0, {
            Sid: "PassStackRoles",
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: roles,
            Condition: { StringEquals: { ...tagCondition("ResourceTag", ctx.stackTags), "iam:PassedToService": passedTo } },
        }],
        [linked.length > 0, {
            Sid: "ServiceLinkedRoles",
            Effect: "Allow",
            Action: ["iam:CreateServiceLinkedRole"],
            Resource: `arn:${ctx.partition}:iam::${ctx.account}:role/aws-service-role/*`,
            Condition: { StringEquals: { "iam:AWSServiceName": linked } },
        }],
        [true, { Sid: "StackLogGroups", Effect: "Allow", Action: writes("stackLogGroups"), Resource: logGroupResources(ctx) }],
        [writes("stackSecrets").length > 0 && ctx.secretPrefixes.length > 0,
            { Sid: "StackSecrets", Effect: "Allow", Action: writes("stackSecrets"), Resource: secretResources(ctx) }],
        [writes("stackBuckets").length > 0 && ctx.bucketPrefixes.length > 0,
            { Sid: "StackBuckets", Effect: "Allow", Action: writes("stackBuckets"), Resource: bucketResources(ctx) }],
        [ctx.protectedRoleArns.length > 0,
            { Sid: "NeverChangeThePipelineRoles", Effect: "Deny", Action: ["iam:*"], Resource: [...ctx.protectedRoleArns] }],
    ];
    statements.push(...optional.filter(([wanted]) => wanted).map(([, s]) => s));
    return { Version: "2012-10-17", Statement: statements.filter((s) => s.Action.length > 0) };
}

/** The preview role's policy: reads only, for `pulumi preview` of pull requests whose code nobody has reviewed. */
export function previewPolicy(
    permissions: Readonly<Record<string, TypePermissions>> = RESOURCE_PERMISSIONS,
    invokes: Readonly<Record<string, readonly string[]>> = INVOKE_PERMISSIONS,
): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Sid: "Read", Effect: "Allow", Action: allReads(permissions, invokes), Resource: "*" }] };
}

/** Verbs of actions that only read. */
const READ_VERB = /^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)/;

/**
 * What is wrong with a permission map: reads that can change something, IAM or log writes that escape the
 * stack's scope, or actions that name no service.
 */
/**
 * Reads that return secret data: never on every resource, nor for the preview role, only on the stack's own
 * resources (the provider reads its own secret versions back when it refreshes them).
 */
const SCOPED_READS: readonly string[] = ["secretsmanager:GetSecretValue"];

/** What creating a role with its tags takes (`newStackRoles`). */
const NEW_ROLE_ACTIONS: readonly string[] = ["iam:CreateRole", "iam:TagRole"];

export function permissionProblems(permissions: Readonly<Record<string, TypePermissions>>): string[] {
    const problems: string[] = [];
    for (const [type, p] of Object.entries(permissions)) {
        for (const action of p.read) {
            if (!READ_VERB.test(action)) {
                problems.push(`${type}: read action ${action} is not a Describe/Get/List call`);
            } else if (SCOPED_READS.includes(action)) {
                problems.push(`${type}: ${action} reads secret data, and reads go to every resource (and to the preview role); list it under a write scope of the stack's own resources`);
            }
        }
        for (const [scope, actions] of Object.entries(p.write) as [Scope, readonly string[]][]) {
            for (const action of actions) {
                if (!/^[a-z0-9-]+:[A-Za-z*]+$/.test(action)) {
                    problems.push(`${type}: ${JSON.stringify(action)} is not an IAM action`);
                } else if (action.startsWith("iam:") && scope !== "stackRoles" && scope !== "newStackRoles") {
                    problems.push(`${type}: IAM write ${action} must be limited to the stack's roles, not "${scope}"`);
                } else if (scope === "newStackRoles" && !NEW_ROLE_ACTIONS.includes(action)) {
                    problems.push(`${type}: ${action} on request tags alone changes roles the stack did not create; only ${NEW_ROLE_ACTIONS.join(" and ")} belong in "newStackRoles"`);
                } else if (action.startsWith("logs:") && scope !== "stackLogGroups") {
                    problems.push(`${type}: log write ${action} must be limited to the stack's log groups, not "${scope}"`);
                } else if (SCOPED_READS.includes(action) && scope === "any") {
                    problems.push(`${type}: ${action} reads secret data; limit it to the stack's own resources, not "any"`);
                } else if (READ_VERB.test(action) && !SCOPED_READS.includes(action)) {
                    problems.push(`${type}: ${action} reads; list it under "read"`);
                }
            }
        }
    }
    return problems;
}
