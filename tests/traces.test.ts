/**
 * Traces across services through the local run: the gateway and the backends export to a stand-in OTLP
 * collector, and one request's spans form one trace, gateway server span -> gateway client span -> backend
 * server span -> database span, each carrying the request id.
 */
import * as assert from "node:assert";
import { PassThrough } from "node:stream";
import { startLocal, type LocalSystem } from "../scripts/local";
import { otlpCollector, SPAN_KIND, type CollectedSpan, type OtlpCollector } from "./support/otlpCollector";

describe("traces across services in the local run", function () {
    this.timeout(60_000);
    let collector: OtlpCollector;
    let system: LocalSystem;
    let logs = "";

    before(async () => {
        collector = await otlpCollector();
        const output = new PassThrough();
        output.on("data", (chunk: Buffer) => {
            logs += chunk.toString();
        });
        system = await startLocal({
            port: 0,
            output,
            database: {},
            env: {
                OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
                OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
                // Export within a tenth of a second instead of the SDK's 5 s.
                OTEL_BSP_SCHEDULE_DELAY: "100",
            },
        });
    });
    after(async () => {
        await system?.stop();
        await collector?.close();
    });

    /** The spans of one request id, once `count` of them have arrived. */
    async function spansOf(requestId: string, count: number): Promise<CollectedSpan[]> {
        const deadline = Date.now() + 15_000;
        const ofRequest = () =>
            collector.spans.filter(
                (s) =>
                    s.attributes.request_id === requestId || collector.spans.some((p) => p.spanId === s.parentSpanId && p.attributes.request_id === requestId),
            );
        while (ofRequest().length < count && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
        }
        return ofRequest();
    }

    it("links the gateway's spans and the backend's into one trace, each with the request id", async () => {
        const requestId = "trace-e2e-1";
        const res = await fetch(`${system.url}/users/1`, {
            headers: { "x-request-id": requestId, traceparent: "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01" },
            signal: AbortSignal.timeout(10_000),
        });
        assert.strictEqual(res.status, 200);
        const spans = await spansOf(requestId, 4);
        const find = (service: string, kind: number) => {
            const found = spans.filter((s) => s.service === service && s.kind === kind);
            assert.strictEqual(found.length, 1, `${service} kind ${kind}: ${JSON.stringify(spans, null, 1)}\n${logs}`);
            return found[0];
        };
        const gatewayServer = find("api", SPAN_KIND.SERVER);
        const gatewayClient = find("api", SPAN_KIND.CLIENT);
        const backendServer = find("users", SPAN_KIND.SERVER);
        const query = find("users", SPAN_KIND.CLIENT);

        assert.strictEqual(gatewayServer.parentSpanId, "", "the gateway starts the trace");
        assert.notStrictEqual(gatewayServer.traceId, "0123456789abcdef0123456789abcdef", "the client's traceparent is not continued");
        for (const span of [gatewayClient, backendServer, query]) {
            assert.strictEqual(span.traceId, gatewayServer.traceId, `${span.service} ${span.name} is in the gateway's trace`);
        }
        assert.strictEqual(gatewayClient.parentSpanId, gatewayServer.spanId);
        assert.strictEqual(backendServer.parentSpanId, gatewayClient.spanId, "the backend's span is the child of the gateway's client span");
        assert.strictEqual(query.parentSpanId, backendServer.spanId);
        for (const span of [gatewayServer, gatewayClient, backendServer]) {
            assert.strictEqual(span.attributes.request_id, requestId, `${span.service} ${span.name}`);
        }
        assert.strictEqual(backendServer.name, "GET /users/:id");
        assert.strictEqual(query.attributes["db.system.name"], "postgresql");
        assert.deepStrictEqual(collector.refused, []);
    });
});
