import * as pulumi from "@pulumi/pulumi";
import { ServiceAlarms } from "../observability/alarms";
import { serviceAlarmNames, type AlarmExposure } from "../../core/alarmRules";
import { FargateService, type Callee, type FargateServiceArgs } from "./fargateService";
import { ServiceImage, type ServiceImageArgs } from "./serviceImage";

export interface ServiceArgs {
    /** How the image is built, pushed and kept (`ServiceImageArgs`). */
    image: ServiceImageArgs;
    /**
     * The Fargate service (`FargateServiceArgs`) but what this component derives: the image is its own, pinned
     * to its digest; the environment gets `COMMIT_VARIABLE` and the tags `COMMIT_TAG`, the commit the image is
     * built from; the deployment rolls back on the service's own rollback alarms.
     */
    run: Omit<FargateServiceArgs, "image" | "deploymentAlarmNames">;
    /** The service's alarms (`ServiceAlarms`). */
    alarms: {
        /** The SNS topic every alarm notifies. */
        topicArn: pulumi.Input<string>;
        /** The cluster runs ECS Container Insights (see `AlarmSubject.containerInsights`). */
        containerInsights: boolean;
    };
}

/**
 * One service of the catalogue, whole: its image, the Fargate service that runs it, and the alarms on it.
 *
 * Creates: a `ServiceImage`, a `FargateService` and a `ServiceAlarms`, named as they were when the program
 * created them at the stack's root (`<name>`, `<name>`, `<name>-alarms`).
 *
 * A resource's URN holds the types of its parents (`urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>`,
 * https://www.pulumi.com/docs/iac/concepts/resources/names/#urns), so moving a resource under this component
 * changes its URN, and without more Pulumi would delete the old resource and create a new one. Each child
 * therefore names its former place, `aliases: [{ parent: pulumi.rootStackResource }]`: the URN it had as a
 * child of the stack (https://www.pulumi.com/docs/iac/operations/stack-management/refactoring-with-aliases/,
 * "Wrapping resources in a component"). The engine derives the grandchildren's former URNs from their
 * parent's matched alias, so the resources inside these three keep theirs without aliases of their own
 * (https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/; pulumi/pulumi,
 * pkg/resource/deploy/step_generator.go, `generateAliases` and `inheritedChildAlias`).
 */
export class Service extends pulumi.ComponentResource {
    public readonly image: ServiceImage;
    public readonly fargate: FargateService;
    public readonly alarms: ServiceAlarms;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:service:Service", name, {}, opts);
        const expose = args.run.expose;
        if (expose.kind === "public" && expose.loadBalancerArnSuffix === undefined) {
            throw new Error(`Service "${name}": "run.expose.loadBalancerArnSuffix" is missing; a public service's alarms read the ALB's metrics`);
        }
        const formerly = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };

        this.image = new ServiceImage(name, args.image, formerly);
        this.fargate = this.run(name, args.run, formerly);
        this.alarms = this.watch(name, args, formerly);
        this.registerOutputs({});
    }

    /** What a service that calls this one needs to know of it. */
    asCallee(): Callee {
        return this.fargate.asCallee();
    }

    private run(name: string, run: ServiceArgs["run"], opts: pulumi.ComponentResourceOptions): FargateService {
        return new FargateService(
            name,
            {
                ...this.image.runArgs(run),
                deploymentAlarmNames: serviceAlarmNames(run.family, run.expose.kind).rollback,
            },
            opts,
        );
    }

    private watch(name: string, args: ServiceArgs, opts: pulumi.ComponentResourceOptions): ServiceAlarms {
        const expose = args.run.expose;
        const alarmed: AlarmExposure<pulumi.Input<string>> =
            expose.kind === "public"
                ? {
                      kind: "public",
                      loadBalancerArnSuffix: expose.loadBalancerArnSuffix!,
                      targetGroupArnSuffix: this.fargate.targetGroupArnSuffix!,
                      alternateTargetGroupArnSuffix: this.fargate.targetGroupArnSuffixes?.[1],
                  }
                : { kind: "backend", discoveryName: expose.discoveryName };
        return new ServiceAlarms(
            `${name}-alarms`,
            {
                family: args.run.family,
                topicArn: args.alarms.topicArn,
                clusterName: args.run.cluster.name,
                serviceName: this.fargate.serviceName,
                expose: alarmed,
                minCount: args.run.desiredCount,
                containerInsights: args.alarms.containerInsights,
                mayRunZeroTasks: (args.run.scaling?.schedules ?? []).some((s) => s.minCount === 0),
            },
            opts,
        );
    }
}
