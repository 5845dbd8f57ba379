import * as pulumi from "@pulumi/pulumi";
import { ServiceImage, type ServiceImageArgs } from "../service/serviceImage";
import { WorkerService, type WorkerServiceArgs } from "./workerService";

export interface WorkerArgs {
    /** How the worker's image is built and kept. */
    build: ServiceImageArgs;
    /** How it runs: everything but the image, which comes from `build`, pinned to its digest. */
    run: Omit<WorkerServiceArgs, "image">;
}

/**
 * One worker of the catalogue, as `Service` is one service: its `ServiceImage` (ECR repository and image) and
 * its `WorkerService` (task definition, queue consumer, backlog scaling), with the commit the image is built
 * from in the task's environment and tags.
 */
export class Worker extends pulumi.ComponentResource {
    public readonly image: ServiceImage;
    public readonly service: WorkerService;

    constructor(name: string, args: WorkerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:messaging:Worker", name, {}, opts);
        this.image = new ServiceImage(name, args.build, { parent: this });
        this.service = new WorkerService(name, this.image.runArgs(args.run), { parent: this });
        this.registerOutputs({ serviceName: this.service.serviceName, imageRef: this.image.imageRef });
    }
}
