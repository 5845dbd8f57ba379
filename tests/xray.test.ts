/**
 * Traces in AWS: the ADOT collector beside every service when the stack traces, the services pointed at
 * it, X-Ray's permission on the task role; nothing of it when the stack does not trace.
 */
import * as assert from "assert";
import { FARGATE_SIZES } from "../core/fargate";
import { SERVICE_CONNECT_PROXY } from "../core/fargate";
import { SIDECAR_MEMORY, serviceContainerMemory } from "../core/taskContainers";
import { collectorConfig, collectorContainer, tracingEnvironment } from "../core/tracing";
import { loadSettings, type Settings } from "../config";
import { catalog } from "../catalog";
import { runBerth, stackConfig, type Harness } from "./support/pulumi";
import { T } from "./support/types";

interface Container {
    name: string;
    image: string;
    essential: boolean;
    memory: number;
    user: string;
    readonlyRootFilesystem: boolean;
    environment: Array<{ name: string; value: string }>;
    dependsOn?: Array<{ containerName: string; condition: string }>;
    healthCheck?: { command: string[] };
    logConfiguration: { logDriver: string; options: Record<string, string> };
    portMappings: unknown[];
}

const envOf = (c: Container) => Object.fromEntries(c.environment.map((e) => [e.name, e.value]));

describe("the collector's configuration", () => {
    const config = collectorConfig("eu-west-1") as any;

    it("names only components it defines, with the memory limiter first and below the container's limit", () => {
        const pipeline = config.service.pipelines.traces;
        for (const [kind, names] of [
            ["receivers", pipeline.receivers],
            ["processors", pipeline.processors],
            ["exporters", pipeline.exporters],
            ["extensions", config.service.extensions],
        ]) {
            for (const name of names as string[]) {
                assert.ok(name in config[kind], `${kind} ${name} is used but not defined`);
            }
            assert.deepStrictEqual(Object.keys(config[kind]).sort(), [...(names as string[])].sort(), `${kind} defined but unused`);
        }
        assert.strictEqual(pipeline.processors[0], "memory_limiter", "the collector's docs put the memory limiter first");
        const limiter = config.processors.memory_limiter;
        assert.ok(limiter.limit_mib < collectorContainer("eu-west-1").memory!, "the limiter must refuse spans before ECS kills the container");
        assert.ok(limiter.spike_limit_mib < limiter.limit_mib);
        assert.ok(config.processors["batch/traces"].send_batch_size <= 50, "PutTraceSegments takes at most 50 segments");
    });

    it("listens on loopback only, where the services send, and indexes the request id for X-Ray", () => {
        const endpoint = new URL(tracingEnvironment(1).OTEL_EXPORTER_OTLP_ENDPOINT);
        assert.strictEqual(config.receivers.otlp.protocols.http.endpoint, `${endpoint.hostname}:${endpoint.port}`);
        assert.strictEqual(endpoint.hostname, "127.0.0.1");
        assert.deepStrictEqual(Object.keys(config.receivers.otlp.protocols), ["http"]);
        assert.match(config.extensions.health_check.endpoint, /^127\.0\.0\.1:/);
        assert.strictEqual(config.exporters.awsxray.region, "eu-west-1");
        assert.deepStrictEqual(config.exporters.awsxray.indexed_attributes, ["request_id"]);
    });

    it("leaves the service enough memory in Fargate's smallest task of every size, collector and readiness gate included", () => {
        const collector = collectorContainer("eu-west-1");
        for (const sizes of Object.values(FARGATE_SIZES)) {
            const smallest = Math.min(...sizes);
            const left = serviceContainerMemory(smallest, [collector, { memory: SIDECAR_MEMORY }]);
            assert.ok(left >= smallest / 2, `a ${smallest} MiB task leaves the service ${left} MiB`);
        }
    });
});

const runs: Array<[string, string, Record<string, string>]> = [
    ["Pulumi.prod.yaml", "prod", stackConfig("prod")],
    ["Pulumi.dev.yaml", "dev", stackConfig("dev")],
    ["Pulumi.dev.yaml with tracing on", "dev", { ...stackConfig("dev"), "berth:tracing": "true", "berth:tracingSampleRatio": "0.5" }],
];

for (const [title, stack, config] of runs) {
    describe(`traces in AWS, ${title}`, () => {
        let h: Harness;
        let settings: Settings;
        const containersOf = (service: string): Container[] => JSON.parse(h.one(T.taskDefinition, `${service}-task`).inputs.containerDefinitions);

        before(async () => {
            settings = loadSettings(config, { project: "berth", stack }, catalog);
            ({ h } = await runBerth(config, { stack }));
        });

        it("runs a collector beside every service when the stack traces, and none when it does not", () => {
            for (const service of catalog) {
                const containers = containersOf(service.name);
                const own = containers.find((c) => c.name === service.name)!;
                const others = containers.filter((c) => c.image !== own.image);
                const xray = h.ofType(T.rolePolicy).filter((p) => p.name === `${service.name}-xray-policy`);
                if (!settings.tracing) {
                    assert.deepStrictEqual(others, [], `${service.name} runs a sidecar of another image`);
                    assert.deepStrictEqual(
                        Object.keys(envOf(own)).filter((k) => k.startsWith("OTEL_")),
                        [],
                    );
                    assert.deepStrictEqual(xray, []);
                    continue;
                }
                assert.strictEqual(others.length, 1, `${service.name}: ${others.map((c) => c.name).join(", ")}`);
                const collector = others[0];
                // A tag can be pushed again; a digest names one image for good.
                assert.match(collector.image, /^public\.ecr\.aws\/aws-observability\/aws-otel-collector@sha256:[0-9a-f]{64}$/, "pinned by digest");
                assert.strictEqual(collector.essential, false, "a collector that stops must not stop the service");
                assert.strictEqual(collector.readonlyRootFilesystem, true);
                assert.ok(Number.isInteger(collector.memory) && collector.memory > 0);
                assert.match(collector.user, /^[1-9][0-9]*:[1-9][0-9]*$/);
                assert.deepStrictEqual(collector.portMappings, [], "nothing outside the task reaches the collector");
                assert.deepStrictEqual(collector.healthCheck?.command, ["CMD", "/healthcheck"]);
                assert.strictEqual(collector.logConfiguration.logDriver, "awslogs");
                assert.strictEqual(collector.logConfiguration.options["awslogs-group"], own.logConfiguration.options["awslogs-group"]);
                assert.notStrictEqual(collector.logConfiguration.options["awslogs-stream-prefix"], own.logConfiguration.options["awslogs-stream-prefix"]);

                const received = JSON.parse(envOf(collector).AOT_CONFIG_CONTENT);
                const sent = new URL(envOf(own).OTEL_EXPORTER_OTLP_ENDPOINT);
                assert.strictEqual(
                    received.receivers.otlp.protocols.http.endpoint,
                    `${sent.hostname}:${sent.port}`,
                    "the service sends where the collector listens",
                );
                assert.strictEqual(received.exporters.awsxray.region, settings.region);
                assert.strictEqual(envOf(own).OTEL_TRACES_SAMPLER, "parentbased_traceidratio");
                assert.strictEqual(Number(envOf(own).OTEL_TRACES_SAMPLER_ARG), settings.tracingSampleRatio);
                assert.deepStrictEqual(
                    own.dependsOn?.filter((d) => d.containerName === collector.name),
                    [{ containerName: collector.name, condition: "START" }],
                );

                assert.strictEqual(xray.length, 1, `${service.name}: no X-Ray permission`);
                assert.strictEqual(
                    xray[0].inputs.role,
                    `${service.name}-task-role-${xray[0].inputs.role.split("-").pop()}`,
                    "on the task role, not the execution role",
                );
                assert.deepStrictEqual(JSON.parse(xray[0].inputs.policy).Statement, [{ Effect: "Allow", Action: ["xray:PutTraceSegments"], Resource: "*" }]);

                const td = h.one(T.taskDefinition, `${service.name}-task`);
                const total = containers.reduce((sum, c) => sum + c.memory, 0);
                assert.ok(total + SERVICE_CONNECT_PROXY.memoryMiB <= Number(td.inputs.memory), `${total} MiB of containers in a ${td.inputs.memory} MiB task`);
            }
        });
    });
}
