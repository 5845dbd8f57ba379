import * as assert from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { createService, routes } from "../src/server";
import { exporterFromEnv, REQUEST_ID_ATTRIBUTE, startTracing, tracesUrl, type Tracing } from "../src/tracing";

/** An HTTP server that records what OTLP exporters post to it. */
async function collector(): Promise<{ url: string; posts: Array<{ path: string; type: string; body: Buffer }>; close(): Promise<void> }> {
    const posts: Array<{ path: string; type: string; body: Buffer }> = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
            posts.push({ path: req.url ?? "", type: req.headers["content-type"] ?? "", body: Buffer.concat(chunks) });
            // An empty ExportTraceServiceResponse: all spans accepted.
            const json = req.headers["content-type"] === "application/json";
            res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : "");
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        posts,
        close: () => new Promise((r) => server.close(() => r())),
    };
}

describe("tracing from the environment", () => {
    it("stays off without an endpoint, and when told none or disabled", () => {
        assert.strictEqual(exporterFromEnv({}), undefined);
        assert.strictEqual(startTracing({ name: "x", env: {} }), undefined);
        assert.strictEqual(exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "none" }), undefined);
        assert.strictEqual(exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: "true" }), undefined);
        assert.notStrictEqual(exporterFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" }), undefined);
        assert.notStrictEqual(exporterFromEnv({ OTEL_TRACES_EXPORTER: "console" }), undefined);
    });

    it("refuses a protocol or exporter it cannot honour, naming the variable and what is allowed", () => {
        assert.throws(
            () => exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
            /^Error: OTEL_EXPORTER_OTLP_PROTOCOL is "grpc"; allowed: http\/protobuf, http\/json$/,
        );
        assert.throws(() => exporterFromEnv({ OTEL_TRACES_EXPORTER: "zipkin" }), /OTEL_TRACES_EXPORTER is "zipkin"; allowed: otlp, console, none/);
    });

    it("sends to <endpoint>/v1/traces, or to the traces endpoint as given", () => {
        assert.strictEqual(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/" }), "http://127.0.0.1:4318/v1/traces");
        assert.strictEqual(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:9/t" }), "http://b:9/t");
    });

    for (const [protocol, type] of [
        [undefined, "application/x-protobuf"],
        ["http/json", "application/json"],
    ] as const) {
        it(`exports OTLP over HTTP as ${type}${protocol ? ` when asked (${protocol})` : " by default"}`, async () => {
            const sink = await collector();
            try {
                const tracing = startTracing({
                    name: "exporter-test",
                    contextManager: false,
                    env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}) },
                })!;
                tracing.tracer.startSpan("one span").end();
                await tracing.shutdown();
                assert.strictEqual(sink.posts.length, 1);
                assert.strictEqual(sink.posts[0].path, "/v1/traces");
                assert.strictEqual(sink.posts[0].type, type);
                // The span's name and the service's name are in the body, whatever the encoding.
                assert.ok(sink.posts[0].body.includes("one span") && sink.posts[0].body.includes("exporter-test"));
            } finally {
                await sink.close();
            }
        });
    }
});

describe("a service's spans", () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;
    let url: string;
    let close: () => Promise<void>;
    const spans = async (): Promise<ReadableSpan[]> => {
        await tracing.flush();
        return exporter.getFinishedSpans();
    };

    before(async () => {
        tracing = startTracing({ name: "things", exporter })!;
        const app = createService({ name: "things", logger: false, tracing });
        routes(app, "/things/:id", {
            GET: {
                handler: async (req) => {
                    // What a database query does: a span under whatever span is active in the handler.
                    await new Promise((r) => setTimeout(r, 5));
                    tracing.tracer.startSpan("inner", {}, context.active()).end();
                    if ((req.params as { id: string }).id === "boom") {
                        throw new Error("boom");
                    }
                    return { ok: true };
                },
            },
        });
        await app.listen({ port: 0, host: "127.0.0.1" });
        url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        close = () => app.close();
    });
    after(async () => {
        await close();
    });
    beforeEach(() => exporter.reset());

    it("makes a SERVER span per request, the child of the caller's traceparent, with the request id and route", async () => {
        const parent = "0af7651916cd43dd8448eb211c80319c";
        const res = await fetch(`${url}/things/7?x=1`, {
            headers: { "x-request-id": "req-7", traceparent: `00-${parent}-b7ad6b7169203331-01` },
        });
        assert.strictEqual(res.status, 200);
        const server = (await spans()).find((s) => s.kind === SpanKind.SERVER)!;
        assert.strictEqual(server.name, "GET /things/:id");
        assert.strictEqual(server.spanContext().traceId, parent);
        assert.strictEqual(server.parentSpanContext?.spanId, "b7ad6b7169203331");
        assert.strictEqual(server.attributes[REQUEST_ID_ATTRIBUTE], "req-7");
        assert.strictEqual(server.attributes["http.route"], "/things/:id");
        assert.strictEqual(server.attributes["url.path"], "/things/7");
        assert.strictEqual(server.attributes["http.response.status_code"], 200);
        assert.strictEqual(server.status.code, SpanStatusCode.UNSET);
    });

    it("runs the handler in the request span's context, across its awaits", async () => {
        await fetch(`${url}/things/8`);
        const all = await spans();
        const server = all.find((s) => s.kind === SpanKind.SERVER)!;
        const inner = all.find((s) => s.name === "inner")!;
        assert.strictEqual(inner.spanContext().traceId, server.spanContext().traceId);
        assert.strictEqual(inner.parentSpanContext?.spanId, server.spanContext().spanId);
        assert.strictEqual(trace.getSpan(context.active()), undefined, "the request's context does not leak out");
    });

    it("starts a trace of its own without a traceparent, and marks 5xx answers as errors", async () => {
        const res = await fetch(`${url}/things/boom`);
        assert.strictEqual(res.status, 500);
        const server = (await spans()).find((s) => s.kind === SpanKind.SERVER)!;
        assert.strictEqual(server.parentSpanContext, undefined);
        assert.match(String(server.attributes[REQUEST_ID_ATTRIBUTE]), /^[0-9a-f-]{36}$/);
        assert.strictEqual(server.attributes["http.response.status_code"], 500);
        assert.strictEqual(server.status.code, SpanStatusCode.ERROR);
    });

    it("does not trace health probes", async () => {
        assert.strictEqual((await fetch(`${url}/health`)).status, 200);
        assert.deepStrictEqual(await spans(), []);
    });
});
