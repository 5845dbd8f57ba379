/**
 * Rollout strategies without mocks: what a catalogue entry or stack setting may say, what ECS is told, and
 * the expected timeline of a release held to the timings the components use through invariants, to the
 * presets' purpose, to the pipeline's time limit and to the table of docs/releases.md.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { rollbackAlarmWindow } from "../core/alarmRules";
import {
    CONTAINER_HEALTH_CHECK,
    DEPLOYMENT_TIMEOUT,
    DEREGISTRATION_DELAY,
    HEALTH_CHECK_GRACE_PERIOD,
    MAX_RELEASE,
    STOP_TIMEOUT,
    TARGET_GROUP_HEALTH_CHECK,
    TASK_LAUNCH,
} from "../core/rollout";
import {
    ecsDeploymentConfiguration,
    parseRolloutChoice,
    resolveRollout,
    ROLLOUT_LIMITS,
    ROLLOUT_STRATEGIES,
    STRATEGY_PARAMETERS,
    type Rollout,
    type RolloutDefaults,
} from "../core/rolloutStrategy";
import { deploymentCheckTimeout, rolloutTimeline } from "../core/rolloutTimeline";
import { PRESETS } from "../config";
import { catalog, type CatalogService } from "../catalog";
import { presetTimelines } from "../scripts/timelines";
import { ROOT } from "./support/pulumi";

const KINDS = ["public", "backend"] as const;

/** Every strategy with a preset's parameters. */
function rolloutsOf(defaults: RolloutDefaults): Rollout[] {
    return ROLLOUT_STRATEGIES.map((strategy) => resolveRollout(defaults, [{ strategy, parameters: {} }]).rollout);
}

describe("rollout choices", () => {
    it("take a strategy's name, or an object with the strategy and numbers given as numbers or decimal text", () => {
        assert.deepStrictEqual(parseRolloutChoice("blueGreen"), { choice: { strategy: "blueGreen", parameters: {} }, problems: [] });
        assert.deepStrictEqual(parseRolloutChoice({ strategy: "canary", canaryPercent: "12.5", bakeMinutes: 3 }).choice, {
            strategy: "canary",
            parameters: { canaryPercent: 12.5, bakeMinutes: 3 },
        });
        assert.deepStrictEqual(parseRolloutChoice({ stepBakeMinutes: "2" }).choice, { parameters: { stepBakeMinutes: 2 } });
    });

    const wrong: Array<[string, unknown, string, RegExp]> = [
        ["an unknown strategy", "bluegreen", "", /^one of rolling, canary, linear, blueGreen, or an object/],
        ["a list", ["canary"], "", /^one of rolling/],
        ["an unknown strategy inside the object", { strategy: "shadow" }, "strategy", /^one of rolling, canary, linear, blueGreen$/],
        ["a canary share below ECS's 0.1 %", { strategy: "canary", canaryPercent: 0.05 }, "canaryPercent", /^a percentage from 0\.1 to 100 in steps of 0\.1$/],
        ["a canary share off ECS's 0.1 steps", { strategy: "canary", canaryPercent: 10.25 }, "canaryPercent", /^a percentage from 0\.1 to 100/],
        ["a linear step below ECS's 3 %", { strategy: "linear", stepPercent: 2.9 }, "stepPercent", /^a percentage from 3 to 100 in steps of 0\.1$/],
        ["a bake beyond ECS's 24 hours", { strategy: "blueGreen", bakeMinutes: 1441 }, "bakeMinutes", /^a whole number of minutes from 0 to 1440$/],
        ["a fractional bake", { strategy: "canary", canaryBakeMinutes: 1.5 }, "canaryBakeMinutes", /^a whole number of minutes/],
        ["a number written as hex", { strategy: "canary", canaryPercent: "0x10" }, "canaryPercent", /^a percentage/],
        ["a misspelt field", { strategy: "canary", percent: 10 }, "percent", /^a field of strategy, canaryPercent, /],
    ];
    for (const [what, value, field, allowed] of wrong) {
        it(`name the field and what is allowed for ${what}`, () => {
            const { choice, problems } = parseRolloutChoice(value);
            assert.strictEqual(choice, undefined);
            assert.strictEqual(problems.length, 1, JSON.stringify(problems));
            assert.strictEqual(problems[0].field, field);
            assert.match(problems[0].allowed, allowed);
        });
    }

    it("accept every value at ECS's documented bounds", () => {
        for (const [parameter, { min, max }] of Object.entries(ROLLOUT_LIMITS)) {
            for (const n of [min, max]) {
                assert.deepStrictEqual(parseRolloutChoice({ [parameter]: n }).problems, [], `${parameter} ${n}`);
            }
        }
    });
});

describe("resolving a service's rollout", () => {
    const defaults = PRESETS.prod.rolloutDefaults;

    it("is rolling unless a layer says otherwise, and fills what no layer sets from the preset", () => {
        assert.deepStrictEqual(resolveRollout(defaults, []).rollout, { strategy: "rolling" });
        assert.deepStrictEqual(resolveRollout(defaults, [{ strategy: "canary", parameters: { canaryPercent: 20 } }]).rollout, {
            strategy: "canary",
            ...defaults.canary,
            canaryPercent: 20,
        });
    });

    it("lets the stack refine the catalogue's strategy, or replace it and its parameters", () => {
        const catalogue = { strategy: "linear" as const, parameters: { stepPercent: 25 } };
        assert.deepStrictEqual(resolveRollout(defaults, [catalogue, { parameters: { bakeMinutes: 9 } }]).rollout, {
            strategy: "linear",
            ...defaults.linear,
            stepPercent: 25,
            bakeMinutes: 9,
        });
        const replaced = resolveRollout(defaults, [catalogue, { strategy: "blueGreen", parameters: {} }]);
        assert.deepStrictEqual(replaced, { rollout: { strategy: "blueGreen", ...defaults.blueGreen }, problems: [] });
    });

    it("refuses a parameter of another strategy, naming the strategies it belongs to", () => {
        const { problems } = resolveRollout(defaults, [{ strategy: "canary", parameters: {} }, { parameters: { stepPercent: 10 } }]);
        assert.deepStrictEqual(
            problems.map((p) => [p.field, p.value]),
            [["stepPercent", 10]],
        );
        assert.match(problems[0].allowed, /^the parameters of canary: canaryPercent, canaryBakeMinutes, bakeMinutes \(stepPercent is one of linear\)$/);
        const rolling = resolveRollout(defaults, [{ parameters: { bakeMinutes: 3 } }]).problems;
        assert.match(rolling[0].allowed, /^none: rolling takes no parameters \(bakeMinutes is one of canary, linear, blueGreen\)$/);
    });
});

describe("what ECS is told", () => {
    it("names ECS's strategy, and for the shifting ones the bake time ECS requires, with minutes as the provider takes them", () => {
        assert.deepStrictEqual(ecsDeploymentConfiguration({ strategy: "rolling" }), { strategy: "ROLLING" });
        assert.deepStrictEqual(ecsDeploymentConfiguration({ strategy: "canary", canaryPercent: 12.5, canaryBakeMinutes: 4, bakeMinutes: 6 }), {
            strategy: "CANARY",
            bakeTimeInMinutes: "6",
            canaryConfiguration: { canaryPercent: 12.5, canaryBakeTimeInMinutes: "4" },
        });
        assert.deepStrictEqual(ecsDeploymentConfiguration({ strategy: "linear", stepPercent: 20, stepBakeMinutes: 3, bakeMinutes: 5 }), {
            strategy: "LINEAR",
            bakeTimeInMinutes: "5",
            linearConfiguration: { stepPercent: 20, stepBakeTimeInMinutes: "3" },
        });
        assert.deepStrictEqual(ecsDeploymentConfiguration({ strategy: "blueGreen", bakeMinutes: 0 }), { strategy: "BLUE_GREEN", bakeTimeInMinutes: "0" });
    });
});

describe("rollout timelines", () => {
    const all = [PRESETS.test, PRESETS.prod].flatMap((p) => rolloutsOf(p.rolloutDefaults));

    it("move production traffic in rising steps to 100 %, no sooner than the new tasks serve", () => {
        for (const rollout of all) {
            for (const kind of KINDS) {
                const t = rolloutTimeline({ rollout, kind });
                const label = `${rollout.strategy} ${kind}`;
                assert.ok(t.steps[0].at >= t.healthy, label);
                assert.strictEqual(t.steps[t.steps.length - 1].percent, 100, label);
                for (let i = 1; i < t.steps.length; i++) {
                    assert.ok(t.steps[i].percent > t.steps[i - 1].percent && t.steps[i].at >= t.steps[i - 1].at, label);
                }
                assert.strictEqual(t.bothServe, t.steps[t.steps.length - 1].at - t.steps[0].at, label);
                assert.ok(t.release >= t.steps[t.steps.length - 1].at + (rollout.strategy === "rolling" ? 0 : t.oldKept), label);
            }
        }
    });

    it("let a new task serve only after it launched, passed its container check and, behind the ALB, enough ALB checks within the grace period", () => {
        for (const rollout of all) {
            const backend = rolloutTimeline({ rollout, kind: "backend" });
            const pub = rolloutTimeline({ rollout, kind: "public" });
            assert.ok(backend.healthy >= TASK_LAUNCH + CONTAINER_HEALTH_CHECK.startPeriod);
            const albChecks = TARGET_GROUP_HEALTH_CHECK.healthyThreshold * TARGET_GROUP_HEALTH_CHECK.interval;
            assert.ok(pub.healthy - backend.healthy >= albChecks, "the ALB's checks come after the container's");
            assert.ok(albChecks <= HEALTH_CHECK_GRACE_PERIOD, "ECS would stop a new task the ALB cannot yet have seen healthy");
        }
    });

    it("keep the old version for the bake, then as long as its targets drain and its tasks stop", () => {
        for (const rollout of all.filter((r) => r.strategy !== "rolling")) {
            const t = rolloutTimeline({ rollout, kind: "public" });
            assert.ok("bakeMinutes" in rollout);
            assert.ok(t.oldKept >= rollout.bakeMinutes * 60 + DEREGISTRATION_DELAY + STOP_TIMEOUT, rollout.strategy);
        }
    });

    it("grow by exactly the minutes added to any bake", () => {
        const base: Rollout[] = [
            { strategy: "canary", canaryPercent: 10, canaryBakeMinutes: 2, bakeMinutes: 1 },
            { strategy: "linear", stepPercent: 25, stepBakeMinutes: 2, bakeMinutes: 1 },
            { strategy: "blueGreen", bakeMinutes: 1 },
        ];
        for (const rollout of base) {
            for (const parameter of STRATEGY_PARAMETERS[rollout.strategy].filter((p) => p.endsWith("Minutes"))) {
                const before = rolloutTimeline({ rollout, kind: "backend" });
                const after = rolloutTimeline({
                    rollout: { ...rollout, [parameter]: (rollout as Record<string, any>)[parameter] + 1 } as Rollout,
                    kind: "backend",
                });
                const waits = parameter === "stepBakeMinutes" ? before.steps.length - 1 : 1;
                assert.strictEqual(after.release - before.release, 60 * waits, `${rollout.strategy} ${parameter}`);
                assert.strictEqual(after.bothServe - before.bothServe, parameter === "bakeMinutes" ? 0 : 60 * waits, `${rollout.strategy} ${parameter}`);
            }
        }
    });

    it("wait between linear steps as often as AWS counts them: no wait after the step that reaches 100 %", () => {
        // AWS's count (AWS::ECS::Service LinearConfiguration): (100 / step) - 1 steps of bake when the step
        // divides 100, else the floor of 100 / step. An independent statement of the same rule.
        for (let tenths = 30; tenths <= 1000; tenths += 7) {
            const stepPercent = tenths / 10;
            const t = rolloutTimeline({ rollout: { strategy: "linear", stepPercent, stepBakeMinutes: 1, bakeMinutes: 0 }, kind: "backend" });
            const divides = 1000 % tenths === 0;
            const aws = divides ? 1000 / tenths - 1 : Math.floor(1000 / tenths);
            assert.strictEqual(t.steps.length - 1, aws, `step ${stepPercent}`);
            for (let i = 1; i < t.steps.length - 1; i++) {
                assert.ok(Math.abs(t.steps[i].percent - t.steps[i - 1].percent - stepPercent) < 1e-9, `step ${stepPercent}`);
            }
        }
    });

    it("switch a blue/green release at once, and answer from both versions only through a canary's or linear release's steps", () => {
        const [bg] = rolloutsOf(PRESETS.prod.rolloutDefaults).filter((r) => r.strategy === "blueGreen");
        assert.strictEqual(rolloutTimeline({ rollout: bg, kind: "public" }).bothServe, 0);
        assert.strictEqual(rolloutTimeline({ rollout: { strategy: "rolling" }, kind: "public" }).bothServe, 0);
        const canary = rolloutTimeline({ rollout: { strategy: "canary", canaryPercent: 5, canaryBakeMinutes: 7, bakeMinutes: 0 }, kind: "public" });
        assert.strictEqual(canary.bothServe, 7 * 60);
    });

    it("bake a rolling release for the rollback alarms' window, and without alarms only drain", () => {
        for (const kind of KINDS) {
            const watched = rolloutTimeline({ rollout: { strategy: "rolling" }, kind });
            const unwatched = rolloutTimeline({ rollout: { strategy: "rolling" }, kind, deploymentAlarms: false });
            assert.ok(watched.release >= watched.healthy + rollbackAlarmWindow(kind), kind);
            assert.strictEqual(unwatched.release, unwatched.healthy + DEREGISTRATION_DELAY + STOP_TIMEOUT, kind);
        }
    });

    it("give the deployment check the release and, beyond it, time for a failed rollout's detection and rollback", () => {
        const failedTask =
            CONTAINER_HEALTH_CHECK.startPeriod + CONTAINER_HEALTH_CHECK.retries * (CONTAINER_HEALTH_CHECK.interval + CONTAINER_HEALTH_CHECK.timeout);
        const rollback = TASK_LAUNCH + CONTAINER_HEALTH_CHECK.startPeriod + HEALTH_CHECK_GRACE_PERIOD + DEREGISTRATION_DELAY + STOP_TIMEOUT;
        for (const rollout of all) {
            for (const kind of KINDS) {
                const t = rolloutTimeline({ rollout, kind });
                // The circuit breaker's three failed tasks, or an alarm at the very end of the bake, then the rollback.
                const failure = Math.max(3 * failedTask, rollbackAlarmWindow(kind)) + rollback;
                assert.ok(deploymentCheckTimeout(t) >= t.release + failure, `${rollout.strategy} ${kind}`);
            }
        }
    });
});

describe("the presets' rollout parameters", () => {
    it("in prod, bake every step, the canary and the old version at least as long as a rollback alarm needs to fire", () => {
        const d = PRESETS.prod.rolloutDefaults;
        const window = Math.max(...KINDS.map(rollbackAlarmWindow));
        for (const [what, minutes] of [
            ["canary bake", d.canary.canaryBakeMinutes],
            ["canary's final bake", d.canary.bakeMinutes],
            ["linear step bake", d.linear.stepBakeMinutes],
            ["linear final bake", d.linear.bakeMinutes],
            ["blue/green bake", d.blueGreen.bakeMinutes],
        ] as const) {
            assert.ok(minutes * 60 >= window, `${what}: ${minutes} min, an alarm needs ${window} s`);
        }
    });

    it("in test, release every strategy no slower than prod", () => {
        for (const strategy of ROLLOUT_STRATEGIES) {
            const [test] = rolloutsOf(PRESETS.test.rolloutDefaults).filter((r) => r.strategy === strategy);
            const [prod] = rolloutsOf(PRESETS.prod.rolloutDefaults).filter((r) => r.strategy === strategy);
            for (const kind of KINDS) {
                assert.ok(rolloutTimeline({ rollout: test, kind }).release <= rolloutTimeline({ rollout: prod, kind }).release, `${strategy} ${kind}`);
            }
        }
    });

    it("release within the limit the configuration enforces", () => {
        for (const rollout of [PRESETS.test, PRESETS.prod].flatMap((p) => rolloutsOf(p.rolloutDefaults))) {
            for (const kind of KINDS) {
                assert.ok(rolloutTimeline({ rollout, kind }).release <= MAX_RELEASE, `${rollout.strategy} ${kind}`);
            }
        }
    });
});

describe("the release limit", () => {
    /** How many releases `pulumi up` makes one after the other: the longest chain of callers and callees. */
    function levels(services: readonly CatalogService[]): number {
        const depth = (s: CatalogService): number => 1 + Math.max(0, ...s.calls.map((c) => depth(services.find((t) => t.name === c)!)));
        return Math.max(...services.map(depth));
    }

    it("lets the pipeline's deploy jobs see every level of the catalogue released, and one rollback, before they stop", () => {
        const workflow = parseYaml(fs.readFileSync(path.join(ROOT, ".github", "workflows", "pipeline.yml"), "utf8"));
        // Room for the image builds (a few minutes from the registry cache, see docs/deploy.md, "The `dev` stack (environment `test`)").
        const builds = 5 * 60;
        for (const id of ["deploy-dev", "deploy-prod"]) {
            const minutes = Number(workflow.jobs[id]["timeout-minutes"]);
            assert.ok(
                levels(catalog) * MAX_RELEASE + DEPLOYMENT_TIMEOUT + builds <= minutes * 60,
                `${id}: ${levels(catalog)} levels of at most ${MAX_RELEASE} s, a rollback's ${DEPLOYMENT_TIMEOUT} s and builds exceed ${minutes} min`,
            );
        }
    });
});

describe("docs/releases.md's table of release timelines", () => {
    it("is what the timelines compute for every strategy at each preset's parameters", () => {
        const page = fs.readFileSync(path.join(ROOT, "docs", "releases.md"), "utf8");
        const block = /<!-- timelines \(npm run timelines\) -->\n([\s\S]*?)\n<!-- \/timelines -->/.exec(page);
        assert.ok(block, "docs/releases.md has no generated timelines table");
        assert.strictEqual(block[1], presetTimelines().join("\n"), "docs/releases.md's timelines are stale: regenerate them with npm run docs");
        // Every strategy of both presets, for a public service and a backend.
        assert.strictEqual(presetTimelines().length, 2 + 2 * ROLLOUT_STRATEGIES.length * KINDS.length);
    });
});
