import { stringify } from "yaml";
import { CliError } from "./cli-error.ts";
import { colourEnabled } from "./colour.ts";
import type { GlobalOptions } from "./global-options.ts";
import { renderTable } from "./table.ts";

/** How a resource shows as a table: the columns shown unless `--columns` names others. */
export interface TableSpec {
  columns: string[];
}

/** A cell: a dotted path into the object (`plan.name`), objects as compact JSON, null as "-". */
export function cell(item: unknown, path: string): string {
  let value: unknown = item;
  for (const key of path.split(".")) {
    value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (value === null || value === undefined) return "-";
  if (Array.isArray(value))
    return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function formatOutput(data: unknown, options: GlobalOptions, spec: TableSpec): string {
  switch (options.output) {
    case "json":
      return JSON.stringify(data, null, 2);
    case "yaml":
      return stringify(data).trimEnd();
    case "table": {
      const columns = options.columns
        ? options.columns
            .split(",")
            .map((c) => c.trim())
            .filter(Boolean)
        : spec.columns;
      const items = Array.isArray(data) ? data : [data];
      return renderTable(
        columns,
        items.map((item) => columns.map((column) => cell(item, column))),
        colourEnabled(),
      );
    }
    default:
      throw new CliError(`unknown output format "${options.output as string}"`, "invalid_input", 2);
  }
}

/** Prints the API's object(s) as the user asked: unchanged for json and yaml, chosen columns for a table. */
export function printOutput(data: unknown, options: GlobalOptions, spec: TableSpec): void {
  process.stdout.write(`${formatOutput(data, options, spec)}\n`);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The items of a list the API answers whole (`{count, results}`, no pages). */
export async function* listed<T>(answer: Promise<{ data?: { results: T[] } }>): AsyncIterable<T> {
  yield* (await answer).data?.results ?? [];
}
