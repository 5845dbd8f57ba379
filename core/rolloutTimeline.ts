/**
 * The expected timeline of one service's release, per strategy, from the timings the components use
 * (rollout.ts, the rollback alarms' windows in alarms.ts) and the strategy's own parameters. Pure: the
 * deployment check's timeout, the configuration's limit and the table of docs/releases.md all come from here.
 *
 * What ECS does, in order (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html,
 * lifecycle stages in https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html):
 * - every strategy: the new tasks launch (`TASK_LAUNCH`), their container health check passes (counted at its
 *   start period) and, for a public service, the ALB sees `healthyThreshold` good checks;
 * - `rolling`: ECS then deregisters the old tasks, which drain (`DEREGISTRATION_DELAY`) and stop (at most
 *   `STOP_TIMEOUT`); with deployment alarms the deployment stays IN_PROGRESS until a bake time derived from the
 *   alarms' windows has passed after the new tasks became healthy;
 * - the others: ECS moves production traffic in steps (canary: `canaryPercent`, then the rest after
 *   `canaryBakeMinutes`; linear: `stepPercent` every `stepBakeMinutes`, no wait after the step that reaches
 *   100 %; blue/green: all at once), keeps the old version for `bakeMinutes`, then scales it to zero (drain and
 *   stop). A traffic shift itself is a change of listener-rule weights or of the callers' proxy routes: taken
 *   as instant here.
 *
 * Without lifecycle hooks (Berth sets none) ECS waits at no other stage.
 */
import { rollbackAlarmWindow } from "./alarmRules";
import { CONTAINER_HEALTH_CHECK, DEPLOYMENT_TIMEOUT, DEREGISTRATION_DELAY, STOP_TIMEOUT, TARGET_GROUP_HEALTH_CHECK, TASK_LAUNCH } from "./rollout";
import { describeRollout, type Rollout } from "./rolloutStrategy";
import type { ServiceKind } from "./serviceKind";

/** A share of production traffic reaching the new version, in seconds after the deployment started. */
export interface TrafficStep {
    at: number;
    percent: number;
}

export interface RolloutTimeline {
    rollout: Rollout;
    kind: ServiceKind;
    /** When the new version's tasks can serve: healthy in ECS and, for a public service, at the ALB. */
    healthy: number;
    /** Each share of production traffic the new version takes, in order; the last is 100. */
    steps: TrafficStep[];
    /** Seconds during which both versions answer production requests. */
    bothServe: number;
    /** From the last step until the old version's tasks are gone: the bake, the drain and the stop. */
    oldKept: number;
    /** From the start until ECS marks the deployment COMPLETED. */
    release: number;
}

export interface TimelineInput {
    rollout: Rollout;
    kind: ServiceKind;
    /**
     * The service rolls back on deployment alarms: a rolling deployment then bakes for their window.
     * @default true
     */
    deploymentAlarms?: boolean;
}

/** Seconds until a new task serves: launched, container healthy, and healthy at the ALB for public services. */
function healthyAfter(kind: ServiceKind): number {
    const container = TASK_LAUNCH + CONTAINER_HEALTH_CHECK.startPeriod;
    return kind === "public" ? container + TARGET_GROUP_HEALTH_CHECK.healthyThreshold * TARGET_GROUP_HEALTH_CHECK.interval : container;
}

/** Seconds from an old task's deregistration until it is gone. */
const DRAIN = DEREGISTRATION_DELAY + STOP_TIMEOUT;

/** A percentage as ECS takes them: multiples of 0.1. */
const tenth = (n: number) => Math.round(n * 10) / 10;

/** The production traffic shifts of a strategy that shifts traffic, from the moment the new tasks serve. */
function shifts(rollout: Exclude<Rollout, { strategy: "rolling" }>, from: number): TrafficStep[] {
    switch (rollout.strategy) {
        case "blueGreen":
            return [{ at: from, percent: 100 }];
        case "canary":
            return rollout.canaryPercent >= 100
                ? [{ at: from, percent: 100 }]
                : [
                      { at: from, percent: rollout.canaryPercent },
                      { at: from + rollout.canaryBakeMinutes * 60, percent: 100 },
                  ];
        case "linear": {
            const steps: TrafficStep[] = [];
            for (let k = 1; steps.length === 0 || steps[steps.length - 1].percent < 100; k++) {
                steps.push({ at: from + (k - 1) * rollout.stepBakeMinutes * 60, percent: Math.min(100, tenth(k * rollout.stepPercent)) });
            }
            return steps;
        }
    }
}

/** The expected timeline of a release of a service of `kind` with `rollout`. */
export function rolloutTimeline(input: TimelineInput): RolloutTimeline {
    const { rollout, kind } = input;
    const healthy = healthyAfter(kind);
    if (rollout.strategy === "rolling") {
        const bake = (input.deploymentAlarms ?? true) ? rollbackAlarmWindow(kind === "public" ? "public" : "backend") : 0;
        return {
            rollout,
            kind,
            healthy,
            steps: [{ at: healthy, percent: 100 }],
            bothServe: 0,
            oldKept: DRAIN,
            release: healthy + Math.max(DRAIN, bake),
        };
    }
    const steps = shifts(rollout, healthy);
    const last = steps[steps.length - 1].at;
    const oldKept = rollout.bakeMinutes * 60 + DRAIN;
    return { rollout, kind, healthy, steps, bothServe: last - steps[0].at, oldKept, release: last + oldKept };
}

/**
 * How long the deployment check waits for a deployment: the expected release, and on top the time for a
 * failure to show and for ECS to roll it back (`DEPLOYMENT_TIMEOUT`).
 */
export function deploymentCheckTimeout(timeline: RolloutTimeline): number {
    return timeline.release + DEPLOYMENT_TIMEOUT;
}

/** A duration as the docs show it: `45 s`, `4 min 5 s`, `1 h 3 min`. */
export function formatDuration(seconds: number): string {
    const s = Math.round(seconds);
    if (s < 60) {
        return `${s} s`;
    }
    if (s < 3600) {
        return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
    }
    const minutes = Math.round((s % 3600) / 60);
    return minutes === 0 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 3600)} h ${minutes} min`;
}

/**
 * The table of timelines in docs/releases.md: per preset and strategy, for a public service (the gateway) and
 * a backend. A test holds the page to it, so that the table says what the code computes.
 */
export function timelineTable(presets: ReadonlyArray<{ name: string; rollouts: readonly Rollout[] }>): string[] {
    const rows = [
        "| Preset | Strategy (preset's parameters) | Service | New version serves | Production traffic on the new version | Both versions answer | Old version kept after the last step | Release | `pulumi up` waits at most |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ];
    for (const preset of presets) {
        for (const rollout of preset.rollouts) {
            for (const kind of ["public", "backend"] as const) {
                const t = rolloutTimeline({ rollout, kind });
                const steps = t.steps.map((s) => `${s.percent} % at ${formatDuration(s.at)}`).join(", ");
                rows.push(
                    `| ${preset.name} | ${describeRollout(rollout)} | ${kind} | ${formatDuration(t.healthy)} | ${steps} | ` +
                        `${formatDuration(t.bothServe)} | ${formatDuration(t.oldKept)} | ${formatDuration(t.release)} | ${formatDuration(deploymentCheckTimeout(t))} |`,
                );
            }
        }
    }
    return rows;
}
