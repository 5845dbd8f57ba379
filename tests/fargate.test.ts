import * as assert from "assert";
import { describeFargateMemory, FARGATE_SIZES, isFargateSize } from "../core/fargate";

describe("Fargate sizes", () => {
    const accepted: Array<[number, number]> = [
        [256, 512],
        [256, 2048],
        [512, 1024],
        [512, 4096],
        [1024, 2048],
        [1024, 8192],
        [2048, 4096],
        [2048, 16384],
        [4096, 8192],
        [4096, 30720],
        [8192, 16384],
        [16384, 122880],
    ];
    const refused: Array<[number, number]> = [
        [256, 256],
        [256, 3072],
        [512, 512],
        [512, 5120],
        [1024, 1024],
        [1024, 9216],
        [2048, 2048],
        [4096, 31744],
        [300, 1024],
        [8192, 18432],
    ];
    for (const [cpu, memory] of accepted) {
        it(`accepts cpu ${cpu} with ${memory} MiB`, () => assert.ok(isFargateSize(cpu, memory)));
    }
    for (const [cpu, memory] of refused) {
        it(`refuses cpu ${cpu} with ${memory} MiB`, () => assert.ok(!isFargateSize(cpu, memory)));
    }
    it("lists 512-4096 MiB in steps of 1024 for half a vCPU", () => {
        assert.deepStrictEqual(FARGATE_SIZES[512], [1024, 2048, 3072, 4096]);
    });
    it("says what is allowed", () => {
        assert.strictEqual(describeFargateMemory(256), "with cpu 256, memory must be one of 512, 1024, 2048 (MiB)");
        assert.match(describeFargateMemory(300), /cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384/);
    });
});
