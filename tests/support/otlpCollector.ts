/**
 * A stand-in OpenTelemetry collector for tests: an HTTP server on loopback that accepts OTLP/HTTP trace
 * exports in JSON (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) at `/v1/traces` and keeps every span, flattened.
 * The JSON shape is OTLP's ExportTraceServiceRequest in the protobuf JSON mapping, ids in hex
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

interface AnyValue {
    stringValue?: string;
    intValue?: string | number;
    boolValue?: boolean;
    doubleValue?: number;
}
interface KeyValue {
    key: string;
    value: AnyValue;
}
interface ExportTraceServiceRequest {
    resourceSpans?: Array<{
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: Array<{
            spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: KeyValue[] }>;
        }>;
    }>;
}

/** OTLP's SpanKind numbers. */
export const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const;

export interface CollectedSpan {
    service: string;
    name: string;
    kind: number;
    traceId: string;
    spanId: string;
    /** Empty for a trace's root span. */
    parentSpanId: string;
    attributes: Record<string, string | number | boolean>;
}

export interface OtlpCollector {
    /** The value for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
    endpoint: string;
    spans: CollectedSpan[];
    /** Requests that were not JSON trace exports, as "<content-type> <path>". */
    refused: string[];
    close(): Promise<void>;
}

function plain(value: AnyValue): string | number | boolean {
    return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ""));
}

function attributes(list: KeyValue[] = []): Record<string, string | number | boolean> {
    return Object.fromEntries(list.map((kv) => [kv.key, plain(kv.value)]));
}

export async function otlpCollector(): Promise<OtlpCollector> {
    const spans: CollectedSpan[] = [];
    const refused: string[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
            if (req.method !== "POST" || req.url !== "/v1/traces" || req.headers["content-type"] !== "application/json") {
                refused.push(`${req.headers["content-type"]} ${req.url}`);
                res.writeHead(415).end();
                return;
            }
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExportTraceServiceRequest;
            for (const rs of body.resourceSpans ?? []) {
                const service = String(attributes(rs.resource?.attributes)["service.name"] ?? "");
                for (const ss of rs.scopeSpans ?? []) {
                    for (const s of ss.spans ?? []) {
                        spans.push({
                            service,
                            name: s.name,
                            kind: s.kind,
                            traceId: s.traceId,
                            spanId: s.spanId,
                            parentSpanId: s.parentSpanId ?? "",
                            attributes: attributes(s.attributes),
                        });
                    }
                }
            }
            res.writeHead(200, { "content-type": "application/json" }).end("{}");
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        spans,
        refused,
        close: () =>
            new Promise((r) => {
                server.closeAllConnections();
                server.close(() => r());
            }),
    };
}
