/**
 * CloudWatch alarms: the stack's alarm topic, and per service the alarms that roll a bad deployment back
 * and those that only notify.
 *
 * Which alarms a service has, and their names and metrics: `alarmDefinitions` (core/alarmRules.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmDefinitions, type AlarmSubject } from "../../core/alarmRules";
import { childName } from "../../core/naming";

export interface ServiceAlarmsArgs extends AlarmSubject<pulumi.Input<string>> {
    /** The SNS topic every alarm notifies, on ALARM and on OK. */
    topicArn: pulumi.Input<string>;
}

/** A service's alarms (`alarmDefinitions`), each notifying the stack's alarm topic. */
export class ServiceAlarms extends pulumi.ComponentResource {
    /** The alarms' names, by whether a deployment rolls back on them. */
    public readonly names: { rollback: string[]; notify: string[] };

    constructor(name: string, args: ServiceAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:alarms:ServiceAlarms", name, {}, opts);
        const definitions = alarmDefinitions(args);
        for (const d of definitions) {
            new aws.cloudwatch.MetricAlarm(
                childName(name, d.role),
                {
                    ...d.args,
                    alarmActions: [args.topicArn],
                    okActions: [args.topicArn],
                },
                { parent: this },
            );
        }
        this.names = {
            rollback: definitions.filter((d) => d.rollback).map((d) => d.args.name),
            notify: definitions.filter((d) => !d.rollback).map((d) => d.args.name),
        };
        this.registerOutputs({});
    }
}

export interface AlarmTopicArgs {
    /**
     * An address SNS sends every alarm to, once its owner confirmed the subscription SNS mails them.
     * @default none: the topic only
     */
    email?: string;
    /**
     * AWS services besides CloudWatch that publish to the topic from this account, as service principals,
     * e.g. `events.rds.amazonaws.com` for the database's event subscriptions.
     * @default []
     */
    publishers?: string[];
}

/**
 * The SNS topic every alarm of the stack notifies, encrypted with a key of its own.
 *
 * Creates: a KMS key (rotated yearly) whose policy lets CloudWatch encrypt messages to the topic, the topic,
 * a topic policy letting this account's CloudWatch alarms publish, and the optional e-mail subscription.
 * CloudWatch cannot publish to a topic encrypted with the AWS managed key `alias/aws/sns`, whose policy no
 * one can change; a customer managed key with a statement for `cloudwatch.amazonaws.com` is what AWS
 * documents (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 * Other `publishers` get the same two grants: RDS event notifications, for one, reach a topic only through its
 * policy (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.GrantingPermissions.html).
 */
export class AlarmTopic extends pulumi.ComponentResource {
    public readonly topicArn: pulumi.Output<string>;

    constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:alarms:AlarmTopic", name, {}, opts);
        const publishers = ["cloudwatch.amazonaws.com", ...(args.publishers ?? [])];
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = caller.arn.apply((arn) => arn.split(":")[1]);
        const key = new aws.kms.Key(
            childName(name, "alarms-key"),
            {
                description: `${name}: encrypts the alarm notifications topic`,
                enableKeyRotation: true,
                deletionWindowInDays: 7,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "AccountAdministersTheKeyThroughIam",
                            Effect: "Allow",
                            Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${caller.accountId}:root` },
                            Action: "kms:*",
                            Resource: "*",
                        },
                        {
                            Sid: "PublishersEncryptToTheTopic",
                            Effect: "Allow",
                            Principal: { Service: publishers },
                            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                            Resource: "*",
                        },
                    ],
                }),
            },
            { parent: this },
        );
        const topic = new aws.sns.Topic(childName(name, "alarms"), { kmsMasterKeyId: key.arn }, { parent: this });
        new aws.sns.TopicPolicy(
            childName(name, "alarms-policy"),
            {
                arn: topic.arn,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "ThisAccountsAlarmsAndEventsPublish",
                            Effect: "Allow",
                            Principal: { Service: publishers },
                            Action: "sns:Publish",
                            Resource: topic.arn,
                            Condition: { StringEquals: { "aws:SourceAccount": caller.accountId } },
                        },
                    ],
                }),
            },
            { parent: this },
        );
        if (args.email !== undefined) {
            new aws.sns.TopicSubscription(
                childName(name, "alarms-email"),
                {
                    topic: topic.arn,
                    protocol: "email",
                    endpoint: args.email,
                },
                { parent: this },
            );
        }
        this.topicArn = topic.arn;
        this.registerOutputs({ topicArn: this.topicArn });
    }
}
