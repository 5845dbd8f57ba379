/**
 * `npm run cost -- <stack> [--markdown]`: what the stack costs a month, item by item (cost/estimate.ts), from its
 * Pulumi.<stack>.yaml and the catalogue, without Pulumi or AWS. `--markdown` prints README's table form.
 */
import { costMarkdown, costText, estimateCost } from "../cost/estimate";
import { loadSettings } from "../config";
import { catalog } from "../catalog";
import { readStackConfig, shippedStacks } from "./stackConfig";

function main(argv: string[]): number {
    const markdown = argv.includes("--markdown");
    const stacks = argv.filter((a) => !a.startsWith("--"));
    if (stacks.length !== 1) {
        console.error(`usage: npm run cost -- <stack> [--markdown]; shipped stacks: ${shippedStacks().join(", ")}`);
        return 2;
    }
    const [stack] = stacks;
    try {
        const { project, config, secretKeys } = readStackConfig(stack);
        const settings = loadSettings(config, { project, stack }, catalog, secretKeys);
        const estimate = estimateCost(settings, catalog);
        console.log(markdown ? costMarkdown(estimate) : costText(estimate));
        return 0;
    } catch (e) {
        console.error((e as Error).message);
        return 1;
    }
}

process.exitCode = main(process.argv.slice(2));
