/**
 * The worker kind (AWS Copilot's Worker Service): the catalogue's checks, and under Pulumi's mocks the
 * topics, queues, subscriptions, grants, scaling and alarms the program registers for it, with the task
 * roles' policies evaluated as IAM would (tests/support/iamPolicy.ts).
 */
import * as assert from "assert";
import { declarations, resolveCatalog, serviceEnvironment, type ServiceDeclaration } from "../catalog";
import { messagingEnvironment, QUEUE_VARIABLE, TOPICS_VARIABLE } from "../catalog/messaging";
import { MAX_RECEIVE_COUNT } from "../core/messaging";
import { evaluateRules } from "./support/awsRules";
import { evaluate, tagged, type Document } from "./support/iamPolicy";
import { ACCOUNT, REGION, runBerth, stackConfig, type Harness, type Recorded } from "./support/pulumi";

import { T } from "./support/types";

/** The shipped services with products publishing, and a worker subscribed, built from products' Dockerfile. */
function withWorker(worker: Partial<ServiceDeclaration> = {}): ServiceDeclaration[] {
    return [
        ...declarations
            .filter((d) => d.kind !== "worker")
            .map((d) => (d.name === "products" ? { ...d, publishes: ["product-changed"] } : { ...d, publishes: undefined })),
        {
            name: "audit",
            kind: "worker",
            subscribes: ["product-changed"],
            build: { dockerfile: "services/products/Dockerfile" },
            ...worker,
        } as ServiceDeclaration,
    ];
}

function catalogueError(decls: ServiceDeclaration[]): string {
    try {
        resolveCatalog(decls);
    } catch (err) {
        return (err as Error).message;
    }
    return "accepted";
}

describe("workers in the catalogue", () => {
    it("takes a worker that subscribes to a published topic, with no port and no HTTP probe", () => {
        const audit = resolveCatalog(withWorker()).find((s) => s.name === "audit")!;
        assert.strictEqual(audit.kind, "worker");
        assert.deepStrictEqual(audit.subscribes, ["product-changed"]);
        const env = serviceEnvironment(audit, [audit], { addressOf: () => "http://x" });
        assert.deepStrictEqual(env, {}, "a worker gets no PORT");
    });

    const refused: Array<[string, ServiceDeclaration[], RegExp]> = [
        ["a worker subscribing to nothing", withWorker({ subscribes: [] }), /"subscribes" is \[\]; allowed: at least one topic/],
        ["a worker without subscribes", withWorker({ subscribes: undefined }), /"subscribes" is \[\]; allowed/],
        [
            "a topic nobody publishes",
            withWorker({ subscribes: ["order-placed"] }),
            /"subscribes" names "order-placed", which no service publishes; allowed: "product-changed"/,
        ],
        ["a bad topic name", withWorker({ subscribes: ["Product_Changed"] }), /"subscribes" holds "Product_Changed"; allowed: a topic name/],
        ["a topic listed twice", withWorker({ subscribes: ["product-changed", "product-changed"] }), /"subscribes" lists "product-changed" twice/],
        ["a port on a worker", withWorker({ port: 9000 }), /service "audit": "port" is 9000; allowed: nothing on a worker/],
        ["routes on a worker", withWorker({ routes: ["/audit"] }), /"routes" is \["\/audit"\]; allowed: nothing on a worker/],
        ["a canary worker", withWorker({ rollout: "canary" }), /"rollout" is "canary"; allowed: "rolling" for a worker/],
        ["a bad worker name", withWorker({ name: "Audit_Log" }), /"name" must be 1-16 lowercase letters/],
        ["an unknown kind", withWorker({ kind: "cron" as never }), /"kind" is "cron"; allowed: public, backend, worker/],
    ];
    for (const [what, decls, message] of refused) {
        it(`refuses ${what}, naming the entry and the key`, () => {
            assert.match(catalogueError(decls), message);
        });
    }

    it("refuses subscribes on a backend and a call to a worker", () => {
        const backend = withWorker().map((d) => (d.name === "users" ? { ...d, subscribes: ["product-changed"] } : d));
        assert.match(catalogueError(backend), /service "users": "subscribes" is for workers/);
        const calling = withWorker().map((d) => (d.name === "users" ? { ...d, calls: ["audit"] } : d));
        assert.match(catalogueError(calling), /"calls" names "audit"; allowed: another backend/);
    });

    it("gives publishers their topics and workers their queue, in the same variables the kit reads", () => {
        const services = resolveCatalog(withWorker());
        const where = { topic: (t: string) => `topic:${t}`, queue: (w: string) => `queue:${w}` };
        const products = services.find((s) => s.name === "products")!;
        const audit = services.find((s) => s.name === "audit")!;
        assert.deepStrictEqual(messagingEnvironment(products, where, JSON.stringify), { [TOPICS_VARIABLE]: '{"product-changed":"topic:product-changed"}' });
        assert.deepStrictEqual(messagingEnvironment(audit, where, JSON.stringify), { [QUEUE_VARIABLE]: "queue:audit" });
        assert.deepStrictEqual(
            messagingEnvironment(
                services.find((s) => s.name === "users")!,
                where,
                JSON.stringify,
            ),
            {},
        );
    });
});

describe("workers under mocks", function () {
    this.timeout(120_000);
    let h: Harness;
    const dev = () => ({ ...stackConfig("dev"), "berth:services": JSON.stringify({ audit: { maxCount: 3 } }) });

    before(async () => {
        ({ h } = await runBerth(dev(), { services: resolveCatalog(withWorker()) }));
    });

    const one = (type: string, name: string): Recorded => h.one(type, name);
    const documentsOfRole = (roleName: string): Document[] => {
        const role = one(T.role, roleName);
        return h
            .ofType(T.rolePolicy)
            .filter((p) => [role.outputs.name, role.id].includes(p.inputs.role))
            .map((p) => JSON.parse(p.inputs.policy) as Document);
    };

    it("creates one encrypted topic per published topic, and the key lets SNS use it for the stack's topics only", () => {
        const topics = h.ofType(T.topic).filter((t) => t.name.startsWith("berth-topic"));
        assert.deepStrictEqual(
            topics.map((t) => t.inputs.name),
            ["berth-dev-product-changed"],
        );
        const key = one(T.kmsKey, "berth-messaging-key");
        assert.strictEqual(topics[0].inputs.kmsMasterKeyId, key.outputs.arn);
        assert.strictEqual(key.inputs.enableKeyRotation, true);
        const sns = JSON.parse(key.inputs.policy).Statement.find((s: any) => s.Principal?.Service === "sns.amazonaws.com");
        assert.deepStrictEqual(sns.Action, ["kms:GenerateDataKey*", "kms:Decrypt"]);
        assert.deepStrictEqual(sns.Condition, {
            StringEquals: { "aws:SourceAccount": ACCOUNT },
            ArnLike: { "aws:SourceArn": `arn:aws:sns:${REGION}:${ACCOUNT}:berth-dev-*` },
        });
    });

    it("gives the worker an encrypted queue that redrives to an encrypted dead-letter queue, which takes only its queue", () => {
        const key = one(T.kmsKey, "berth-messaging-key");
        const queue = one(T.queue, "berth-audit-queue");
        const dlq = one(T.queue, "berth-audit-dlq");
        for (const q of [queue, dlq]) {
            assert.strictEqual(q.inputs.kmsMasterKeyId, key.outputs.arn, q.name);
        }
        assert.deepStrictEqual(JSON.parse(queue.inputs.redrivePolicy), { deadLetterTargetArn: dlq.outputs.arn, maxReceiveCount: MAX_RECEIVE_COUNT });
        assert.deepStrictEqual(JSON.parse(dlq.inputs.redriveAllowPolicy), { redrivePermission: "byQueue", sourceQueueArns: [queue.outputs.arn] });
        assert.ok(queue.inputs.visibilityTimeoutSeconds > 0 && queue.inputs.receiveWaitTimeSeconds === 20);
    });

    it("lets SNS send to the queue on behalf of the worker's topic only, and subscribes it with raw delivery", () => {
        const queue = one(T.queue, "berth-audit-queue");
        const topic = one(T.topic, "berth-topic-0");
        const policy = one(T.queuePolicy, "berth-audit-queue-policy");
        assert.strictEqual(policy.inputs.queueUrl, queue.outputs.url);
        assert.deepStrictEqual(JSON.parse(policy.inputs.policy).Statement, [
            {
                Sid: "OwnTopicsSend",
                Effect: "Allow",
                Principal: { Service: "sns.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queue.outputs.arn,
                Condition: { ArnEquals: { "aws:SourceArn": [topic.outputs.arn] } },
            },
        ]);
        const subscription = one(T.subscription, "berth-audit-subscription-0");
        assert.deepStrictEqual(
            {
                topic: subscription.inputs.topic,
                protocol: subscription.inputs.protocol,
                endpoint: subscription.inputs.endpoint,
                raw: subscription.inputs.rawMessageDelivery,
            },
            { topic: topic.outputs.arn, protocol: "sqs", endpoint: queue.outputs.arn, raw: true },
        );
        assert.ok(h.waitsFor(subscription, policy), "the subscription comes after the queue admits SNS");
    });

    it("runs the worker as a Fargate service without load balancer, Service Connect or public IP, rolling back on failure", () => {
        const service = one(T.service, "audit-service");
        assert.strictEqual(service.inputs.loadBalancers, undefined);
        assert.strictEqual(service.inputs.serviceConnectConfiguration, undefined);
        assert.strictEqual(service.inputs.networkConfiguration.assignPublicIp, false);
        const privateSubnets = h
            .ofType(T.subnet)
            .filter((s) => s.name.includes("private"))
            .map((s) => s.id);
        assert.ok(service.inputs.networkConfiguration.subnets.length > 0);
        assert.ok(
            service.inputs.networkConfiguration.subnets.every((s: string) => privateSubnets.includes(s)),
            "private subnets only",
        );
        assert.deepStrictEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
        const sg = one(T.sg, "audit-sg");
        assert.deepStrictEqual(
            h.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === sg.id),
            [],
            "nothing connects to a worker",
        );
    });

    it("gives the worker's container no port, and the queue's URL; the publisher gets its topic's ARN", () => {
        const env = (family: string) => {
            const td = h.ofType(T.taskDefinition).find((t) => t.inputs.family === family)!;
            const container = JSON.parse(td.inputs.containerDefinitions)[0];
            return { container, vars: Object.fromEntries(container.environment.map((e: { name: string; value: string }) => [e.name, e.value])) };
        };
        const audit = env("berth-dev-audit");
        assert.deepStrictEqual(audit.container.portMappings, []);
        assert.strictEqual(audit.container.healthCheck, undefined);
        assert.strictEqual(audit.vars.PORT, undefined);
        assert.strictEqual(audit.vars[QUEUE_VARIABLE], one(T.queue, "berth-audit-queue").outputs.url);
        const products = env("berth-dev-products");
        assert.deepStrictEqual(JSON.parse(products.vars[TOPICS_VARIABLE]), { "product-changed": one(T.topic, "berth-topic-0").outputs.arn });
        assert.strictEqual(env("berth-dev-users").vars[TOPICS_VARIABLE], undefined);
    });

    it("lets the publisher's task role publish to exactly its topic, and the worker's consume exactly its queue", () => {
        const key = one(T.kmsKey, "berth-messaging-key").outputs.arn as string;
        const topic = one(T.topic, "berth-topic-0").outputs.arn as string;
        const queue = one(T.queue, "berth-audit-queue").outputs.arn as string;
        const dlq = one(T.queue, "berth-audit-dlq").outputs.arn as string;
        const otherTopic = `arn:aws:sns:${REGION}:${ACCOUNT}:berth-other-product-changed`;
        const otherQueue = `arn:aws:sqs:${REGION}:${ACCOUNT}:berth-other-audit`;
        const otherKey = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`;
        const can = (docs: Document[], action: string, resource: string) =>
            evaluate(docs, { action, resource, context: tagged({ project: "berth", stack: "dev" }) }) === "allow";

        const publisher = documentsOfRole("products-task-role");
        assert.ok(can(publisher, "sns:Publish", topic));
        assert.ok(can(publisher, "kms:GenerateDataKey", key) && can(publisher, "kms:Decrypt", key));
        assert.ok(!can(publisher, "sns:Publish", otherTopic), "another stack's topic");
        assert.ok(!can(publisher, "sqs:ReceiveMessage", queue), "the worker's queue");
        assert.ok(!can(publisher, "kms:Decrypt", otherKey));

        const worker = documentsOfRole("audit-task-role");
        for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]) {
            assert.ok(can(worker, action, queue), action);
            assert.ok(!can(worker, action, otherQueue), `${action} on another queue`);
            assert.ok(!can(worker, action, dlq), `${action} on its dead letters`);
        }
        assert.ok(can(worker, "kms:Decrypt", key) && !can(worker, "kms:Decrypt", otherKey));
        assert.ok(!can(worker, "sqs:SendMessage", queue) && !can(worker, "sqs:PurgeQueue", queue) && !can(worker, "sns:Publish", topic));
        assert.ok(!can(documentsOfRole("users-task-role"), "sns:Publish", topic), "a service that publishes nothing");
    });

    it("scales the worker on its queue's backlog per task, AWS's metric math", () => {
        const policy = one(T.scalingPolicy, "audit-backlog-scaling");
        const metrics = policy.inputs.targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.metrics;
        const visible = metrics.find((m: any) => m.id === "visible");
        assert.strictEqual(visible.metricStat.metric.metricName, "ApproximateNumberOfMessagesVisible");
        assert.deepStrictEqual(visible.metricStat.metric.dimensions, [{ name: "QueueName", value: "berth-dev-audit" }]);
        assert.strictEqual(metrics.find((m: any) => m.returnData).expression, "visible / tasks");
        const target = one(T.scalingTarget, "audit-scaling");
        assert.deepStrictEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [1, 3]);
    });

    it("alarms on any dead letter and on a message waiting too long, to the stack's alarm topic", () => {
        const alarmTopic = h.ofType(T.topic).find((t) => t.name === "berth-alarms")!.outputs.arn;
        const dead = one(T.alarm, "berth-audit-dead-letters");
        assert.deepStrictEqual(
            [dead.inputs.namespace, dead.inputs.metricName, dead.inputs.dimensions, dead.inputs.threshold, dead.inputs.comparisonOperator],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: "berth-dev-audit-dlq" }, 0, "GreaterThanThreshold"],
        );
        const oldest = one(T.alarm, "berth-audit-oldest-message");
        assert.deepStrictEqual([oldest.inputs.metricName, oldest.inputs.dimensions], ["ApproximateAgeOfOldestMessage", { QueueName: "berth-dev-audit" }]);
        for (const alarm of [dead, oldest]) {
            assert.deepStrictEqual(alarm.inputs.alarmActions, [alarmTopic], alarm.name);
        }
    });

    it("meets AWS's SQS and SNS rules, and the rules catch a queue without encryption or dead-letter queue", () => {
        const findings = evaluateRules(h.resources).filter((f) => /^(sqs|sns)-/.test(f.rule));
        assert.ok(findings.filter((f) => f.rule.startsWith("sqs-")).length >= 6);
        assert.deepStrictEqual(
            findings.filter((f) => f.compliance === "NON_COMPLIANT"),
            [],
        );
        const bare = { ...one(T.queue, "berth-audit-queue") };
        bare.inputs = { ...bare.inputs, kmsMasterKeyId: undefined, redrivePolicy: undefined };
        const failing = evaluateRules([bare])
            .filter((f) => f.compliance === "NON_COMPLIANT")
            .map((f) => f.rule)
            .sort();
        assert.deepStrictEqual(failing, ["sqs-queue-dlq-check", "sqs-queue-encrypted"]);
    });

    it("refuses a stack that gives a worker a canary rollout, before any resource", async () => {
        const config = { ...stackConfig("dev"), "berth:services": JSON.stringify({ audit: { rollout: "canary" } }) };
        await assert.rejects(
            runBerth(config, { services: resolveCatalog(withWorker()) }),
            /berth:services\.audit\.rollout is "canary"; allowed: "rolling" for a worker/,
        );
    });
});
