/**
 * Topics and workers in the catalogue: which service publishes what, which worker consumes it, the checks
 * on those declarations, and the environment that tells each service where its topics and its queue are.
 * Pure: the infrastructure (components/messaging/) and the local runner (scripts/localBroker.ts) both read it.
 */
import { QUEUE_VARIABLE, TOPICS_VARIABLE } from "@berth/kit/contract";

export { QUEUE_VARIABLE, TOPICS_VARIABLE };

/**
 * A topic's name: lowercase letters, digits and hyphens, starting with a letter, at most 40 characters, so
 * that `<project>-<stack>-<topic>` stays far within SNS's 256 characters.
 */
const TOPIC = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** What `checkMessaging` reads of a declaration. */
export interface MessagingDeclaration {
    name: string;
    kind: string;
    publishes?: string[];
    subscribes?: string[];
}

/**
 * The problems of the catalogue's topics, each in the catalogue's grammar: a bad topic name, a topic listed
 * twice, `subscribes` on a service that is not a worker, a worker that subscribes to nothing, and a topic
 * that a worker subscribes to but no service publishes.
 */
export function messagingProblems(decls: readonly MessagingDeclaration[]): string[] {
    const problems: string[] = [];
    for (const d of decls) {
        const where = `service "${d.name}"`;
        for (const key of ["publishes", "subscribes"] as const) {
            const topics = d[key];
            if (topics === undefined) {
                continue;
            }
            if (!Array.isArray(topics)) {
                problems.push(`${where}: "${key}" is ${JSON.stringify(topics)}; allowed: a list of topic names such as ["product-changed"]`);
                continue;
            }
            for (const topic of topics) {
                if (typeof topic !== "string" || !TOPIC.test(topic)) {
                    problems.push(
                        `${where}: "${key}" holds ${JSON.stringify(topic)}; allowed: a topic name of 1-40 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen`,
                    );
                }
            }
            const twice = topics.find((t, i) => topics.indexOf(t) !== i);
            if (twice !== undefined) {
                problems.push(`${where}: "${key}" lists "${twice}" twice`);
            }
        }
        if (d.kind === "worker" && (d.subscribes ?? []).length === 0) {
            problems.push(
                `${where}: "subscribes" is ${JSON.stringify(d.subscribes ?? [])}; allowed: at least one topic that a service publishes, since a worker does nothing but consume them`,
            );
        }
        if (d.kind !== "worker" && d.subscribes !== undefined) {
            problems.push(`${where}: "subscribes" is for workers; a ${d.kind} service is reached by requests, a worker by the topics it subscribes to`);
        }
    }
    const published = new Set(decls.flatMap((d) => (Array.isArray(d.publishes) ? d.publishes : [])));
    for (const d of decls) {
        for (const topic of Array.isArray(d.subscribes) ? d.subscribes : []) {
            if (!published.has(topic)) {
                problems.push(
                    `service "${d.name}": "subscribes" names "${topic}", which no service publishes; allowed: ${published.size > 0 ? [...published].map((t) => `"${t}"`).join(", ") : 'a topic that a service declares in "publishes"'}`,
                );
            }
        }
    }
    return problems;
}

/** What the messaging functions read of a catalogue entry. */
export interface MessagingService {
    name: string;
    kind: string;
    publishes: readonly string[];
    subscribes: readonly string[];
}

/** Every published topic of the catalogue, once each, in catalogue order. */
export function catalogTopics(services: readonly MessagingService[]): string[] {
    return [...new Set(services.flatMap((s) => s.publishes))];
}

/** The catalogue's workers. */
export function workers<T extends MessagingService>(services: readonly T[]): T[] {
    return services.filter((s) => s.kind === "worker");
}

/** The workers that consume `topic`. */
export function subscribersOf<T extends MessagingService>(services: readonly T[], topic: string): T[] {
    return workers(services).filter((w) => w.subscribes.includes(topic));
}

/**
 * The variables of a service's topics and queue: `BERTH_TOPICS` (name to address) when it publishes, and
 * `BERTH_QUEUE_URL` when it is a worker. The addresses are the caller's: SNS ARNs and the SQS queue URL in
 * AWS, the local broker's URLs under `npm start`. Works on plain strings or on Pulumi Outputs' values alike.
 */
export function messagingEnvironment<A>(
    service: MessagingService,
    where: { topic: (topic: string) => A; queue: (worker: string) => A },
    json: (value: Record<string, A>) => A,
): Record<string, A> {
    const env: Record<string, A> = {};
    if (service.publishes.length > 0) {
        env[TOPICS_VARIABLE] = json(Object.fromEntries(service.publishes.map((t) => [t, where.topic(t)])));
    }
    if (service.kind === "worker") {
        env[QUEUE_VARIABLE] = where.queue(service.name);
    }
    return env;
}

/**
 * Stack settings a worker cannot take, in `ConfigError`'s grammar: a rollout other than `rolling` from
 * `berth:services.<name>.rollout` (a worker takes no traffic for ECS to shift).
 */
export function workerRolloutProblems(
    project: string,
    services: readonly MessagingService[],
    rollouts: Readonly<Record<string, { strategy: string }>>,
): string[] {
    return workers(services)
        .filter((w) => rollouts[w.name] !== undefined && rollouts[w.name].strategy !== "rolling")
        .map(
            (w) =>
                `${project}:services.${w.name}.rollout is ${JSON.stringify(rollouts[w.name].strategy)}; allowed: "rolling" for a worker, which takes no traffic to shift`,
        );
}
