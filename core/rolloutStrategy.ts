/**
 * How a service's new version takes over from the old one: ECS's four deployment strategies, what a
 * catalogue entry or a stack setting may say about them, and what ECS is told. Pure: the catalogue, the
 * configuration and the components all read it.
 *
 * - `rolling` (ECS `ROLLING`): new tasks replace old ones in the same target group, as Berth always did.
 * - `canary` (`CANARY`): the whole new version starts beside the old one, takes `canaryPercent` of the
 *   production traffic for `canaryBakeMinutes`, then all of it.
 * - `linear` (`LINEAR`): the same, in steps of `stepPercent` with `stepBakeMinutes` between steps.
 * - `blueGreen` (`BLUE_GREEN`): the whole new version behind the test rule, then all traffic at once.
 *
 * The last three keep the old version for `bakeMinutes` after the switch, then remove it; a deployment
 * alarm or failing health checks until then roll the traffic back to it
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/linear-deployment.html). ECS shifts the traffic
 * itself, on the ALB's listener rules for a public service and in the Service Connect proxies of the callers
 * for a backend (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-blue-green.html).
 */

export const ROLLOUT_STRATEGIES = ["rolling", "canary", "linear", "blueGreen"] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/** A service's rollout with every parameter set. */
export type Rollout =
    | { strategy: "rolling" }
    | { strategy: "canary"; canaryPercent: number; canaryBakeMinutes: number; bakeMinutes: number }
    | { strategy: "linear"; stepPercent: number; stepBakeMinutes: number; bakeMinutes: number }
    | { strategy: "blueGreen"; bakeMinutes: number };

/** The strategies in which ECS runs both versions and shifts traffic between them. */
export type ShiftingRollout = Exclude<Rollout, { strategy: "rolling" }>;

export type RolloutParameter = "canaryPercent" | "canaryBakeMinutes" | "stepPercent" | "stepBakeMinutes" | "bakeMinutes";

/** The parameters each strategy takes, in the order messages list them. */
export const STRATEGY_PARAMETERS: Readonly<Record<RolloutStrategy, readonly RolloutParameter[]>> = {
    rolling: [],
    canary: ["canaryPercent", "canaryBakeMinutes", "bakeMinutes"],
    linear: ["stepPercent", "stepBakeMinutes", "bakeMinutes"],
    blueGreen: ["bakeMinutes"],
};

/** What an environment preset fills in for each strategy's parameters a service leaves out. */
export interface RolloutDefaults {
    canary: { canaryPercent: number; canaryBakeMinutes: number; bakeMinutes: number };
    linear: { stepPercent: number; stepBakeMinutes: number; bakeMinutes: number };
    blueGreen: { bakeMinutes: number };
}

/**
 * What a catalogue entry or a stack setting may say: a strategy's name, or an object with the strategy and
 * any of its parameters. Without `strategy`, the object refines the strategy a lower layer chose.
 * @example "canary"
 * @example { strategy: "linear", stepPercent: 20, stepBakeMinutes: 3 }
 */
export type RolloutChoice = RolloutStrategy | ({ strategy?: RolloutStrategy } & Partial<Record<RolloutParameter, number | string>>);

/**
 * The values ECS accepts:
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html (multiples of 0.1
 * from 0.1 to 100; 0 to 1440 minutes), https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html
 * (multiples of 0.1 from 3 to 100; 0 to 1440 minutes) and
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html (bake time).
 */
export const ROLLOUT_LIMITS: Readonly<Record<RolloutParameter, { min: number; max: number; step: number }>> = {
    canaryPercent: { min: 0.1, max: 100, step: 0.1 },
    stepPercent: { min: 3, max: 100, step: 0.1 },
    canaryBakeMinutes: { min: 0, max: 1440, step: 1 },
    stepBakeMinutes: { min: 0, max: 1440, step: 1 },
    bakeMinutes: { min: 0, max: 1440, step: 1 },
};

/**
 * The request header that reaches the new version while ECS tests it, before production traffic moves: the
 * condition of a public service's test listener rule (with this value), and the header Service Connect
 * routes to a backend's new version when the service sets no test traffic rules of its own
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-blue-green.html). One header
 * thus reaches the new version of the gateway and, passed on by the gateway, of the backends.
 */
export const TEST_TRAFFIC_HEADER = { name: "x-amzn-ecs-blue-green-test", value: "true" } as const;

/**
 * The AWS managed policy ECS's infrastructure role needs to move traffic between a service's target groups
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRolePolicyForLoadBalancers.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html):
 * it describes and modifies listeners and rules and registers targets.
 */
export const TRAFFIC_SHIFT_POLICY = "policy/AmazonECSInfrastructureRolePolicyForLoadBalancers";

/** One thing wrong with a choice: the field (empty for the value as a whole), what it is, and what is allowed. */
export interface RolloutProblem {
    field: string;
    value: unknown;
    allowed: string;
}

/** A choice read and checked field by field; strategy-specific checks come in `resolveRollout`. */
export interface ParsedChoice {
    strategy?: RolloutStrategy;
    parameters: Partial<Record<RolloutParameter, number>>;
}

const ALL_PARAMETERS = Object.keys(ROLLOUT_LIMITS) as RolloutParameter[];

export const STRATEGIES_ALLOWED = `one of ${ROLLOUT_STRATEGIES.join(", ")}, or an object with "strategy" and its parameters`;

/** What a parameter may be, in words. */
export function parameterAllowed(parameter: RolloutParameter): string {
    const { min, max, step } = ROLLOUT_LIMITS[parameter];
    return step === 1 ? `a whole number of minutes from ${min} to ${max}` : `a percentage from ${min} to ${max} in steps of ${step}`;
}

/** A number given as a number or as decimal text ("12.5"), as the Pulumi CLI may hand it over. */
function asNumber(value: unknown): number | undefined {
    if (typeof value === "number") {
        return Number.isFinite(value) ? value : undefined;
    }
    return typeof value === "string" && /^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value) ? Number(value) : undefined;
}

function fits(parameter: RolloutParameter, n: number): boolean {
    const { min, max, step } = ROLLOUT_LIMITS[parameter];
    const units = n / step;
    return n >= min && n <= max && Math.abs(units - Math.round(units)) < 1e-9;
}

/** Reads a catalogue entry's or a stack setting's `rollout`, naming every field that is wrong. */
export function parseRolloutChoice(value: unknown): { choice?: ParsedChoice; problems: RolloutProblem[] } {
    if (typeof value === "string") {
        return (ROLLOUT_STRATEGIES as readonly string[]).includes(value)
            ? { choice: { strategy: value as RolloutStrategy, parameters: {} }, problems: [] }
            : { problems: [{ field: "", value, allowed: STRATEGIES_ALLOWED }] };
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return { problems: [{ field: "", value, allowed: STRATEGIES_ALLOWED }] };
    }
    const problems: RolloutProblem[] = [];
    const choice: ParsedChoice = { parameters: {} };
    for (const [field, given] of Object.entries(value)) {
        if (field === "strategy") {
            if ((ROLLOUT_STRATEGIES as readonly unknown[]).includes(given)) {
                choice.strategy = given as RolloutStrategy;
            } else {
                problems.push({ field, value: given, allowed: `one of ${ROLLOUT_STRATEGIES.join(", ")}` });
            }
        } else if ((ALL_PARAMETERS as string[]).includes(field)) {
            const parameter = field as RolloutParameter;
            const n = asNumber(given);
            if (n !== undefined && fits(parameter, n)) {
                choice.parameters[parameter] = n;
            } else {
                problems.push({ field, value: given, allowed: parameterAllowed(parameter) });
            }
        } else {
            problems.push({ field, value: given, allowed: `a field of ${["strategy", ...ALL_PARAMETERS].join(", ")}` });
        }
    }
    return problems.length > 0 ? { problems } : { choice, problems };
}

/**
 * A service's rollout from its layers, lowest first (the catalogue entry, then the stack setting): each layer
 * that names a strategy replaces what the layers below chose; parameters refine the strategy chosen so far;
 * the preset fills in what no layer set. A parameter of another strategy than the one chosen is a problem.
 */
export function resolveRollout(defaults: RolloutDefaults, layers: ReadonlyArray<ParsedChoice | undefined>): { rollout: Rollout; problems: RolloutProblem[] } {
    let strategy: RolloutStrategy = "rolling";
    let parameters: Partial<Record<RolloutParameter, number>> = {};
    for (const layer of layers) {
        if (!layer) {
            continue;
        }
        if (layer.strategy !== undefined && layer.strategy !== strategy) {
            parameters = {};
        }
        strategy = layer.strategy ?? strategy;
        parameters = { ...parameters, ...layer.parameters };
    }
    const problems = misplacedParameters(strategy, parameters);
    const rollout: Rollout =
        strategy === "rolling" ? { strategy } : ({ strategy, ...defaults[strategy], ...pick(parameters, STRATEGY_PARAMETERS[strategy]) } as Rollout);
    return { rollout, problems };
}

/** The parameters that `strategy` does not take, each as a problem naming the strategies that do. */
export function misplacedParameters(strategy: RolloutStrategy, parameters: Partial<Record<RolloutParameter, number>>): RolloutProblem[] {
    const takes = STRATEGY_PARAMETERS[strategy];
    return Object.entries(parameters)
        .filter(([field]) => !(takes as string[]).includes(field))
        .map(([field, value]) => {
            const owners = ROLLOUT_STRATEGIES.filter((s) => (STRATEGY_PARAMETERS[s] as string[]).includes(field)).join(", ");
            return {
                field,
                value,
                allowed:
                    takes.length > 0
                        ? `the parameters of ${strategy}: ${takes.join(", ")} (${field} is one of ${owners})`
                        : `none: ${strategy} takes no parameters (${field} is one of ${owners})`,
            };
        });
}

function pick(parameters: Partial<Record<RolloutParameter, number>>, keys: readonly RolloutParameter[]): Partial<Record<RolloutParameter, number>> {
    return Object.fromEntries(Object.entries(parameters).filter(([k]) => (keys as string[]).includes(k)));
}

/** Whether ECS shifts traffic between two running versions (every strategy but `rolling`). */
export function shiftsTraffic(rollout: Rollout): rollout is ShiftingRollout {
    return rollout.strategy !== "rolling";
}

/** The ECS API's name of a strategy. */
export const ECS_STRATEGY: Readonly<Record<RolloutStrategy, string>> = {
    rolling: "ROLLING",
    canary: "CANARY",
    linear: "LINEAR",
    blueGreen: "BLUE_GREEN",
};

/**
 * The service's `deploymentConfiguration` as the AWS provider takes it (minutes as text). `rolling` is
 * stated too: the provider keeps a strategy it no longer sees (the block is optional and computed), so a
 * service going back to rolling must say so.
 */
export function ecsDeploymentConfiguration(rollout: Rollout): {
    strategy: string;
    bakeTimeInMinutes?: string;
    canaryConfiguration?: { canaryPercent: number; canaryBakeTimeInMinutes: string };
    linearConfiguration?: { stepPercent: number; stepBakeTimeInMinutes: string };
} {
    switch (rollout.strategy) {
        case "rolling":
            return { strategy: ECS_STRATEGY.rolling };
        case "canary":
            return {
                strategy: ECS_STRATEGY.canary,
                bakeTimeInMinutes: String(rollout.bakeMinutes),
                canaryConfiguration: { canaryPercent: rollout.canaryPercent, canaryBakeTimeInMinutes: String(rollout.canaryBakeMinutes) },
            };
        case "linear":
            return {
                strategy: ECS_STRATEGY.linear,
                bakeTimeInMinutes: String(rollout.bakeMinutes),
                linearConfiguration: { stepPercent: rollout.stepPercent, stepBakeTimeInMinutes: String(rollout.stepBakeMinutes) },
            };
        case "blueGreen":
            // ECS requires the bake time for BLUE_GREEN (API_DeploymentConfiguration, bakeTimeInMinutes).
            return { strategy: ECS_STRATEGY.blueGreen, bakeTimeInMinutes: String(rollout.bakeMinutes) };
    }
}

/** A rollout in a few words, for messages and the table of docs/releases.md: `canary 10 % for 5 min, bake 5 min`. */
export function describeRollout(rollout: Rollout): string {
    switch (rollout.strategy) {
        case "rolling":
            return "rolling";
        case "canary":
            return `canary ${rollout.canaryPercent} % for ${rollout.canaryBakeMinutes} min, bake ${rollout.bakeMinutes} min`;
        case "linear":
            return `linear ${rollout.stepPercent} % steps every ${rollout.stepBakeMinutes} min, bake ${rollout.bakeMinutes} min`;
        case "blueGreen":
            return `blueGreen, bake ${rollout.bakeMinutes} min`;
    }
}
