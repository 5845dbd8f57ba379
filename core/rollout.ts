/**
 * Every timing a rollout depends on, in one place, in seconds unless the name says otherwise.
 *
 * A rolling deployment of a service goes: ECS starts a new task -> its container health check passes
 * (`CONTAINER_HEALTH_CHECK`) -> for a public service the ALB sees `healthyThreshold` good checks
 * (`TARGET_GROUP_HEALTH_CHECK`) while ECS ignores ALB failures for `HEALTH_CHECK_GRACE_PERIOD` -> ECS
 * deregisters an old task and waits `DEREGISTRATION_DELAY` for its in-flight requests -> SIGTERM, and after
 * `STOP_TIMEOUT` SIGKILL -> the deployment is COMPLETED, which `pulumi up` waits for: the expected release
 * (rolloutTimeline.ts, per strategy) plus `DEPLOYMENT_TIMEOUT` (see deploymentCheck.ts). Tests assert the
 * invariants between these numbers, so a change to one that breaks another fails there.
 */

/** The container health check ECS runs in the task (the same numbers as the Dockerfiles' HEALTHCHECK). */
import { GATEWAY_TIMEOUT_MS } from "@berth/kit/contract";

export const CONTAINER_HEALTH_CHECK = {
    interval: 10,
    timeout: 5,
    retries: 3,
    /** Failures in the first seconds do not count: the process is still starting. */
    startPeriod: 15,
} as const;

/**
 * The ALB's health check of a public service's targets. AWS's defaults (30 s interval, 5 healthy checks)
 * keep a new version out of rotation for minutes.
 */
export const TARGET_GROUP_HEALTH_CHECK = {
    interval: 10,
    timeout: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
} as const;

/** How long the ALB lets a deregistered target finish its requests; AWS's default is 300 s. */
export const DEREGISTRATION_DELAY = 15;

/** How long ECS ignores failing ALB health checks of a new task (it is still starting). */
export const HEALTH_CHECK_GRACE_PERIOD = 30;

/** Seconds ECS waits between SIGTERM and SIGKILL; the services finish in-flight requests well within it. */
export const STOP_TIMEOUT = 30;

/** Seconds Service Connect's proxy keeps an idle connection to a backend open. */
export const SERVICE_CONNECT_IDLE_TIMEOUT = 60;

/**
 * How long the gateway waits for a backend's response headers (and each later part of its body) before it
 * answers 504: the gateway's `TIMEOUT_MS`, and its default without one (the kit's contract).
 */
export const UPSTREAM_TIMEOUT_MS = GATEWAY_TIMEOUT_MS;

/**
 * Service Connect's per-request timeout for calls to a backend. Its default is 15 s
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html); Berth derives
 * it from the gateway's timeout plus a margin, so that the gateway's own timer fires first and the client
 * gets the gateway's 504 JSON instead of the proxy's bare 504.
 */
export const SERVICE_CONNECT_PER_REQUEST_TIMEOUT = Math.ceil(UPSTREAM_TIMEOUT_MS / 1000) + 5;

/** During a rollout ECS keeps every old task until new ones are healthy, and may double the count. */
export const DEPLOYMENT_MINIMUM_HEALTHY_PERCENT = 100;
export const DEPLOYMENT_MAXIMUM_PERCENT = 200;

/**
 * How much longer than the expected release (see rolloutTimeline.ts) `pulumi up` waits for a service's
 * deployment to reach COMPLETED before it fails: the time for a failure to show and for ECS to roll it back.
 * The circuit breaker needs at least 3 failed tasks to declare a deployment FAILED
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html), and a
 * rollback is a deployment of its own.
 */
export const DEPLOYMENT_TIMEOUT = 30 * 60;

/**
 * The longest a service's release may be expected to take (rolloutTimeline.ts): the pipeline's deploy jobs
 * stop after 100 minutes (.github/workflows/pipeline.yml), in which they release the backends and then the
 * gateway, one after the other, with a failure's allowance (`DEPLOYMENT_TIMEOUT`) on top. A stopped job would
 * leave `pulumi up` cut off mid-release. Tests hold this against the workflow.
 */
export const MAX_RELEASE = 30 * 60;

/**
 * Seconds from ECS placing a Fargate task until its process starts: network interface, image pull (a few MB
 * above a cached base, through the S3 gateway endpoint), container start. An estimate, not a setting: AWS
 * publishes no figure, and no one here can time a real launch; the timelines (rolloutTimeline.ts) build on it.
 */
export const TASK_LAUNCH = 30;

/** How often the deployment check asks ECS for the deployment's state. */
export const DEPLOYMENT_POLL_INTERVAL = 15;
