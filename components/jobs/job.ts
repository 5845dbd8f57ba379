import * as pulumi from "@pulumi/pulumi";
import { ServiceImage, type ServiceImageArgs } from "../service/serviceImage";
import { ScheduledJob, type ScheduledJobArgs } from "./scheduledJob";

export interface JobArgs {
    /** How the job's image is built and kept. */
    build: ServiceImageArgs;
    /** How it runs: everything but the image, which comes from `build`, pinned to its digest. */
    run: Omit<ScheduledJobArgs, "image">;
}

/**
 * One job of the catalogue, as `Service` is one service: its `ServiceImage` (ECR repository and image) and its
 * `ScheduledJob` (task definition, schedule, state machine, alarm), with the commit the image is built from
 * in the task's environment and tags.
 */
export class Job extends pulumi.ComponentResource {
    public readonly image: ServiceImage;
    public readonly scheduled: ScheduledJob;

    constructor(name: string, args: JobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:jobs:Job", name, {}, opts);
        this.image = new ServiceImage(name, args.build, { parent: this });
        this.scheduled = new ScheduledJob(name, this.image.runArgs(args.run), { parent: this });
        this.registerOutputs({ stateMachineArn: this.scheduled.stateMachineArn, imageRef: this.image.imageRef });
    }
}
