/**
 * The documents of the AWS managed policies Berth attaches to its roles, as AWS publishes them (the AWS Managed
 * Policy Reference, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html; copied from
 * iann0036/iam-dataset aws/managedpolicies/<name>.json at commit 2073fa52ac008a45477aa0b1b4580cd99135bf60):
 * the tests hold them against the stack's permissions boundary.
 */
import type { Document } from "./iamPolicy";

export const MANAGED_POLICIES: Readonly<Record<string, Document>> = {
    // Version v1.
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy": {
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                Resource: "*",
            },
        ],
    },
    // Version v1.
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": {
        Statement: [
            { Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:PutRetentionPolicy"], Resource: ["arn:aws:logs:*:*:log-group:RDS*"] },
            {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
                Resource: ["arn:aws:logs:*:*:log-group:RDS*:log-stream:*"],
            },
        ],
    },
    // Version v6.
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers": {
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
            },
            { Effect: "Allow", Action: ["elasticloadbalancing:ModifyListener"], Resource: ["arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*"] },
            { Effect: "Allow", Action: ["elasticloadbalancing:ModifyListener"], Resource: ["arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*"] },
            { Effect: "Allow", Action: ["elasticloadbalancing:ModifyRule"], Resource: ["arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*/*"] },
        ],
    },
};
