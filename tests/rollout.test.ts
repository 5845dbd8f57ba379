/**
 * Invariants between the rollout timings (core/rollout.ts) and the services' own timeouts: each
 * assertion states why two numbers must stay in that order, so changing one alone fails here.
 */
import * as assert from "assert";
import {
    CONTAINER_HEALTH_CHECK,
    DEPLOYMENT_POLL_INTERVAL,
    DEPLOYMENT_TIMEOUT,
    DEREGISTRATION_DELAY,
    HEALTH_CHECK_GRACE_PERIOD,
    SERVICE_CONNECT_IDLE_TIMEOUT,
    SERVICE_CONNECT_PER_REQUEST_TIMEOUT,
    STOP_TIMEOUT,
    TARGET_GROUP_HEALTH_CHECK,
    UPSTREAM_TIMEOUT_MS,
} from "../core/rollout";
import { KEEP_ALIVE_TIMEOUT_MS, REUSE_GRACE_MS, SHUTDOWN_TIMEOUT_MS } from "@berth/kit/http";

/** The ALB's idle timeout (LoadBalancerArgs.idleTimeout's default). */
const ALB_IDLE_TIMEOUT = 60;

describe("rollout timings", () => {
    it("let a service finish its in-flight requests and exit before ECS kills it, with a second to spare for logs", () => {
        assert.ok(
            SHUTDOWN_TIMEOUT_MS + 1000 <= STOP_TIMEOUT * 1000,
            `shutdown deadline ${SHUTDOWN_TIMEOUT_MS} ms, stop timeout ${STOP_TIMEOUT} s: ECS would kill the task (exit 137)`,
        );
    });

    it("let a request that waits on a slow upstream get its answer (or its 504) before the shutdown deadline", () => {
        assert.ok(UPSTREAM_TIMEOUT_MS + REUSE_GRACE_MS < SHUTDOWN_TIMEOUT_MS);
    });

    it("let the gateway answer its own 504 before Service Connect or the ALB cut the request", () => {
        assert.ok(UPSTREAM_TIMEOUT_MS < SERVICE_CONNECT_PER_REQUEST_TIMEOUT * 1000);
        assert.ok(UPSTREAM_TIMEOUT_MS < ALB_IDLE_TIMEOUT * 1000);
    });

    it("close idle proxy connections before the services do, and not before a request may end", () => {
        assert.ok(SERVICE_CONNECT_IDLE_TIMEOUT * 1000 < KEEP_ALIVE_TIMEOUT_MS);
        // An idle timeout below the per-request one ends slow requests at the idle timeout (API_TimeoutConfiguration).
        assert.ok(SERVICE_CONNECT_PER_REQUEST_TIMEOUT < SERVICE_CONNECT_IDLE_TIMEOUT);
    });

    it("keep ECS from stopping a new task before the ALB can have seen it healthy", () => {
        const albHealthy = TARGET_GROUP_HEALTH_CHECK.healthyThreshold * TARGET_GROUP_HEALTH_CHECK.interval;
        assert.ok(albHealthy <= HEALTH_CHECK_GRACE_PERIOD);
        assert.ok(TARGET_GROUP_HEALTH_CHECK.timeout < TARGET_GROUP_HEALTH_CHECK.interval);
        assert.ok(CONTAINER_HEALTH_CHECK.timeout < CONTAINER_HEALTH_CHECK.interval);
    });

    it("swap one task within about a minute: new task healthy, old one drained", () => {
        const newServes = CONTAINER_HEALTH_CHECK.startPeriod + TARGET_GROUP_HEALTH_CHECK.healthyThreshold * TARGET_GROUP_HEALTH_CHECK.interval;
        assert.ok(newServes + DEREGISTRATION_DELAY <= 60, `${newServes + DEREGISTRATION_DELAY} s`);
    });

    it("give the deployment check time for a failed rollout and its rollback", () => {
        // A task that never gets healthy fails after the start period and `retries` failed checks; the
        // circuit breaker needs at least 3 such tasks; the rollback then replaces them like any rollout.
        const failedTask =
            CONTAINER_HEALTH_CHECK.startPeriod + CONTAINER_HEALTH_CHECK.retries * (CONTAINER_HEALTH_CHECK.interval + CONTAINER_HEALTH_CHECK.timeout);
        const rollback = CONTAINER_HEALTH_CHECK.startPeriod + HEALTH_CHECK_GRACE_PERIOD + DEREGISTRATION_DELAY + STOP_TIMEOUT;
        assert.ok(3 * failedTask + rollback < DEPLOYMENT_TIMEOUT / 2, "the check would give up before ECS decides");
        assert.ok(DEPLOYMENT_POLL_INTERVAL * 10 < DEPLOYMENT_TIMEOUT);
    });
});
