/** The catalogue's shapes: a service as declared, and as resolved with its defaults. */
import type { DatabaseEnvNames as DatabaseVariables, AuthMode } from "@berth/kit/contract";
import type { Platform } from "../core/platform";
import type { ParsedChoice, RolloutChoice } from "../core/rolloutStrategy";
import type { ServiceKind } from "../core/serviceKind";

export interface ServiceDeclaration {
    /**
     * The folder under `services/` and the base of every AWS name of the service. Lowercase letters,
     * digits and hyphens, starting with a letter, at most 16 characters (target-group names stop at 32).
     */
    name: string;
    /**
     * `public`: behind the ALB. `backend`: private, reached by name from its callers. `worker`: no port,
     * consumes the topics it `subscribes` to from its own queue.
     */
    kind: ServiceKind;
    /**
     * The port the container listens on (the service reads it from `PORT`).
     * @default 8080
     */
    port?: number;
    /**
     * The path that answers 200 when the service is up, used by the ALB and the container health check.
     * @default "/health"
     */
    healthPath?: string;
    /**
     * `public` only: the ALB path patterns routed to the service. Omitted: the listener's default route.
     * @example ["/admin", "/admin/*"]
     */
    pathPatterns?: string[];
    /**
     * `public` only: the DNS label the service answers on under the stack's `domain`: `admin` answers on
     * `admin.<domain>` (the ALB rule matches that host, and its `pathPatterns` if any), and the stack's
     * certificate covers it. Without `pathPatterns`, the service takes every path of its host.
     * @example "admin"
     */
    subdomain?: string;
    /**
     * `public` with `pathPatterns` or a `subdomain` only: the listener rule's priority, 1-49999 (lower wins where patterns
     * overlap). It must never change once deployed, and no two services may share one.
     * @default derived from the name (1000-49999), stable whatever else the catalogue holds
     */
    priority?: number;
    /**
     * `backend` only: path prefixes the gateway forwards to this service, with everything under them.
     * @example ["/users"]
     */
    routes?: string[];
    /**
     * `backend` only: what the gateway requires before it forwards a request to one of `routes`. The
     * verified identity reaches the backend in `x-auth-subject` (and `x-auth-method`), headers the gateway
     * removes from every client request.
     * @default "none"
     */
    auth?: AuthMode;
    /**
     * `public` only: this service is the API gateway. It receives the route table of every backend that
     * declares `routes` (environment variable `ROUTES`) and is admitted by their security groups.
     * @default false
     */
    gateway?: boolean;
    /**
     * Backends this service calls directly (the gateway calls the backends with `routes` anyway). Each one
     * admits this service on its port, is deployed before it, and is given to it as `<NAME>_URL`
     * (`http://<name>:<port>` through Service Connect).
     * @example ["users"]
     * @default []
     */
    calls?: string[];
    /**
     * The CPU architecture the image is built for; the task's runtime platform matches it.
     * @default "linux/amd64"
     */
    platform?: Platform;
    /**
     * The non-root `uid:gid` the service's image runs as (its Dockerfile's `USER`); ECS runs every container
     * of the task as it. The container test checks it against the built image.
     * @default "10001:10001"
     */
    user?: string;
    /**
     * Where the image is built from, relative to the repository root. A service in another language brings
     * its own Dockerfile and context; a `<dockerfile>.dockerignore` beside the Dockerfile keeps everything
     * else out of the context.
     * @default { context: ".", dockerfile: "services/<name>/Dockerfile" }
     */
    build?: { context?: string; dockerfile?: string };
    /**
     * The container health check ECS runs in the service's image, in ECS's form: `CMD` and the executable with
     * its arguments, or `CMD-SHELL` and a shell command
     * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html). The default calls
     * `healthPath` with the image's `node`; an image without `node` (a service in another language) names its
     * own, e.g. `["CMD", "/app/healthcheck"]`.
     * @default ["CMD", "node", "-e", "<fetch of healthPath>"]
     */
    healthCheck?: string[];
    /**
     * `backend` only: the command of the readiness gate, a container of the task that starts in the service's
     * image once its health check passes and exits at once, so that Service Connect routes to the task only
     * then (components/service/fargateService.ts). An image without `node` names a command it has, e.g. `["/app/server",
     * "--version"]`, or `false` goes without the gate.
     * @default ["node", "-e", "0"]
     */
    readinessGate?: string[] | false;
    /**
     * The service keeps its data in the stack's PostgreSQL database. It gets the host, port and database
     * name as environment variables and the user and password as secrets, under the names given here (the
     * ToDo workshop's `DB_HOST`, `DB_USER`, `DB_PASSWORD` style). Declaring it on any service makes the
     * stack create the database; its security group admits only the services that declare it.
     * @example true
     * @example { env: { host: "PGHOST", password: "PGPASSWORD" } }
     * @default undefined: no database
     */
    database?: true | { env?: Partial<DatabaseVariables> };
    /**
     * How a new version takes over: `rolling` (ECS replaces tasks), `canary`, `linear` or `blueGreen` (ECS runs
     * both versions and moves the traffic: see docs/releases.md, "Rollout strategies"). Parameters left out come from
     * the stack's preset; `berth:services.<name>.rollout` overrides this per stack.
     * @example "canary"
     * @example { strategy: "linear", stepPercent: 25, stepBakeMinutes: 2 }
     * @default "rolling"
     */
    rollout?: RolloutChoice;
    /**
     * The topics this service publishes events to (an SNS topic each in AWS). Its tasks may publish to exactly
     * these, and find them in `BERTH_TOPICS` (see docs/workers.md).
     * @example ["product-changed"]
     * @default []
     */
    publishes?: string[];
    /**
     * `worker` only, and required: the topics whose events reach the worker's queue (`BERTH_QUEUE_URL`). Each
     * must be published by a service of the catalogue.
     * @example ["product-changed"]
     */
    subscribes?: string[];
}

/** A catalogue entry with every default applied and the call graph worked out. */
export interface CatalogService {
    readonly name: string;
    readonly kind: ServiceKind;
    readonly port: number;
    readonly healthPath: string;
    /** `public` only; empty means the default route. */
    readonly pathPatterns: readonly string[];
    /** `public` only: the DNS label under the stack's domain the service answers on. */
    readonly subdomain?: string;
    /** `public` with path patterns or a subdomain: the listener rule's priority; else undefined. */
    readonly priority?: number;
    readonly routes: readonly string[];
    readonly auth: AuthMode;
    readonly gateway: boolean;
    readonly platform: Platform;
    /** The non-root `uid:gid` the image runs as. */
    readonly user: string;
    /** The folder that holds the service's code, relative to the repository root. */
    readonly directory: string;
    /** The image's build context and Dockerfile, relative to the repository root. */
    readonly build: { readonly context: string; readonly dockerfile: string };
    /** Names of the services this one calls: the gateway's routed backends and the declared `calls`. */
    readonly calls: readonly string[];
    /** Where the service reads its database connection from; undefined when it declares no database. */
    readonly database?: { readonly env: Readonly<DatabaseVariables> };
    /** The declared rollout, checked; the stack's preset fills in what it leaves out (config/services.ts). */
    readonly rollout?: ParsedChoice;
    /** The declared container health check; undefined for the default (`healthCheckCommand`). */
    readonly healthCheck?: readonly string[];
    /** Backends: the declared readiness gate command, or false; undefined for the default. */
    readonly readinessGate?: readonly string[] | false;
    /** The topics the service publishes to. */
    readonly publishes: readonly string[];
    /** Workers: the topics that feed their queue; empty for the other kinds. */
    readonly subscribes: readonly string[];
}
