/**
 * The gateway's spans: a SERVER span that starts each trace, a CLIENT span per upstream attempt, and the
 * attempt's context handed to the backend as `traceparent`. Without tracing nothing changes on the wire.
 */
import * as assert from "node:assert";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { REQUEST_ID_ATTRIBUTE, startTracing, type Tracing } from "@berth/kit/tracing";
import { request, startGateway, type RunningGateway } from "./support/clients";
import { fakeBackend, type FakeBackend } from "./support/fakeBackend";

/** The parts of a W3C traceparent header. */
function parseTraceparent(value: unknown): { traceId: string; spanId: string; sampled: boolean } {
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(value));
    assert.ok(match, `not a traceparent: ${String(value)}`);
    return { traceId: match[1], spanId: match[2], sampled: (parseInt(match[3], 16) & 1) === 1 };
}

const CLIENT_TRACEPARENT = "00-11111111111111111111111111111111-2222222222222222-01";

describe("gateway tracing", function () {
    this.timeout(15_000);
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;
    let backend: FakeBackend;
    let g: RunningGateway;
    const spans = async () => {
        await tracing.flush();
        return exporter.getFinishedSpans();
    };

    before(() => {
        tracing = startTracing({ name: "api", exporter, contextManager: false })!;
    });
    beforeEach(async () => {
        exporter.reset();
        backend = await fakeBackend();
        g = await startGateway({ "/x": backend.origin }, { tracing });
    });
    afterEach(async () => {
        await g.close();
        await backend.close();
    });

    it("starts a trace with a SERVER span and hands the CLIENT span's context to the backend, not the client's", async () => {
        const res = await request(`${g.url}/x/echo/7`, { headers: { "x-request-id": "req-42", traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=1" } });
        assert.strictEqual(res.status, 200);
        const all = await spans();
        const server = all.find((s) => s.kind === SpanKind.SERVER)!;
        const client = all.find((s) => s.kind === SpanKind.CLIENT)!;
        assert.ok(server && client, `spans: ${all.map((s) => s.name).join(", ")}`);

        assert.strictEqual(server.parentSpanContext, undefined, "the client's traceparent is not trusted");
        assert.notStrictEqual(server.spanContext().traceId, "11111111111111111111111111111111");
        assert.strictEqual(server.name, "GET /x");
        assert.strictEqual(server.attributes["http.route"], "/x");
        assert.strictEqual(server.attributes["http.response.status_code"], 200);
        assert.strictEqual(client.parentSpanContext?.spanId, server.spanContext().spanId);
        assert.strictEqual(client.spanContext().traceId, server.spanContext().traceId);
        assert.strictEqual(client.attributes["url.full"], `${backend.origin}/x/echo/7`);
        assert.strictEqual(client.attributes["http.response.status_code"], 200);
        for (const span of [server, client]) {
            assert.strictEqual(span.attributes[REQUEST_ID_ATTRIBUTE], "req-42", span.name);
        }

        const seen = backend.seen[0];
        const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        assert.strictEqual(names.filter((n) => n === "traceparent").length, 1, "one traceparent, the gateway's");
        assert.ok(!names.includes("tracestate"), "the client's tracestate stays at the gateway");
        const sent = parseTraceparent(seen.headers.traceparent);
        assert.deepStrictEqual(sent, { traceId: client.spanContext().traceId, spanId: client.spanContext().spanId, sampled: true });
    });

    it("makes a CLIENT span per attempt: a retried 503 leaves an error span and a resend with its own traceparent", async () => {
        const res = await request(`${g.url}/x/unavailable`, { headers: { "x-request-id": "req-503" } });
        assert.strictEqual(res.status, 503, "the second answer, passed on");
        const clients = (await spans())
            .filter((s) => s.kind === SpanKind.CLIENT)
            .sort((a, b) => Number(a.attributes["http.request.resend_count"] ?? 0) - Number(b.attributes["http.request.resend_count"] ?? 0));
        assert.strictEqual(clients.length, 2);
        assert.strictEqual(clients[0].status.code, SpanStatusCode.ERROR);
        assert.strictEqual(clients[0].attributes["http.response.status_code"], 503);
        assert.strictEqual(clients[1].attributes["http.request.resend_count"], 1);
        const sent = backend.seen.map((s) => parseTraceparent(s.headers.traceparent).spanId);
        assert.deepStrictEqual(
            sent,
            clients.map((c) => c.spanContext().spanId),
        );
    });

    it("marks an upstream that cannot be reached as an error on both spans", async () => {
        await backend.close();
        const res = await request(`${g.url}/x/echo`);
        assert.strictEqual(res.status, 502);
        const all = await spans();
        const server = all.find((s) => s.kind === SpanKind.SERVER)!;
        assert.strictEqual(server.status.code, SpanStatusCode.ERROR);
        assert.ok(
            all.filter((s) => s.kind === SpanKind.CLIENT).every((s) => s.status.code === SpanStatusCode.ERROR && s.attributes["error.type"] === "ECONNREFUSED"),
        );
    });

    it("does not trace health probes", async () => {
        assert.strictEqual((await request(`${g.url}/health`)).status, 200);
        assert.deepStrictEqual(await spans(), []);
    });

    describe("sampling", () => {
        it("gives a request the sampler drops no span, and the backend its not-sampled traceparent", async () => {
            const dropped = new InMemorySpanExporter();
            const none = startTracing({
                name: "api",
                exporter: dropped,
                contextManager: false,
                sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
            })!;
            const sampler = await startGateway({ "/x": backend.origin }, { tracing: none });
            try {
                assert.strictEqual((await request(`${sampler.url}/x/echo`)).status, 200);
            } finally {
                await sampler.close();
            }
            await none.flush();
            assert.deepStrictEqual(dropped.getFinishedSpans(), []);
            const sent = parseTraceparent(backend.seen.at(-1)!.headers.traceparent);
            assert.strictEqual(sent.sampled, false, "the backend must drop it too");
            assert.notStrictEqual(sent.traceId, "0".repeat(32));
        });
    });

    describe("off", () => {
        it("changes nothing on the wire: the client's trace context passes through as sent", async () => {
            const plain = await startGateway({ "/x": backend.origin });
            try {
                await request(`${plain.url}/x/echo`, { headers: { traceparent: CLIENT_TRACEPARENT, tracestate: "vendor=1" } });
            } finally {
                await plain.close();
            }
            const seen = backend.seen.at(-1)!;
            assert.strictEqual(seen.headers.traceparent, CLIENT_TRACEPARENT);
            assert.strictEqual(seen.headers.tracestate, "vendor=1");
            assert.deepStrictEqual(await spans(), []);
        });
    });
});
