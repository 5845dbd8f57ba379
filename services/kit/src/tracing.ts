/**
 * OpenTelemetry tracing for every service, the gateway included: one tracer provider per process, exporting
 * spans over OTLP/HTTP when an endpoint is configured, and nothing at all otherwise.
 *
 * Instrumentation is explicit (server spans in `createService`'s hooks and in the gateway, client spans for
 * the gateway's upstream calls, database spans in `Database.query`) rather than OpenTelemetry's
 * auto-instrumentation: those libraries patch modules as `require` loads them, which an esbuild bundle
 * (what each image runs) never does for the modules it inlines, and `instrumentation-http` wraps every
 * request of node:http with work the gateway's hot path does not want. Explicit spans cost nothing when
 * tracing is off (no provider, no hooks) and follow the request id and the gateway's retries exactly.
 *
 * Configuration is OpenTelemetry's own environment variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): where spans go. Unset: no
 *   tracing, unless `OTEL_TRACES_EXPORTER=console`. (The specification's default of localhost:4318 is not
 *   assumed: a service that nobody asked to trace stays silent.)
 * - `OTEL_EXPORTER_OTLP_PROTOCOL` (or `..._TRACES_PROTOCOL`): `http/protobuf` (default) or `http/json`.
 * - `OTEL_TRACES_EXPORTER`: `otlp` (default), `console` (prints spans to stdout), `none`.
 * - `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*`, `OTEL_SERVICE_NAME`,
 *   `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SDK_DISABLED`: read by the SDK as the specification says.
 */
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace, type Context, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

/**
 * The span attribute that carries the request id (`x-request-id`), on every server and client span. No dots
 * or dashes: the X-Ray exporter turns it into an annotation only if it is listed in `indexed_attributes`,
 * and X-Ray filter expressions take annotation keys of letters, digits and underscores
 * (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-annotations).
 */
export const REQUEST_ID_ATTRIBUTE = "request_id";

/** How long shutdown waits for the last spans to leave; the rest is dropped rather than holding the exit. */
export const TRACING_FLUSH_MS = 2000;

/** The values `OTEL_EXPORTER_OTLP_PROTOCOL` may take here. */
const PROTOCOLS = ["http/protobuf", "http/json"] as const;
const EXPORTERS = ["otlp", "console", "none"] as const;

/** A process's tracing: its tracer, the W3C trace-context propagator, and a flush for shutdown. */
export interface Tracing {
    readonly tracer: Tracer;
    /** Reads and writes `traceparent` and `tracestate`. */
    readonly propagator: W3CTraceContextPropagator;
    /** Exports the spans still buffered, within `TRACING_FLUSH_MS`, and stops the provider. */
    shutdown(): Promise<void>;
}

export interface TracingOptions {
    /** `service.name` of every span, unless `OTEL_SERVICE_NAME` says otherwise. */
    name: string;
    /**
     * Register an AsyncLocalStorage context manager, so that spans started in a request's handler (database
     * queries) find the request's span as their parent. The gateway passes parents explicitly and needs none.
     * @default true
     */
    contextManager?: boolean;
    /** @default process.env */
    env?: NodeJS.ProcessEnv;
}

function choice<T extends string>(env: NodeJS.ProcessEnv, names: string[], allowed: readonly T[], fallback: T): T {
    for (const name of names) {
        const value = env[name]?.trim();
        if (value) {
            if (!(allowed as readonly string[]).includes(value)) {
                throw new Error(`${name} is ${JSON.stringify(value)}; allowed: ${allowed.join(", ")}`);
            }
            return value as T;
        }
    }
    return fallback;
}

/**
 * The span exporter the environment asks for, or undefined when it asks for none: no endpoint and no
 * console, `OTEL_TRACES_EXPORTER=none`, or `OTEL_SDK_DISABLED=true`. A value it cannot honour (`grpc`, an
 * unknown exporter) throws an error naming the variable and what is allowed.
 */
export function exporterFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter | undefined {
    if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") {
        return undefined;
    }
    const kind = choice(env, ["OTEL_TRACES_EXPORTER"], EXPORTERS, "otlp");
    if (kind === "none") {
        return undefined;
    }
    if (kind === "console") {
        return new ConsoleSpanExporter();
    }
    if (!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() && !env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) {
        return undefined;
    }
    const protocol = choice(env, ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"], PROTOCOLS, "http/protobuf");
    // Both exporters read the endpoint (appending /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT), headers,
    // timeout and compression from the environment themselves.
    return protocol === "http/json" ? new JsonExporter() : new ProtobufExporter();
}

/**
 * Starts tracing for this process as the environment configures it (see the module's comment), or
 * returns undefined when it configures none: then nothing is registered and nothing runs per request.
 */
export function startTracing(options: TracingOptions): Tracing | undefined {
    const env = options.env ?? process.env;
    const exporter = exporterFromEnv(env);
    if (!exporter) {
        return undefined;
    }
    // Failed exports (the collector is down) are dropped by the SDK; say so on the service's log, once per
    // failed batch, instead of not at all.
    diag.setLogger({
        error: (message) => warn(options.name, message),
        warn: (message) => warn(options.name, message),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
    }, DiagLogLevel.WARN);
    const provider = new BasicTracerProvider({
        resource: defaultResource()
            .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.name }))
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the name given here.
            .merge(detectResources({ detectors: [envDetector] })),
        spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    if (options.contextManager ?? true) {
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    }
    let stopped: Promise<void> | undefined;
    return {
        tracer: provider.getTracer("berth"),
        propagator: new W3CTraceContextPropagator(),
        shutdown: () => {
            stopped ??= Promise.race([
                provider.shutdown().catch(() => undefined),
                new Promise<void>((resolve) => setTimeout(resolve, TRACING_FLUSH_MS).unref()),
            ]);
            return stopped;
        },
    };
}

let processTracing: { name: string; tracing: Tracing | undefined } | undefined;

/**
 * The process's tracing, started on the first call (see `startTracing`) and the same afterwards: a
 * service process has one tracer provider and one context manager, however often it builds its app.
 */
export function serviceTracing(options: TracingOptions): Tracing | undefined {
    processTracing ??= { name: options.name, tracing: startTracing(options) };
    return processTracing.tracing;
}

function warn(service: string, message: string): void {
    // The shape of the services' pino lines (level 40 is warn).
    process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), service, msg: `tracing: ${message}` })}\n`);
}

/** Reads trace context from node:http's lower-cased header object. */
export const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => carrier[key],
};

/** Appends trace-context headers to a raw header list (`[name, value, name, value, ...]`). */
export const rawHeaderSetter: TextMapSetter<string[]> = {
    set: (carrier, key, value) => {
        carrier.push(key, value);
    },
};

/** The context that makes `span` the parent of what starts in it. */
export function contextWith(span: Span, parent: Context = ROOT_CONTEXT): Context {
    return trace.setSpan(parent, span);
}

// Re-exported so that services need no OpenTelemetry package of their own beyond the API.
export { context, propagation, ROOT_CONTEXT, trace };
