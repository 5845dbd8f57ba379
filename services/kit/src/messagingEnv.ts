/**
 * The environment variables that tell a service where its topics and its queue are: set by the
 * infrastructure (catalog/messaging.ts) and by `npm start`, read by the kit's messaging client. No imports,
 * so that the catalogue may read these names without the AWS SDK.
 */

/**
 * The topics a service may publish to, as JSON from topic name to where it is: an SNS topic ARN in AWS,
 * `http://127.0.0.1:<port>/topics/<name>` under `npm start`.
 * @example {"product-changed":"arn:aws:sns:eu-west-1:123456789012:berth-dev-product-changed"}
 */
export const TOPICS_VARIABLE = "BERTH_TOPICS";

/**
 * A worker's queue: an SQS queue URL in AWS, `http://127.0.0.1:<port>/queues/<worker>` under `npm start`.
 */
export const QUEUE_VARIABLE = "BERTH_QUEUE_URL";
