/** The estimate as docs/cost.md shows it (Markdown) and as `npm run cost` prints it (text). */
import type { CostEstimate } from "./estimate";
import { PRICE_REGION } from "./prices";

/** An amount in dollars and cents: `$32.85`. */
const usd = (n: number) => `$${n.toFixed(2)}`;

/** The estimate as a Markdown table, the form docs/cost.md shows. */
export function costMarkdown(estimate: CostEstimate): string {
    const rows = estimate.items.map((i) => `| ${i.name} | ${i.detail} | ${usd(i.monthly)} |`);
    return ["| Item | How | Per month |", "| --- | --- | ---: |", ...rows, `| **Total** | | **${usd(estimate.total)}** |`].join("\n");
}

/** The estimate as aligned text, for a terminal. */
export function costText(estimate: CostEstimate): string {
    const width = Math.max(...estimate.items.map((i) => i.name.length));
    const lines = estimate.items.map((i) => `${i.name.padEnd(width)}  ${usd(i.monthly).padStart(9)}  ${i.detail}`);
    return [
        `${estimate.stack} (environment ${estimate.environment}, ${estimate.region}): about ${usd(estimate.total)} a month`,
        `prices: ${PRICE_REGION} list prices read on ${estimate.pricesReadOn} (cost/prices.ts); use as assumed in cost/usageAssumptions.ts`,
        ...estimate.warnings.map((w) => `warning: ${w}`),
        "",
        ...lines,
        `${"Total".padEnd(width)}  ${usd(estimate.total).padStart(9)}`,
    ].join("\n");
}
