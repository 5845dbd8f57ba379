import * as pulumi from "@pulumi/pulumi";

/** Owns nothing in AWS: creating, updating and deleting it does nothing. */
const provider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
        return { id: "destroy-guard", outs: inputs };
    },
    async diff(): Promise<pulumi.dynamic.DiffResult> {
        return { changes: false };
    },
    async delete(): Promise<void> {},
};

/**
 * Makes `pulumi destroy` of a protected stack refuse before it deletes anything, even with `--skip-preview`.
 *
 * The engine checks `protect` only when it reaches a resource's delete step
 * (pulumi/pulumi pkg/resource/deploy/step.go, `DeleteStep.Apply` returns `deleteProtectedError`), and it
 * deletes dependents before what they depend on (`stepGenerator.ScheduleDeletes`). A protected ALB alone
 * would thus see the services, listeners and rules deleted before its own step fails. The guard depends on
 * every resource of the stack, so its delete step comes first, alone; it fails, and the engine then skips
 * every transitive dependency of the failed step (`deploymentExecutor` drops `erroredDeps` from later
 * delete antichains): nothing is deleted. A plain `pulumi destroy` stops even earlier, in its preview, which
 * runs the same protect check (pkg/backend/apply.go, `PreviewThenPromptThenExecute`).
 */
export class DestroyGuard extends pulumi.dynamic.Resource {
    /**
     * @param guarded the stack's components: the guard comes after every resource in them
     * @param protect refuse the stack's deletion; false lets a deliberate `pulumi destroy` through
     */
    constructor(name: string, guarded: pulumi.Resource[], protect: boolean, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { protected: protect }, { ...opts, dependsOn: guarded, protect }, "berth", "DestroyGuard");
    }
}
