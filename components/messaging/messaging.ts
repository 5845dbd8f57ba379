import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName, messagingNamePrefix } from "../../core/naming";

export { messagingNamePrefix };
import {
    DATA_KEY_REUSE_SECONDS,
    MAX_RECEIVE_COUNT,
    QUEUE_ALARMS,
    queueAlarmNames,
    RECEIVE_WAIT_SECONDS,
    RETENTION_SECONDS,
    VISIBILITY_TIMEOUT_SECONDS,
} from "../../core/messaging";
import { consumeStatements, keyPolicyDocument, publishStatements, queuePolicyDocument } from "../../core/messagingPolicies";

/** The account the stack deploys to, from the caller's identity. */
interface Account {
    partition: pulumi.Output<string>;
    id: pulumi.Output<string>;
}

/** SQS queue names stop at 80 characters (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html). */
const MAX_QUEUE_NAME = 80;

export interface MessagingArgs {
    /** The start of every topic's and queue's name, the stack's: `berth-dev-`. */
    namePrefix: string;
    /** The region and account, for the key policy's topic ARNs. */
    region: string;
    /** The topics the catalogue's services publish. */
    topics: readonly string[];
    /** Each worker: its name, the topics it subscribes to, and the base of its alarms' names (its task family). */
    workers: ReadonlyArray<{ name: string; subscribes: readonly string[]; family: string }>;
    /** The SNS topic every alarm notifies. */
    alarmTopicArn: pulumi.Input<string>;
    /**
     * Days KMS waits before it deletes the key once the stack is destroyed (7-30).
     * @default 7
     */
    keyDeletionWindowDays?: number;
}

/** One worker's queue, as its service needs it. */
export interface WorkerQueue {
    url: pulumi.Output<string>;
    arn: pulumi.Output<string>;
    name: pulumi.Output<string>;
    deadLetterArn: pulumi.Output<string>;
    deadLetterName: pulumi.Output<string>;
    /** The alarms' names: on the dead-letter queue and on the oldest message's age. */
    alarmNames: string[];
}

type Worker = MessagingArgs["workers"][number];

/**
 * The stack's topics and the workers' queues (AWS Copilot's Worker Service, on SNS and SQS).
 *
 * Creates: one KMS key with rotation for all of them, whose policy lets SNS use it for the stack's topics;
 * an SNS topic per published topic, encrypted with it; per worker an SQS queue and its dead-letter queue,
 * both encrypted with it, the queue redriving to the dead-letter queue after `MAX_RECEIVE_COUNT` receives; the
 * queue's policy admitting SNS on behalf of the worker's topics only; a subscription per topic with raw
 * message delivery (the worker reads the publisher's body as sent); and two alarms per worker, on any
 * message in the dead-letter queue and on the age of the oldest message, to the stack's alarm topic.
 * `publishPolicy` and `consumePolicy` give a service's task role exactly its topics or its queue.
 */
export class Messaging extends pulumi.ComponentResource {
    public readonly keyArn: pulumi.Output<string>;
    /** Topic name to its ARN. */
    public readonly topicArns: ReadonlyMap<string, pulumi.Output<string>>;
    /** Worker name to its queue. */
    public readonly queues: ReadonlyMap<string, WorkerQueue>;

    private readonly name: string;

    constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:messaging:Messaging", name, {}, opts);
        this.name = name;
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const account = { partition: caller.arn.apply((arn) => arn.split(":")[1]), id: caller.accountId };
        const key = this.createKey(args, account);
        this.keyArn = key.arn;
        this.topicArns = new Map(
            args.topics.map((topic, i) => [
                topic,
                new aws.sns.Topic(
                    childName(name, "topic", i),
                    {
                        name: `${args.namePrefix}${topic}`,
                        kmsMasterKeyId: key.arn,
                    },
                    { parent: this },
                ).arn,
            ]),
        );
        this.queues = new Map(args.workers.map((worker) => [worker.name, this.createQueue(worker, key, args, account)]));
        this.registerOutputs({ keyArn: this.keyArn });
    }

    /** The policy document a publisher's task role gets: `sns:Publish` on exactly `topics`, and the key. */
    publishPolicy(topics: readonly string[]): pulumi.Output<string> {
        const arns = topics.map((t) => this.topicArn(t));
        return pulumi
            .all([pulumi.all(arns), this.keyArn])
            .apply(([topicArns, keyArn]) => JSON.stringify({ Version: "2012-10-17", Statement: publishStatements(topicArns, keyArn) }));
    }

    /** The policy document a worker's task role gets: consume exactly its queue, decrypt with the key. */
    consumePolicy(worker: string): pulumi.Output<string> {
        const queue = this.queues.get(worker);
        if (!queue) {
            throw new Error(`Messaging "${this.name}": no queue for worker "${worker}"`);
        }
        return pulumi
            .all([queue.arn, this.keyArn])
            .apply(([queueArn, keyArn]) => JSON.stringify({ Version: "2012-10-17", Statement: consumeStatements(queueArn, keyArn) }));
    }

    /** A topic's ARN; throws for a topic the stack does not have. */
    topicArn(topic: string): pulumi.Output<string> {
        const arn = this.topicArns.get(topic);
        if (!arn) {
            throw new Error(`Messaging "${this.name}": no topic "${topic}"; the stack has ${[...this.topicArns.keys()].join(", ")}`);
        }
        return arn;
    }

    private createKey(args: MessagingArgs, account: Account): aws.kms.Key {
        return new aws.kms.Key(
            childName(this.name, "messaging-key"),
            {
                description: `${this.name}: encrypts the stack's topics and queues`,
                enableKeyRotation: true,
                deletionWindowInDays: args.keyDeletionWindowDays ?? 7,
                policy: pulumi.all([account.partition, account.id]).apply(([partition, id]) =>
                    JSON.stringify(
                        keyPolicyDocument({
                            partition,
                            account: id,
                            topicArnPattern: `arn:${partition}:sns:${args.region}:${id}:${args.namePrefix}*`,
                        }),
                    ),
                ),
            },
            { parent: this },
        );
    }

    private createQueue(worker: Worker, key: aws.kms.Key, args: MessagingArgs, account: Account): WorkerQueue {
        const base = childName(this.name, worker.name);
        const { deadLetters, queue } = this.createQueues(base, worker, key, args, account);
        this.subscribe(base, worker, queue);
        const alarmNames = this.createQueueAlarms(base, worker, args, queue, deadLetters);
        return { url: queue.url, arn: queue.arn, name: queue.name, deadLetterArn: deadLetters.arn, deadLetterName: deadLetters.name, alarmNames };
    }

    /** The worker's queue, encrypted with the key, and its dead-letter queue. */
    private createQueues(
        base: string,
        worker: Worker,
        key: aws.kms.Key,
        args: MessagingArgs,
        account: Account,
    ): { deadLetters: aws.sqs.Queue; queue: aws.sqs.Queue } {
        const queueName = (suffix: string) => `${args.namePrefix}${worker.name}`.slice(0, MAX_QUEUE_NAME - suffix.length) + suffix;
        const encryption = { kmsMasterKeyId: key.arn, kmsDataKeyReusePeriodSeconds: DATA_KEY_REUSE_SECONDS };
        // The worker's queue alone may send here; its ARN follows from its name, which the queue below takes
        // after this one exists (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html, redrive allow policy).
        const queueArn = pulumi.interpolate`arn:${account.partition}:sqs:${args.region}:${account.id}:${queueName("")}`;
        const deadLetters = new aws.sqs.Queue(
            childName(base, "dlq"),
            {
                name: queueName("-dlq"),
                messageRetentionSeconds: RETENTION_SECONDS.deadLetters,
                redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queueArn] }),
                ...encryption,
            },
            { parent: this },
        );
        const queue = new aws.sqs.Queue(
            childName(base, "queue"),
            {
                name: queueName(""),
                visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
                receiveWaitTimeSeconds: RECEIVE_WAIT_SECONDS,
                messageRetentionSeconds: RETENTION_SECONDS.queue,
                redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: MAX_RECEIVE_COUNT }),
                ...encryption,
            },
            { parent: this },
        );
        return { deadLetters, queue };
    }

    /** The queue's policy letting its topics send, and its subscriptions to them. */
    private subscribe(base: string, worker: Worker, queue: aws.sqs.Queue): void {
        const topicArns = worker.subscribes.map((t) => this.topicArn(t));
        const policy = new aws.sqs.QueuePolicy(
            childName(base, "queue-policy"),
            {
                queueUrl: queue.url,
                policy: pulumi.all([queue.arn, pulumi.all(topicArns)]).apply(([arn, topics]) => JSON.stringify(queuePolicyDocument(arn, topics))),
            },
            { parent: this },
        );
        worker.subscribes.forEach(
            (topic, i) =>
                new aws.sns.TopicSubscription(
                    childName(base, "subscription", i),
                    {
                        topic: this.topicArn(topic),
                        protocol: "sqs",
                        endpoint: queue.arn,
                        // The worker gets the body as published, not wrapped in SNS's JSON envelope
                        // (https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html).
                        rawMessageDelivery: true,
                    },
                    { parent: this, dependsOn: [policy] },
                ),
        );
    }

    /** Alarms on dead letters and on the oldest message's age; returns their names. */
    private createQueueAlarms(base: string, worker: Worker, args: MessagingArgs, queue: aws.sqs.Queue, deadLetters: aws.sqs.Queue): string[] {
        const names = queueAlarmNames(worker.family);
        const alarmNames = [names.deadLetters, names.oldestMessage];
        const notify = { alarmActions: [args.alarmTopicArn], okActions: [args.alarmTopicArn], treatMissingData: "notBreaching" };
        new aws.cloudwatch.MetricAlarm(
            childName(base, "dead-letters"),
            {
                name: alarmNames[0],
                alarmDescription: `${worker.name}: messages failed ${MAX_RECEIVE_COUNT} receives and wait in its dead-letter queue`,
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                dimensions: { QueueName: deadLetters.name },
                statistic: "Maximum",
                period: QUEUE_ALARMS.periodSeconds,
                evaluationPeriods: 1,
                threshold: 0,
                comparisonOperator: "GreaterThanThreshold",
                ...notify,
            },
            { parent: this },
        );
        new aws.cloudwatch.MetricAlarm(
            childName(base, "oldest-message"),
            {
                name: alarmNames[1],
                alarmDescription: `${worker.name}: a message has waited more than ${QUEUE_ALARMS.oldestMessageSeconds} s in its queue`,
                namespace: "AWS/SQS",
                metricName: "ApproximateAgeOfOldestMessage",
                dimensions: { QueueName: queue.name },
                statistic: "Maximum",
                period: QUEUE_ALARMS.periodSeconds,
                evaluationPeriods: QUEUE_ALARMS.oldestEvaluationPeriods,
                threshold: QUEUE_ALARMS.oldestMessageSeconds,
                comparisonOperator: "GreaterThanThreshold",
                ...notify,
            },
            { parent: this },
        );
        return alarmNames;
    }
}
