/**
 * The timings that make a task stop cleanly fit together: the services' shutdown deadline ends before
 * ECS's SIGKILL, and still leaves an in-flight request its full upstream timeout.
 */
import * as assert from "node:assert";
import { STOP_TIMEOUT } from "../components/fargateService";
import { DEFAULT_TIMEOUT_MS } from "../services/api/src/gateway";
import { REUSE_GRACE_MS, SHUTDOWN_TIMEOUT_MS } from "../services/kit/src/http";

describe("shutdown budget", () => {
    it("exits before ECS sends SIGKILL, with a second to spare for logs", () => {
        assert.ok(SHUTDOWN_TIMEOUT_MS + 1000 <= STOP_TIMEOUT * 1000,
            `shutdown deadline ${SHUTDOWN_TIMEOUT_MS} ms, stop timeout ${STOP_TIMEOUT} s: ECS would kill the task (exit 137)`);
    });

    it("lets a request that waits on a slow upstream get its answer (or its 504) before the deadline", () => {
        assert.ok(DEFAULT_TIMEOUT_MS + REUSE_GRACE_MS < SHUTDOWN_TIMEOUT_MS);
    });
});
