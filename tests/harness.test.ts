/** The mock harness itself (tests/support/pulumi.ts): what lets the Pulumi tests share runs and run fast. */
import * as assert from "assert";
import { catalog } from "../catalog";
import { sourceVersion } from "../core/buildContext";
import { ROOT, runBerth, runKey, stackConfig } from "./support/pulumi";

describe("the mock harness", () => {
    it("shares one program run between the tests that ask for the same inputs, the shipped catalogue's included", () => {
        const dev = stackConfig("dev");
        assert.notStrictEqual(runKey(dev, { stack: "dev" }), undefined, "no run of the shipped catalogue is shared");
        const reordered = Object.fromEntries(Object.entries(dev).reverse());
        assert.strictEqual(runKey(reordered, { stack: "dev" }), runKey(dev, { stack: "dev" }));
        assert.strictEqual(runKey(dev, { secretKeys: ["b", "a"] }), runKey(dev, { secretKeys: ["a", "b"] }));
    });

    it("runs again for inputs the program can tell apart", () => {
        const dev = stackConfig("dev");
        const service = { ...catalog[0], subdomain: undefined };
        const { subdomain: _, ...withoutSubdomain } = service;
        const keys = [
            runKey(dev, { stack: "dev" }),
            runKey(dev, { stack: "prod" }),
            runKey({ ...dev, "berth:natStrategy": "single" }, { stack: "dev" }),
            runKey(dev, { stack: "dev", secretKeys: ["berth:secrets"] }),
            runKey(dev, { stack: "dev", zones: ["us-east-1a", "us-east-1b"] }),
            runKey(dev, { stack: "dev", services: [service] }),
            runKey(dev, { stack: "dev", services: [withoutSubdomain as typeof service] }),
        ];
        assert.ok(keys.every((k) => k !== undefined));
        assert.strictEqual(new Set(keys).size, keys.length, "two distinct inputs share a run");
    });

    it("takes no stack trace for each promise Pulumi makes (PULUMI_DEBUG_PROMISE_LEAKS unset)", async () => {
        assert.strictEqual(process.env.PULUMI_DEBUG_PROMISE_LEAKS, undefined, "run without PULUMI_DEBUG_PROMISE_LEAKS");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T> };
        const made = Promise.resolve(1);
        assert.strictEqual(await debuggablePromise(made, "a test"), 1);
        assert.strictEqual((made as unknown as { _debugStackTrace: string })._debugStackTrace, "Error");
        assert.ok(Error.stackTraceLimit > 0, "stack traces are gone for good");
    });

    it("asks git for each service's source version in this repository once, and a copy each time", () => {
        const { context, dockerfile } = catalog[0].build;
        const first = sourceVersion(ROOT, context, dockerfile);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const processes = require("child_process") as { execFileSync: typeof import("child_process").execFileSync };
        const spawn = processes.execFileSync;
        let spawned = 0;
        processes.execFileSync = ((...args: Parameters<typeof spawn>) => {
            spawned++;
            return spawn(...args);
        }) as typeof spawn;
        try {
            const again = sourceVersion(ROOT, context, dockerfile);
            assert.deepStrictEqual(again, first);
            assert.notStrictEqual(again, first);
        } finally {
            processes.execFileSync = spawn;
        }
        assert.strictEqual(spawned, 0);
    });

    it("hands each test a copy of a shared run of its own, so that what one test changes no other test reads", async () => {
        const first = await runBerth(stackConfig("dev"));
        const before = JSON.stringify(first.h.resources[0]);
        first.h.resources[0].inputs.changedByTest = true;
        first.h.resources.pop();
        first.outputs.url = "changed by a test";
        const second = await runBerth(stackConfig("dev"));
        assert.strictEqual(second.h.resources.length, first.h.resources.length + 1);
        assert.strictEqual(JSON.stringify(second.h.resources[0]), before);
        assert.notStrictEqual(second.outputs.url, "changed by a test");
    });

    it("shares no run whose services hold more than plain data", () => {
        const odd = { ...catalog[0], healthCheck: () => "/health" } as unknown as (typeof catalog)[number];
        assert.strictEqual(runKey({}, { services: [odd] }), undefined);
    });
});
