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
import {
    context,
    diag,
    DiagLogLevel,
    propagation,
    ROOT_CONTEXT,
    SpanStatusCode,
    trace,
    type Context,
    type Span,
    type TextMapGetter,
    type TextMapSetter,
    type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type Sampler, type SpanExporter } from "@opentelemetry/sdk-trace-base";
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
    /** Exports the spans ended so far. */
    flush(): Promise<void>;
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
    /**
     * Where spans go, instead of what the environment says (tests pass an in-memory exporter).
     * @default `exporterFromEnv(env)`
     */
    exporter?: SpanExporter;
    /**
     * Which traces to keep, instead of what `OTEL_TRACES_SAMPLER` says (tests).
     * @default the SDK's reading of `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (parent-based, always on)
     */
    sampler?: Sampler;
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

/** Where the environment sends spans: printed, or over OTLP/HTTP to a URL. */
export type TracingDestination = { kind: "console" } | { kind: "otlp"; protocol: (typeof PROTOCOLS)[number]; url: string };

/**
 * Where the environment asks spans to go, or undefined when it asks for none: no endpoint and no console,
 * `OTEL_TRACES_EXPORTER=none`, or `OTEL_SDK_DISABLED=true`. A value it cannot honour (`grpc`, an unknown
 * exporter) throws an error naming the variable and what is allowed.
 */
export function tracingDestination(env: NodeJS.ProcessEnv = process.env): TracingDestination | undefined {
    if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") {
        return undefined;
    }
    const kind = choice(env, ["OTEL_TRACES_EXPORTER"], EXPORTERS, "otlp");
    if (kind !== "otlp") {
        return kind === "console" ? { kind } : undefined;
    }
    const url = tracesUrl(env);
    if (!url) {
        return undefined;
    }
    return { kind, url, protocol: choice(env, ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"], PROTOCOLS, "http/protobuf") };
}

/** The span exporter for `tracingDestination(env)`, or undefined for none. */
export function exporterFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter | undefined {
    const destination = tracingDestination(env);
    if (!destination) {
        return undefined;
    }
    if (destination.kind === "console") {
        return new ConsoleSpanExporter();
    }
    // Headers, timeout and compression the exporters read from the environment themselves.
    const { url, protocol } = destination;
    return protocol === "http/json" ? new JsonExporter({ url }) : new ProtobufExporter({ url });
}

/**
 * Where OTLP/HTTP trace exports go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` with `v1/traces` appended, as the specification says
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/#endpoint-urls-for-otlphttp).
 */
export function tracesUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
    if (traces) {
        return traces;
    }
    const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
    return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

/**
 * Starts tracing for this process as the environment configures it (see the module's comment), or
 * returns undefined when it configures none: then nothing is registered and nothing runs per request.
 */
export function startTracing(options: TracingOptions): Tracing | undefined {
    const env = options.env ?? process.env;
    const exporter = options.exporter ?? exporterFromEnv(env);
    if (!exporter) {
        return undefined;
    }
    if (!diagnosing) {
        diagnosing = true;
        // Failed exports (the collector is down) are dropped by the SDK; say so on the service's log, once
        // per failed batch, instead of not at all.
        diag.setLogger(
            {
                error: (...parts) => warn(options.name, parts),
                warn: (...parts) => warn(options.name, parts),
                info: () => undefined,
                debug: () => undefined,
                verbose: () => undefined,
            },
            DiagLogLevel.WARN,
        );
    }
    const provider = new BasicTracerProvider({
        resource: defaultResource()
            .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.name }))
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the name given here.
            .merge(detectResources({ detectors: [envDetector] })),
        spanProcessors: [new BatchSpanProcessor(exporter)],
        ...(options.sampler ? { sampler: options.sampler } : {}),
    });
    if ((options.contextManager ?? true) && !contextManaged) {
        contextManaged = true;
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    }
    let stopped: Promise<void> | undefined;
    return {
        tracer: provider.getTracer("berth"),
        propagator: new W3CTraceContextPropagator(),
        flush: () => provider.forceFlush(),
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
/** The diagnostic logger and the context manager are global to the process: registered once. */
let diagnosing = false;
let contextManaged = false;

/**
 * The process's tracing, started on the first call (see `startTracing`) and the same afterwards: a
 * service process has one tracer provider and one context manager, however often it builds its app.
 */
export function serviceTracing(options: TracingOptions): Tracing | undefined {
    processTracing ??= { name: options.name, tracing: startTracing(options) };
    return processTracing.tracing;
}

/** A diagnostic as one line in the shape of the services' pino lines (level 40 is warn). */
/** Flushes and stops the process's tracing, if `serviceTracing` started one: the last step of shutdown. */
export async function shutDownServiceTracing(): Promise<void> {
    await processTracing?.tracing?.shutdown();
}

function warn(service: string, parts: unknown[]): void {
    // Component loggers put their name first: "OTLPExportDelegate", "Export failed ...", error.
    const msg = parts.map((p) => (p instanceof Error ? p.message : typeof p === "string" ? p : JSON.stringify(p))).join(": ");
    process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), service, msg: `tracing: ${msg}` })}\n`);
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

/**
 * Ends a SERVER span when its response closes, with the status code; an error when the connection closed
 * before the response completed, or when the answer is a 5xx.
 */
export function endWithResponse(span: Span, res: { statusCode: number; writableFinished: boolean; once(event: "close", listener: () => void): unknown }): void {
    res.once("close", () => {
        span.setAttribute("http.response.status_code", res.statusCode);
        if (!res.writableFinished) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: "connection closed before the response completed" });
        } else if (res.statusCode >= 500) {
            span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
    });
}

/** The context that makes `span` the parent of what starts in it. */
export function contextWith(span: Span, parent: Context = ROOT_CONTEXT): Context {
    return trace.setSpan(parent, span);
}

// Re-exported so that services need no OpenTelemetry package of their own beyond the API.
export { context, propagation, ROOT_CONTEXT, trace };
