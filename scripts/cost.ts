/**
 * `npm run cost -- <stack> [--markdown]`: what the stack costs a month, item by item (cost/estimate.ts), from its
 * Pulumi.<stack>.yaml and the catalogue, without Pulumi or AWS. `--markdown` prints the table form of docs/cost.md.
 */
import { estimateCost, type CostEstimate } from "../cost/estimate";
import { costMarkdown, costText } from "../cost/report";
import { loadSettings } from "../config";
import { catalog } from "../catalog";
import { readStackConfig, shippedStacks } from "./stackConfig";

/** The estimate of a stack as its `Pulumi.<stack>.yaml` and the catalogue declare it (also `npm run docs`'s tables). */
export function stackEstimate(stack: string): CostEstimate {
    const { project, config, secretKeys } = readStackConfig(stack);
    return estimateCost(loadSettings(config, { project, stack }, catalog, secretKeys), catalog);
}

function main(argv: string[]): number {
    const markdown = argv.includes("--markdown");
    const stacks = argv.filter((a) => !a.startsWith("--"));
    if (stacks.length !== 1) {
        console.error(`usage: npm run cost -- <stack> [--markdown]; shipped stacks: ${shippedStacks().join(", ")}`);
        return 2;
    }
    const [stack] = stacks;
    try {
        const estimate = stackEstimate(stack);
        console.log(markdown ? costMarkdown(estimate) : costText(estimate));
        return 0;
    } catch (e) {
        console.error((e as Error).message);
        return 1;
    }
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
