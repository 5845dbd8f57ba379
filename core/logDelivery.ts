/** What Step Functions needs to deliver a state machine's logs: for the component that logs and the role boundary that allows it. */

/**
 * What the state machine's role needs to log to CloudWatch Logs: log delivery is set up by Step Functions with
 * the role's rights, and these actions take no resource narrower than "*"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html, "IAM policies for logging to CloudWatch Logs").
 */
export const LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
] as const;
