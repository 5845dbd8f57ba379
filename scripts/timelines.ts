/**
 * The table of release timelines (docs/releases.md, "How long a release takes"): every strategy with each preset's
 * parameters, for a public service and a backend, from core/rolloutTimeline.ts.
 *
 *     npm run timelines
 */
import { ROLLOUT_STRATEGIES, resolveRollout } from "../core/rolloutStrategy";
import { timelineTable } from "../core/rolloutTimeline";
import { PRESETS } from "../config";
import { ENVIRONMENTS } from "../config/setting";

/** The presets in the table's order, each with every strategy at the preset's parameters. */
export function presetTimelines(): string[] {
    return timelineTable(
        ENVIRONMENTS.map((name) => ({
            name,
            rollouts: ROLLOUT_STRATEGIES.map((strategy) => resolveRollout(PRESETS[name].rolloutDefaults, [{ strategy, parameters: {} }]).rollout),
        })),
    );
}

if (require.main === module) {
    console.log(presetTimelines().join("\n"));
}
