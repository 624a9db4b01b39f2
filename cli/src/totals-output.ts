import type { GlobalOptions } from "./global-options.ts";
import { formatOutput, printOutput, type TableSpec } from "./output.ts";

/**
 * A report as a table of its rows with its totals under it, one `label: value` a line; json and yaml print the
 * API's whole object unchanged.
 */
export function printTableAndTotals(
  data: unknown,
  rows: unknown[],
  options: GlobalOptions,
  spec: TableSpec,
  totals: [label: string, value: string][],
): void {
  if (options.output !== "table") {
    printOutput(data, options, spec);
    return;
  }
  const width = Math.max(...totals.map(([label]) => label.length));
  const lines = totals.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}  ${value}`);
  process.stdout.write(`${formatOutput(rows, options, spec)}\n\n${lines.join("\n")}\n`);
}
