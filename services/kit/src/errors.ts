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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id when it is safe to log and forward, else undefined. */
export function acceptedRequestId(header: string | string[] | undefined): string | undefined {
    const value = Array.isArray(header) ? header[0] : header;
    return value !== undefined && REQUEST_ID.test(value) ? value : undefined;
}
