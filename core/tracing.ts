/**
 * Traces in AWS: every task runs the AWS Distro for OpenTelemetry (ADOT) collector beside the service. The
 * service exports its spans over OTLP/HTTP to the collector on the task's loopback (containers of an
 * `awsvpc` task share one network namespace), and the collector sends them to AWS X-Ray. Pure values and
 * functions; `createTaskDefinition` adds the container, the variables and the task role's permission.
 */
import type { ContainerSpec } from "./taskContainers";

/**
 * The collector's image, pinned to the digest of one release rather than a tag: a new collector release
 * changes the config schema and the X-Ray exporter's behaviour (the trace-id check below is a feature gate
 * of a given release), a tag can be pushed again, and a task definition that names a moving reference
 * changes what runs with every new task, outside any deployment or rollback. ECS takes either
 * `repository:tag` or `repository@digest` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html,
 * `image`); the digest is the one. The release is v0.49.0 (July 2026), OpenTelemetry Collector v0.156.0
 * (https://github.com/aws-observability/aws-otel-collector/blob/v0.49.0/docs/releases/v0.49.0.md). Its
 * release notes publish no digest: this one is the multi-architecture image index (amd64 and arm64) that
 * public pins of `public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0` and Dependabot's pin of
 * `amazon/aws-otel-collector:v0.49.0` (alphagov/pay-adot, Dockerfile) agree on; check it when moving the
 * release with `docker buildx imagetools inspect public.ecr.aws/aws-observability/aws-otel-collector:<version>`
 * and move it deliberately, as a change of its own.
 */
export const COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector@sha256:d2bdfff2c377c3d71d78bd5d9ce9862fd535b12134a5739d87a07801297cf9fd";

/** The collector's container name in each task. */
export const COLLECTOR_CONTAINER = "otel-collector";

/**
 * The collector's memory hard limit in MiB, taken from the task's memory like every sidecar's. A traces-only
 * pipeline holds at most a few batches; `memory_limiter` refuses new spans at 80 % of it (the services then
 * drop spans, never requests) instead of letting ECS kill the container at the limit. AWS's own Fargate
 * sidecar template gives the collector 512 MiB because it also scrapes and sends metrics
 * (https://github.com/aws-observability/aws-otel-collector/blob/main/deployment-template/ecs/aws-otel-fargate-sidecar-deployment-cfn.yaml).
 */
export const COLLECTOR_MEMORY = 128;

/**
 * The image's own non-root user, `aoc` (uid and gid 4317, the image's Dockerfile `USER`:
 * https://github.com/aws-observability/aws-otel-collector/blob/main/cmd/awscollector/Dockerfile). Named in the
 * task definition too, because ECS's non-root config rules read the task definition, not the image.
 */
export const COLLECTOR_USER = "4317:4317";

/** OTLP over HTTP, the receiver's port, bound to loopback only. */
export const OTLP_HTTP_PORT = 4318;
/** The collector's health_check extension, which the image's `/healthcheck` binary asks on 127.0.0.1:13133. */
const HEALTH_CHECK_PORT = 13133;

/** The span attribute the X-Ray exporter makes an annotation of, so that X-Ray can filter traces by it. */
export const REQUEST_ID_ANNOTATION = "request_id";

/**
 * The X-Ray action the collector calls: its awsxray exporter sends segments with `PutTraceSegments` and
 * nothing else (`PutTelemetryRecords` only with `telemetry.enabled`, which this config leaves off:
 * https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/exporter/awsxrayexporter). The
 * AWS managed `AWSXRayDaemonWriteAccess` that the ADOT and X-Ray docs attach
 * (https://aws-otel.github.io/docs/setup/permissions,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html) also grants
 * `PutTelemetryRecords` and the sampling reads (`GetSamplingRules`, `GetSamplingTargets`,
 * `GetSamplingStatisticSummaries`) for X-Ray SDKs that ask the daemon for sampling rules; Berth samples in the
 * services (`tracingSampleRatio`) and grants only what is called. X-Ray's write actions take no resource
 * ARN (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html): "*".
 */
export const XRAY_ACTIONS = ["xray:PutTraceSegments"] as const;

/** The variables the service's container gets when tracing is on (see services/kit/src/tracing.ts). */
export const TRACING_VARIABLES = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"] as const;

/**
 * What the service's container is told: export OTLP/HTTP protobuf to the collector on loopback, and keep a
 * `sampleRatio` share of the traces it starts. `parentbased_traceidratio` makes a backend follow the
 * gateway's decision carried in `traceparent`, so a trace is kept or dropped whole
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration).
 */
export function tracingEnvironment(sampleRatio: number): Record<(typeof TRACING_VARIABLES)[number], string> {
    return {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${OTLP_HTTP_PORT}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: String(sampleRatio),
    };
}

/**
 * The collector's configuration (YAML; JSON is YAML), given in `AOT_CONFIG_CONTENT`, which the ADOT
 * collector reads in place of its config file
 * (https://github.com/aws-observability/aws-otel-collector/blob/main/pkg/config/config_factory.go). Built on
 * the image's own `config/ecs/ecs-xray.yaml`: OTLP in, the task's ECS resource attributes added, batches of
 * 50 (PutTraceSegments' limit per call), X-Ray out; with these differences:
 * - the receiver listens on 127.0.0.1 only (HTTP only: the services export OTLP/HTTP): nothing outside the
 *   task can send it spans;
 * - `memory_limiter` first, as the collector's docs ask, sized from `COLLECTOR_MEMORY`;
 * - `request_id` is indexed as an X-Ray annotation (filter expression `annotation.request_id = "..."`), so
 *   that a request id from a log line or a client finds its trace;
 * - the collector's own metrics endpoint is off: no port but the receiver's and the health check's.
 */
export function collectorConfig(region: string): Record<string, unknown> {
    return {
        extensions: {
            health_check: { endpoint: `127.0.0.1:${HEALTH_CHECK_PORT}` },
        },
        receivers: {
            otlp: { protocols: { http: { endpoint: `127.0.0.1:${OTLP_HTTP_PORT}` } } },
        },
        processors: {
            memory_limiter: {
                check_interval: "1s",
                limit_mib: Math.floor(COLLECTOR_MEMORY * 0.8),
                spike_limit_mib: Math.floor(COLLECTOR_MEMORY * 0.2),
            },
            // The task's cluster, task ARN and launch type from the task metadata endpoint, which ECS gives
            // every container (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html).
            resourcedetection: { detectors: ["env", "ecs"], timeout: "2s", override: false },
            "batch/traces": { timeout: "1s", send_batch_size: 50 },
        },
        exporters: {
            awsxray: { region, indexed_attributes: [REQUEST_ID_ANNOTATION] },
        },
        service: {
            extensions: ["health_check"],
            pipelines: {
                traces: {
                    receivers: ["otlp"],
                    processors: ["memory_limiter", "resourcedetection", "batch/traces"],
                    exporters: ["awsxray"],
                },
            },
            telemetry: { metrics: { level: "none" } },
        },
    };
}

/**
 * The collector's container. Not essential: traces are a diagnostic, and a collector that stops (a bad
 * config, its memory limit) must not stop the task that serves requests; the services then drop spans,
 * and its health check (the image's `/healthcheck`, https://github.com/aws-observability/aws-otel-collector/blob/main/cmd/healthcheck/main.go)
 * shows it in `describe-tasks` and the console. Its root file system stays read-only: in a container
 * (`RUN_IN_CONTAINER`, set by the image) the collector logs to stderr instead of its log file
 * (https://github.com/aws-observability/aws-otel-collector/blob/main/pkg/logger/logger.go) and this config
 * writes nothing (no file storage or file exporter); teams run it so under Security Hub's ECS.5
 * (https://github.com/guardian/dotcom-rendering/pull/16653).
 */
export function collectorContainer(region: string): ContainerSpec {
    return {
        name: COLLECTOR_CONTAINER,
        image: COLLECTOR_IMAGE,
        essential: false,
        memory: COLLECTOR_MEMORY,
        user: COLLECTOR_USER,
        environment: { AOT_CONFIG_CONTENT: JSON.stringify(collectorConfig(region)) },
        healthCheckCommand: ["CMD", "/healthcheck"],
    };
}
