/**
 * The timings and limits of the workers' queues: one source for the infrastructure (components/messaging/),
 * the local broker (scripts/localBroker.ts) and the kit's defaults. Pure.
 */

/**
 * Receives of one message without a delete after which SQS moves it to the dead-letter queue. AWS suggests a
 * count high enough for retries, since 1 sends a message there after one failed receive (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 */
export const MAX_RECEIVE_COUNT = 5;

/**
 * Seconds a received message stays hidden from other consumers before SQS delivers it again, unless the
 * worker deletes it or extends it (the kit extends it while a handler runs: services/kit/src/messaging.ts).
 */
export const VISIBILITY_TIMEOUT_SECONDS = 60;

/** Seconds a receive waits for a message: SQS's longest long poll (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html). */
export const RECEIVE_WAIT_SECONDS = 20;

/** Four days on the queue (SQS's default), fourteen, its maximum, in the dead-letter queue for a look and a redrive. */
export const RETENTION_SECONDS = { queue: 4 * 86_400, deadLetters: 14 * 86_400 } as const;

/**
 * Seconds SQS reuses a data key before it calls KMS again: the longest it allows, 24 hours, keeps KMS
 * requests (and their cost) to a few a day per consumer
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html, "data key reuse period").
 */
export const DATA_KEY_REUSE_SECONDS = 86_400;

/** The alarms of a worker's queue: any dead letter, and a message waiting longer than a quarter of an hour. */
export const QUEUE_ALARMS = { oldestMessageSeconds: 900, periodSeconds: 60, oldestEvaluationPeriods: 5 } as const;

/**
 * The names of a worker's queue alarms, from its task family (`berth-dev-product-events`): any message in its
 * dead-letter queue, and its oldest message's age. `berth status` finds them by these names.
 */
export function queueAlarmNames(family: string): { deadLetters: string; oldestMessage: string } {
    return { deadLetters: `${family}-dead-letters`, oldestMessage: `${family}-oldest-message` };
}

/** How many alarms each worker's queue has, one metric each. */
export const QUEUE_ALARM_COUNT = Object.keys(queueAlarmNames("")).length;
