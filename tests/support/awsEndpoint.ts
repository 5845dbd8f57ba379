/**
 * A fake AWS JSON endpoint behind a real SDK client (its `requestHandler`): it answers each operation from a
 * table, throttles the first call of one operation as AWS does (`ThrottlingException`, 400), and records every
 * operation asked, so that a test sees the SDK's own retry.
 */
import { Readable } from "stream";

export interface FakeJsonEndpoint {
    /** The `requestHandler` to give the SDK client. */
    requestHandler: {
        handle(request: { headers: Record<string, string>; body?: string }): Promise<{ response: unknown }>;
        updateHttpClientConfig(): void;
        httpHandlerConfigs(): object;
    };
    /** The operations asked, in order (`DescribeServices`, ...). */
    targets: string[];
}

export function fakeJsonEndpoint(options: {
    /** The service's JSON protocol version: ECS speaks 1.1, Step Functions 1.0. */
    protocol: "1.0" | "1.1";
    /** The operation whose first call is throttled. */
    throttleOnce: string;
    /** The answer to each operation; any other gets a 400 of `unexpected.type`. */
    answers: Record<string, unknown>;
    /** The error type the service gives an operation the table does not answer. */
    unexpected: string;
}): FakeJsonEndpoint {
    const targets: string[] = [];
    let throttled = 0;
    const reply = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => ({
        response: {
            statusCode,
            headers: { "content-type": `application/x-amz-json-${options.protocol}`, ...headers },
            body: Readable.from([Buffer.from(JSON.stringify(body))]),
        },
    });
    const requestHandler = {
        handle: async (request: { headers: Record<string, string>; body?: string }) => {
            const target = (request.headers["x-amz-target"] ?? "").split(".").pop()!;
            targets.push(target);
            if (target === options.throttleOnce && throttled++ === 0) {
                return reply(400, { __type: "ThrottlingException", message: "Rate exceeded" }, { "x-amzn-errortype": "ThrottlingException" });
            }
            if (target in options.answers) {
                return reply(200, options.answers[target]);
            }
            return reply(400, { __type: options.unexpected, message: `unexpected ${target}` });
        },
        updateHttpClientConfig: () => {},
        httpHandlerConfigs: () => ({}),
    };
    return { requestHandler, targets };
}
