/**
 * The one mock harness of the Pulumi tests: runs a program under `pulumi.runtime.setMocks`, records every
 * registered resource with its inputs, provider and parent, returns realistic provider-computed outputs,
 * and throws on any invoke it does not expect.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as path from "path";
import * as v8 from "v8";
import { readStackConfig, shippedStacks as shippedStackFiles } from "../../scripts/stackConfig";
import type { BerthOutputs } from "../../program";
import { catalog, jobs as shippedJobs, type CatalogJob, type CatalogService } from "../../catalog";
import type { SourceVersion } from "../../core/buildContext";

// Internal, but the only way to know that every registration has reached the mocks.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/**
 * Pulumi tags every promise it makes with the stack where it was made (`debuggablePromise`, in
 * @pulumi/pulumi runtime/debuggable.js: `new Error().stack`), thousands per program run, and prints them only
 * for leaked promises when `PULUMI_DEBUG_PROMISE_LEAKS` is set. Taking and formatting those stacks was most of
 * the unit tests' time; without that variable the tests take none (the promise and its leak check unchanged).
 */
if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T> };
    const tagged = debuggable.debuggablePromise;
    debuggable.debuggablePromise = <T>(p: Promise<T>, ctx: unknown): Promise<T> => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return tagged(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
}

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const ROOT = path.resolve(__dirname, "..", "..");
/** The hosted zone the mocks know by default: example.com. */
export const HOSTED_ZONE_ID = "Z0123456789EXAMPLE";

/**
 * Each service's source version, read once: the program asks git for it on every run (two `git` processes per
 * service, about a tenth of a second), and no test changes this repository's files while the tests run.
 * Any other root (the repositories tests/buildContext.test.ts builds and changes) is read every time.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const buildContext = require("../../core/buildContext") as { sourceVersion(root: string, context: string, dockerfile: string): SourceVersion };
const readVersion = buildContext.sourceVersion;
const versions = new Map<string, SourceVersion>();
buildContext.sourceVersion = (root, context, dockerfile) => {
    if (path.resolve(root) !== ROOT) {
        return readVersion(root, context, dockerfile);
    }
    const key = JSON.stringify([context, dockerfile]);
    const version = versions.get(key) ?? readVersion(root, context, dockerfile);
    versions.set(key, version);
    return { ...version };
};

export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** The provider reference (`<urn>::<id>`), for custom resources. */
    provider?: string;
    custom: boolean;
    /** The type of the parent resource; undefined for resources at the stack's root. */
    parentType?: string;
    /** Its URN, as the mock monitor built it. */
    urn?: string;
    /**
     * `type::name` of every resource the engine waits for before this one: explicit `dependsOn` and the
     * resources whose outputs its inputs use, components expanded to their resources.
     */
    dependencies: string[];
    /** `type::name` of what its `dependsOn` added beyond what its inputs already wait for. */
    dependsOn: string[];
    /** Pulumi's `protect` option, as registered. */
    protect: boolean;
    /** Pulumi's `retainOnDelete` option, as registered. */
    retainOnDelete: boolean;
    /** Pulumi's `deleteBeforeReplace` option, as registered: a replacement deletes the old resource first. */
    deleteBeforeReplace: boolean;
    /** Pulumi's `import` option, as registered: the ID of an existing resource adopted instead of created. */
    importId?: string;
    /** Pulumi's `ignoreChanges` option, as registered: inputs an update leaves as they are. */
    ignoreChanges: string[];
    /** Pulumi's `replaceWith` option: `type::name` of the resources whose replacement replaces this one. */
    replaceWith: string[];
    /** Pulumi's `aliases` option, as registered (see `Harness.formerUrns`). */
    aliases: AliasSpec[];
    /** The URN of its parent, as the mock monitor built it; undefined at the stack's root. */
    parentUrn?: string;
    /** Top-level inputs the program marked secret (Pulumi keeps them encrypted in the state); `inputs` holds them in their wire form. */
    secretInputs: string[];
    /** The ID the mocks gave it (`<logical name>-id`); undefined for components. */
    id?: string;
    /** What the mocks answered as its state: its inputs and the outputs a provider computes (`arn`, ...). */
    outputs: Record<string, any>;
}

/** The part of a RegisterResourceRequest the harness reads (see @pulumi/pulumi runtime/resource.js). */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(fn: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean | undefined;
    getImportid(): string;
    getIgnorechangesList(): string[];
    getReplaceWithList(): string[];
    getParent(): string;
    getAliasesList(): AliasMessage[];
}

/** An alias as the SDK sends it (@pulumi/pulumi proto/alias_pb): a whole URN, or a spec of what differed. */
interface AliasMessage {
    getUrn(): string;
    getSpec():
        | {
              getName(): string;
              getType(): string;
              getStack(): string;
              getProject(): string;
              getParenturn(): string;
              getNoparent(): boolean;
          }
        | undefined;
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** An alias as registered: a whole URN, or what differed (empty: the resource's own). */
export type AliasSpec = { urn: string } | { name: string; type: string; stack: string; project: string; parentUrn: string; noParent: boolean };

function aliasSpec(alias: AliasMessage): AliasSpec {
    const spec = alias.getSpec();
    return spec === undefined
        ? { urn: alias.getUrn() }
        : {
              name: spec.getName(),
              type: spec.getType(),
              stack: spec.getStack(),
              project: spec.getProject(),
              parentUrn: spec.getParenturn(),
              noParent: spec.getNoparent(),
          };
}

/** The parts of a URN `urn:pulumi:<stack>::<project>::<qualified type>::<name>`. */
function urnParts(urn: string): { stack: string; project: string; qualifiedType: string; name: string } {
    const [head, project, qualifiedType, ...name] = urn.split("::");
    return { stack: head.replace(/^urn:pulumi:/, ""), project, qualifiedType, name: name.join("::") };
}

/**
 * A URN as the engine makes it: the parent's whole qualified type before the resource's own, the root stack's
 * left out (pulumi/pulumi sdk/go/common/resource/urn.go, `NewURN`; the mock monitor keeps only the parent's
 * last type).
 */
function makeUrn(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
    const parentType = parentUrn === undefined ? undefined : urnParts(parentUrn).qualifiedType;
    const qualified = parentType === undefined || parentType === ROOT_STACK_TYPE ? type : `${parentType}$${type}`;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** `type::name` from a URN `urn:pulumi:<stack>::<project>::[<parent type>$]<type>::<name>`. */
export function keyOfUrn(urn: string): string {
    const parts = urn.split("::");
    const types = parts[2].split("$");
    return `${types[types.length - 1]}::${parts.slice(3).join("::")}`;
}

export interface RunOptions {
    /** The availability zones the region offers. */
    zones?: string[];
    /** The Route 53 hosted zones the account holds. */
    hostedZones?: Array<{ zoneId: string; name: string }>;
    /** The CloudWatch log groups the account holds already, e.g. those a destroyed stack kept. */
    logGroups?: string[];
    stack?: string;
}

function hex(text: string, length: number): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** What the AWS and Docker providers compute on create, as far as the program reads it. */
function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    const physical = inputs.name ?? `${name}-${hex(name, 7)}`;
    const base = { name: physical, arn: `arn:aws:${type.split(":")[1]?.split("/")[0] ?? "x"}:${REGION}:${ACCOUNT}:${physical}` };
    switch (type) {
        case "aws:s3/bucket:Bucket": {
            const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? name}${hex(name, 8)}`;
            return { bucket, arn: `arn:aws:s3:::${bucket}` };
        }
        case "aws:kms/key:Key":
            return { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${hex(name, 8)}-0000-0000-0000-000000000000`, keyId: hex(name, 8) };
        case "aws:acm/certificate:Certificate": {
            const names: string[] = [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])];
            return {
                ...base,
                domainValidationOptions: names.map((domainName) => ({
                    domainName,
                    resourceRecordName: `_${hex(domainName, 12)}.${domainName}.`,
                    resourceRecordType: "CNAME",
                    resourceRecordValue: `_${hex(`v:${domainName}`, 12)}.acm-validations.aws.`,
                })),
            };
        }
        case "aws:lb/loadBalancer:LoadBalancer":
            return {
                ...base,
                dnsName: `${physical}-${hex(name, 10)}.${REGION}.elb.amazonaws.com`,
                arnSuffix: `app/${physical}/${hex(name, 16)}`,
                zoneId: "Z35SXDOTRQ7X7K",
            };
        case "aws:lb/targetGroup:TargetGroup":
            return { ...base, arnSuffix: `targetgroup/${physical}/${hex(name, 16)}` };
        case "aws:ec2/instance:Instance":
            return { ...base, primaryNetworkInterfaceId: `eni-${hex(name, 17)}` };
        case "aws:route53/record:Record":
            return { fqdn: String(inputs.name).replace(/\.$/, "") };
        case "aws:acm/certificateValidation:CertificateValidation":
            return { certificateArn: inputs.certificateArn };
        // The ARNs the policy tests match against, as IAM spells them.
        case "aws:iam/role:Role":
            return { ...base, arn: `arn:aws:iam::${ACCOUNT}:role${inputs.path ?? "/"}${physical}` };
        case "aws:iam/policy:Policy":
            return { ...base, arn: `arn:aws:iam::${ACCOUNT}:policy${inputs.path ?? "/"}${physical}` };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { ...base, arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${physical}` };
        case "aws:ecs/service:Service":
            return { ...base, arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/berth-cluster/${physical}` };
        case "aws:sfn/stateMachine:StateMachine":
            return { ...base, arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${physical}` };
        case "aws:sqs/queue:Queue":
            return { ...base, url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}` };
        case "aws:ecr/repository:Repository":
            return { ...base, registryId: ACCOUNT, repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${physical}` };
        case "random:index/randomId:RandomId":
            // Random in AWS; here a function of the keepers, so that a new draw shows as a new value.
            return { hex: hex(JSON.stringify(inputs.keepers ?? {}), 2 * (inputs.byteLength ?? 4)) };
        case "docker-build:index:Image":
            return { digest: `sha256:${hex(`digest:${name}`, 64)}`, ref: "" };
        case "aws:rds/instance:Instance": {
            // As RDS reports them: `<identifier>.<12 characters>.<region>.rds.amazonaws.com`, and the managed
            // secret `rds!db-<uuid>` with its ARN's random six-character suffix.
            const identifier = inputs.identifier ?? physical;
            const address = `${identifier}.c${hex(`rds:${ACCOUNT}`, 11)}.${REGION}.rds.amazonaws.com`;
            const uuid = hex(`uuid:${name}`, 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
            return {
                identifier,
                arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${identifier}`,
                address,
                endpoint: `${address}:${inputs.port ?? 5432}`,
                port: inputs.port ?? 5432,
                dbName: inputs.dbName,
                resourceId: `db-${hex(`resource:${name}`, 26).toUpperCase()}`,
                engineVersionActual: `${inputs.engineVersion}${String(inputs.engineVersion).includes(".") ? "" : ".6"}`,
                masterUserSecrets: inputs.manageMasterUserPassword
                    ? [
                          {
                              secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-${uuid}-${hex(`suffix:${name}`, 6)}`,
                              kmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${hex("aws/secretsmanager", 8)}-0000-4000-8000-${hex("key", 12)}`,
                              secretStatus: "active",
                          },
                      ]
                    : [],
            };
        }
        case "aws:secretsmanager/secret:Secret": {
            const secretName = `${inputs.namePrefix ?? `${name}-`}${hex(`prefix:${name}`, 26)}`;
            return { name: secretName, arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${secretName}-${hex(`sm:${name}`, 6)}` };
        }
        case "random:index/randomId:RandomId":
            return { hex: hex(`random:${name}`, 2 * (inputs.byteLength ?? 4)) };
        default:
            return base;
    }
}

export class Harness {
    readonly resources: Recorded[] = [];
    readonly calls: string[] = [];
    /** Every invoke with the provider it went through (`<urn>::<id>`; undefined: the default provider). */
    readonly invokes: Array<{ token: string; provider?: string }> = [];
    private zones: string[];
    private zones53: Array<{ zoneId: string; name: string }>;
    private logGroups: string[];
    /** Options the mocks do not pass to `newResource`, read from each registration request. */
    private readonly requests = new Map<
        string,
        Pick<
            Recorded,
            | "dependencies"
            | "dependsOn"
            | "protect"
            | "retainOnDelete"
            | "ignoreChanges"
            | "replaceWith"
            | "deleteBeforeReplace"
            | "importId"
            | "aliases"
            | "parentUrn"
        >
    >();

    constructor(options: RunOptions = {}) {
        this.zones = options.zones ?? ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"];
        this.zones53 = options.hostedZones ?? [{ zoneId: HOSTED_ZONE_ID, name: "example.com" }];
        this.logGroups = options.logGroups ?? [];
    }

    /**
     * Installs the mocks and the stack's configuration. Call before constructing resources.
     * @param secretKeys the configuration keys set with `--secret`
     */
    async install(config: Record<string, string>, stack = "dev", preview = false, secretKeys: string[] = []): Promise<void> {
        await pulumi.runtime.setMocks(
            {
                newResource: (args: pulumi.runtime.MockResourceArgs) => {
                    this.resources.push({
                        type: args.type,
                        name: args.name,
                        inputs: args.inputs,
                        provider: args.provider,
                        custom: args.custom ?? true,
                        dependencies: [],
                        dependsOn: [],
                        protect: false,
                        retainOnDelete: false,
                        deleteBeforeReplace: false,
                        ignoreChanges: [],
                        replaceWith: [],
                        aliases: [],
                        secretInputs: Object.entries(args.inputs)
                            .filter(([, v]) => isWireSecret(v))
                            .map(([k]) => k),
                        outputs: {},
                    });
                    const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs) };
                    const id = args.custom === false ? undefined : `${args.name}-id`;
                    Object.assign(this.resources[this.resources.length - 1], { id, outputs: state });
                    return { id, state };
                },
                call: (args: pulumi.runtime.MockCallArgs) => {
                    this.calls.push(args.token);
                    this.invokes.push({ token: args.token, provider: args.provider });
                    switch (args.token) {
                        case "aws:index/getAvailabilityZones:getAvailabilityZones":
                            return { id: REGION, names: this.zones, zoneIds: this.zones.map((_, i) => `use1-az${i + 1}`) };
                        case "aws:index/getCallerIdentity:getCallerIdentity":
                            return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDAEXAMPLE" };
                        case "aws:ssm/getParameter:getParameter":
                            // The public parameters Berth reads: the current Amazon Linux AMI of the NAT instance.
                            if (!String(args.inputs.name).startsWith("/aws/service/ami-amazon-linux-latest/")) {
                                throw new Error(`unexpected SSM parameter ${args.inputs.name}`);
                            }
                            return {
                                id: args.inputs.name,
                                name: args.inputs.name,
                                type: "String",
                                value: "ami-0123456789abcdef0",
                                insecureValue: "ami-0123456789abcdef0",
                                version: 1,
                                arn: `arn:aws:ssm:${REGION}::parameter${args.inputs.name}`,
                                withDecryption: true,
                            };
                        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                            return {
                                id: ACCOUNT,
                                userName: "AWS",
                                password: "mock-password",
                                authorizationToken: "bW9jaw==",
                                proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
                            };
                        case "aws:index/getCallerIdentity:getCallerIdentity":
                            return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/mock`, userId: "AIDAMOCK" };
                        case "aws:index/getPartition:getPartition":
                            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
                        case "aws:elb/getServiceAccount:getServiceAccount":
                            // us-east-1's Elastic Load Balancing account, as the provider's table lists it.
                            return { id: "127311923021", arn: "arn:aws:iam::127311923021:root" };
                        case "aws:cloudwatch/getLogGroups:getLogGroups": {
                            const names = this.logGroups.filter((n) => n.startsWith(String(args.inputs.logGroupNamePrefix ?? "")));
                            return {
                                id: REGION,
                                logGroupNamePrefix: args.inputs.logGroupNamePrefix,
                                logGroupNames: names,
                                arns: names.map((n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`),
                                region: REGION,
                            };
                        }
                        case "aws:route53/getZone:getZone": {
                            const zone = this.zones53.find((z) => z.zoneId === args.inputs.zoneId);
                            if (!zone) {
                                throw new Error(`no hosted zone ${args.inputs.zoneId}`);
                            }
                            return { id: zone.zoneId, zoneId: zone.zoneId, name: zone.name, privateZone: false };
                        }
                        default:
                            throw new Error(`unexpected invoke ${args.token}`);
                    }
                },
            },
            "berth",
            stack,
            preview,
        );
        pulumi.runtime.setAllConfig(config, secretKeys);
        this.recordOptions();
    }

    /**
     * `MockResourceArgs` carries no resource options, so the harness wraps the mock monitor's
     * `registerResource` and reads them from the request itself.
     */
    private recordOptions(): void {
        const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: RegisterRequest, callback: unknown) => {
            const all = req.getDependenciesList();
            const fromInputs = new Set<string>();
            req.getPropertydependenciesMap().forEach((value) => value.getUrnsList().forEach((urn) => fromInputs.add(urn)));
            this.requests.set(`${req.getType()}::${req.getName()}`, {
                dependencies: all.map(keyOfUrn),
                dependsOn: all.filter((urn) => !fromInputs.has(urn)).map(keyOfUrn),
                protect: req.getProtect() ?? false,
                retainOnDelete: req.getRetainondelete() ?? false,
                deleteBeforeReplace: req.getDeletebeforereplace() ?? false,
                importId: req.getImportid() || undefined,
                ignoreChanges: req.getIgnorechangesList(),
                replaceWith: req.getReplaceWithList().map(keyOfUrn),
                aliases: req.getAliasesList().map(aliasSpec),
                parentUrn: req.getParent() || undefined,
            });
            return register(req, callback);
        };
    }

    /** Waits until every registration has reached the mocks, then records each resource's parent. */
    async settle(): Promise<void> {
        await waitForRPCs();
        const monitor = pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> };
        const parents = new Map<string, string | undefined>();
        const urns = new Map<string, string>();
        for (const urn of monitor.resources.keys()) {
            const types = urn.split("::")[2].split("$");
            parents.set(keyOfUrn(urn), types.length > 1 ? types[types.length - 2] : undefined);
            urns.set(keyOfUrn(urn), urn);
        }
        for (const r of this.resources) {
            const key = `${r.type}::${r.name}`;
            r.parentType = parents.get(key);
            r.urn = urns.get(key);
            Object.assign(r, this.requests.get(key) ?? {});
        }
    }

    /** `r`'s URN as the engine makes it (`makeUrn`). Call after `settle`. */
    engineUrn(r: Recorded): string {
        const { stack, project } = urnParts(r.urn!);
        const parent = this.byMockUrn(r.parentUrn);
        return makeUrn(stack, project, parent && this.engineUrn(parent), r.type, r.name);
    }

    /**
     * Every URN under which the engine looks for `r` in a stack's state before it creates it
     * (pulumi/pulumi pkg/resource/deploy/step_generator.go, `generateAliases`): its URN; its own aliases, each
     * completed with its name, type and parent where it leaves them out and with no parent for the root stack
     * (`collapseAliasToUrn`); and for each alias of its parent, the URN under that former parent, with the
     * parent's former name in place of the parent's name at the start of its own (`inheritedChildAlias`).
     * The engine takes the parent alias a state matched; this lists them all. Call after `settle`.
     */
    formerUrns(r: Recorded): string[] {
        const urn = this.engineUrn(r);
        const { stack, project } = urnParts(urn);
        const parent = this.byMockUrn(r.parentUrn);
        const parentUrn = parent && this.engineUrn(parent);
        const own = r.aliases.map((a) =>
            "urn" in a
                ? a.urn
                : makeUrn(
                      a.stack || stack,
                      a.project || project,
                      a.noParent ? undefined : a.parentUrn ? this.engineUrn(this.byMockUrn(a.parentUrn)!) : parentUrn,
                      a.type || r.type,
                      a.name || r.name,
                  ),
        );
        const urns = new Set([urn, ...own]);
        if (parent !== undefined) {
            for (const parentAlias of this.formerUrns(parent).filter((u) => u !== parentUrn)) {
                for (const child of [urn, ...own]) {
                    const { qualifiedType, name } = urnParts(child);
                    const renamed = name.startsWith(parent.name) ? urnParts(parentAlias).name + name.slice(parent.name.length) : name;
                    urns.add(makeUrn(stack, project, parentAlias, qualifiedType.split("$").pop()!, renamed));
                }
            }
        }
        return [...urns];
    }

    private byMockUrn(urn: string | undefined): Recorded | undefined {
        return urn === undefined ? undefined : this.resources.find((p) => p.urn === urn);
    }

    /** Whether the engine waits for `dependency` (`type::name`) before it creates `r`, directly. */
    waitsFor(r: Recorded, dependency: Recorded): boolean {
        return r.dependencies.includes(`${dependency.type}::${dependency.name}`);
    }

    /** What the program registered that AWS would hold: every resource but the providers (which create nothing). */
    awsResources(): Recorded[] {
        return this.resources.filter((r) => !r.type.startsWith("pulumi:providers:"));
    }

    ofType(type: string): Recorded[] {
        return this.resources.filter((r) => r.type === type);
    }

    one(type: string, name: string): Recorded {
        const found = this.resources.filter((r) => r.type === type && r.name === name);
        if (found.length !== 1) {
            throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
        }
        return found[0];
    }
}

/** The mocks pass secret inputs in their wire form (@pulumi/pulumi runtime/rpc.js, `specialSecretSig`). */
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

function isWireSecret(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === SECRET_SIGNATURE;
}

/** An Output's value, awaited. */
export function promiseOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) =>
        pulumi.output(output).apply((v) => {
            resolve(v as T);
            return v;
        }),
    );
}

/**
 * The configuration the Pulumi CLI would hand the program for `stack`: Pulumi.yaml's defaults under the
 * stack file's values, every value a string (objects as JSON), as the CLI passes them.
 */
export function stackConfig(stack: string): Record<string, string> {
    return readStackConfig(stack, ROOT).config;
}

/** The stacks this repository ships: one per `Pulumi.<stack>.yaml`. */
export function shippedStacks(): string[] {
    return shippedStackFiles(ROOT);
}

/** `jobs` defaults to the shipped jobs with the shipped services, and to none with `services` of a test's own. */
type RunBerthOptions = RunOptions & { services?: readonly CatalogService[]; jobs?: readonly CatalogJob[]; secretKeys?: string[] };
type BerthRun = { h: Harness; outputs: pulumi.Unwrap<BerthOutputs> };

/**
 * Runs of the program, by everything a run reads (config, stack, mocked account, services). The program reads
 * nothing else (no environment variable; its build contexts do not change while the tests run), so one run per
 * distinct input serves every test that asks for it: most tests read the same few stacks.
 */
const runs = new Map<string, Promise<Buffer>>();

/**
 * Plain data as text that tells every distinct value apart (a key set to `undefined` from a missing one, as the
 * program can); undefined when the value holds anything else (a function, a class instance), which text cannot.
 */
function canonical(value: unknown): string | undefined {
    if (value === undefined) {
        return "undefined";
    }
    if (value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
        return JSON.stringify(value);
    }
    if (Array.isArray(value)) {
        const items = value.map(canonical);
        return items.includes(undefined) ? undefined : `[${items.join(",")}]`;
    }
    if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        const entries = Object.keys(value)
            .sort()
            .map((k) => {
                const text = canonical((value as Record<string, unknown>)[k]);
                return text === undefined ? undefined : `${JSON.stringify(k)}:${text}`;
            });
        return entries.includes(undefined) ? undefined : `{${entries.join(",")}}`;
    }
    return undefined;
}

/** The key of a run's inputs; undefined when they carry more than plain data (then the run is not shared). */
export function runKey(config: Record<string, string>, options: RunBerthOptions = {}): string | undefined {
    return canonical([
        config,
        options.stack ?? "dev",
        options.zones,
        options.hostedZones,
        options.logGroups,
        [...(options.secretKeys ?? [])].sort(),
        options.services ?? catalog,
        jobsOf(options),
    ]);
}

function jobsOf(options: RunBerthOptions): readonly CatalogJob[] {
    return options.jobs ?? (options.services ? [] : shippedJobs);
}

/**
 * One run. Pulumi takes a stack trace for every promise it makes (`debuggablePromise`, in
 * @pulumi/pulumi runtime/debuggable.js: `new Error().stack`), thousands per run, and ts-node's source-map
 * support maps each frame of each one back to TypeScript: more than half of a run's time. The run formats
 * them as V8 does instead (positions in the transpiled JavaScript); the tests read messages, not positions.
 */
async function runOnce(config: Record<string, string>, options: RunBerthOptions): Promise<BerthRun> {
    const errors = Error as { prepareStackTrace?: unknown };
    const mapped = errors.prepareStackTrace;
    errors.prepareStackTrace = undefined;
    try {
        const h = new Harness(options);
        await h.install(config, options.stack ?? "dev", false, options.secretKeys);
        const { deployBerth } = await import("../../program");
        const outputs = await promiseOf(pulumi.output(await deployBerth(options.services ?? catalog, jobsOf(options))));
        await h.settle();
        return { h, outputs };
    } finally {
        errors.prepareStackTrace = mapped;
    }
}

/**
 * Runs the whole program under mocks with `config`, and returns the harness and the resolved outputs: a copy
 * of its own, so that a test that changes what it reads changes nothing another test reads.
 */
export async function runBerth(config: Record<string, string>, options: RunBerthOptions = {}): Promise<BerthRun> {
    const key = runKey(config, options);
    let run = key === undefined ? undefined : runs.get(key);
    if (run === undefined) {
        // Kept serialized: outside the JavaScript heap, dozens of runs cost the garbage collector nothing to keep.
        run = runOnce(config, options).then(({ h, outputs }) => v8.serialize({ resources: h.resources, calls: h.calls, invokes: h.invokes, outputs }));
        if (key !== undefined) {
            runs.set(key, run);
        }
    }
    const { resources, calls, invokes, outputs } = v8.deserialize(await run) as Pick<Harness, "resources" | "calls" | "invokes"> & Pick<BerthRun, "outputs">;
    const copy = new Harness(options);
    copy.resources.push(...resources);
    copy.calls.push(...calls);
    copy.invokes.push(...invokes);
    return { h: copy, outputs };
}
