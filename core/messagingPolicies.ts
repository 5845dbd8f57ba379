/**
 * The IAM documents of the messaging parts, as plain functions of ARNs so that tests evaluate them as IAM
 * would (tests/support/iamPolicy.ts) and the role boundary can be checked against them.
 */

/** What a worker's task role does with its queue: the long-poll consume loop of the kit (services/kit/src/messaging.ts). */
export const CONSUME_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"] as const;

/**
 * What a publisher's task role needs to publish to a topic encrypted with a customer managed key: `sns:Publish`
 * on the topic, and `kms:GenerateDataKey*` and `kms:Decrypt` on the key ("Allow a user to send messages to a
 * topic with SSE", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
 */
export const PUBLISH_KEY_ACTIONS = ["kms:GenerateDataKey*", "kms:Decrypt"] as const;

/**
 * What a consumer of a queue encrypted with a customer managed key needs of the key: `kms:Decrypt`
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html,
 * "Example: Allow a consumer to receive messages from an encrypted queue").
 */
export const CONSUME_KEY_ACTIONS = ["kms:Decrypt"] as const;

export interface IamStatement {
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: string[];
}

/** A publisher's grant: exactly its topics, and the key that encrypts them. */
export function publishStatements(topicArns: readonly string[], keyArn: string): IamStatement[] {
    return [
        { Sid: "PublishToOwnTopics", Effect: "Allow", Action: ["sns:Publish"], Resource: [...topicArns] },
        { Sid: "EncryptForOwnTopics", Effect: "Allow", Action: [...PUBLISH_KEY_ACTIONS], Resource: [keyArn] },
    ];
}

/** A worker's grant: exactly its queue, and decryption with the key that encrypts it. */
export function consumeStatements(queueArn: string, keyArn: string): IamStatement[] {
    return [
        { Sid: "ConsumeOwnQueue", Effect: "Allow", Action: [...CONSUME_ACTIONS], Resource: [queueArn] },
        { Sid: "DecryptOwnQueue", Effect: "Allow", Action: [...CONSUME_KEY_ACTIONS], Resource: [keyArn] },
    ];
}

/**
 * The queue's access policy: SNS may send to it only on behalf of the worker's topics (`aws:SourceArn`), as
 * AWS's own example for a topic fanning out to a queue
 * (https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html, "Give permission to the
 * Amazon SNS topic to send messages to the Amazon SQS queue").
 */
export function queuePolicyDocument(queueArn: string, topicArns: readonly string[]): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "OwnTopicsSend",
                Effect: "Allow",
                Principal: { Service: "sns.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: { ArnEquals: { "aws:SourceArn": [...topicArns] } },
            },
        ],
    };
}

/**
 * The messaging key's policy. The account administers it through IAM (the task roles' grants above take
 * effect through this statement); SNS may generate data keys and decrypt with it for the stack's topics only:
 * SNS needs both to deliver to a queue encrypted with a customer managed key
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html,
 * "Enable compatibility between AWS services such as Amazon SNS and queues with encryption").
 */
export function keyPolicyDocument(ctx: { partition: string; account: string; topicArnPattern: string }): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersTheKeyThroughIam",
                Effect: "Allow",
                Principal: { AWS: `arn:${ctx.partition}:iam::${ctx.account}:root` },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "StackTopicsDeliverToEncryptedQueues",
                Effect: "Allow",
                Principal: { Service: "sns.amazonaws.com" },
                Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
                Resource: "*",
                Condition: {
                    StringEquals: { "aws:SourceAccount": ctx.account },
                    ArnLike: { "aws:SourceArn": ctx.topicArnPattern },
                },
            },
        ],
    };
}
