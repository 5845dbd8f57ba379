import { STATUS_CODES } from "node:http";

/** The one error shape of every Berth service: `{"error":{"code","message","requestId"}}`. */
export interface ErrorBody {
    error: { code: string; message: string; requestId?: string };
}

const CODES: Record<number, string> = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    408: "request_timeout",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
};

/** The machine-readable code of an HTTP status. */
export function errorCode(status: number): string {
    return CODES[status] ?? (status >= 500 ? "internal_error" : "bad_request");
}

export function errorBody(status: number, message: string, requestId?: string): ErrorBody {
    return { error: { code: errorCode(status), message, requestId } };
}

/**
 * An error a route throws to answer with `statusCode` and `message` (which the client sees, so it must hold
 * nothing secret), plus `headers` such as `Retry-After`. `detail` goes to the log only.
 */
export class HttpError extends Error {
    constructor(
        readonly statusCode: number,
        message: string,
        readonly headers: Readonly<Record<string, string>> = {},
        readonly detail?: string,
    ) {
        super(message);
        this.name = "HttpError";
    }
}

/** What Ajv reports for one failed rule (Fastify's `FastifySchemaValidationError`). */
export interface SchemaViolation {
    keyword: string;
    instancePath: string;
    params: Record<string, unknown>;
    message?: string;
}

/**
 * One sentence naming every field that breaks the schema, e.g.
 * `Invalid body: "stock" must be integer; "role" is required`.
 */
export function describeViolations(violations: readonly SchemaViolation[], where: string): string {
    const problems = violations.map((v) => {
        const path = v.instancePath.split("/").slice(1).join(".");
        const field = (name: unknown) => `"${path ? `${path}.` : ""}${String(name)}"`;
        switch (v.keyword) {
            case "required":
                return `${field(v.params.missingProperty)} is required`;
            case "additionalProperties":
                return `${field(v.params.additionalProperty)} is not allowed`;
            case "enum":
                return `"${path}" must be one of ${(v.params.allowedValues as unknown[]).map(String).join(", ")}`;
            default:
                return `${path ? `"${path}"` : where} ${v.message ?? "is invalid"}`;
        }
    });
    return `Invalid ${where}: ${[...new Set(problems)].join("; ")}`;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id when it is safe to log and forward, else undefined. */
export function acceptedRequestId(header: string | string[] | undefined): string | undefined {
    const value = Array.isArray(header) ? header[0] : header;
    return value !== undefined && REQUEST_ID.test(value) ? value : undefined;
}

/** Longest request target the services take: past it, a request line is answered 414. */
export const MAX_REQUEST_TARGET = 8192;

/** A whole HTTP/1.1 error response with a JSON body, for sockets that have no ServerResponse. */
export function rawError(status: number, message: string, requestId: string, extra: Record<string, string> = {}): string {
    const body = JSON.stringify(errorBody(status, message, requestId));
    const headers = Object.entries(extra)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
    return (
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n${headers}connection: close\r\n\r\n${body}`
    );
}

/**
 * The answer to a request node:http could not parse: 414 for a request line over the header limit, 431
 * for header fields over it, 408 for a request that took too long to arrive, else 400.
 */
export function clientErrorResponse(err: Error & { code?: string; rawPacket?: Buffer }, requestId: string): string {
    if (err.code === "HPE_HEADER_OVERFLOW") {
        // The packet holds the request from its start: no line end in the first 8 KiB means the request
        // line itself is too long.
        const head = err.rawPacket?.subarray(0, MAX_REQUEST_TARGET).toString("latin1") ?? "";
        return /^[A-Z]+ /.test(head) && !head.includes("\r\n")
            ? rawError(414, "The request target is too long", requestId)
            : rawError(431, "The request header fields are too large", requestId);
    }
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
        return rawError(408, "The request took too long to arrive", requestId);
    }
    return rawError(400, "Malformed HTTP request", requestId);
}
