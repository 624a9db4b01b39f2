import { paint, paintStatus } from "./colour.ts";

/** Plain columns padded to their widest cell, the header in capitals (like hcloud and doctl). */
export function renderTable(headers: string[], rows: string[][], colour: boolean): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  // Painted after measuring: escape codes take no width.
  const line = (cells: string[], style: (cell: string, i: number) => string) =>
    cells
      .map(
        (cell, i) => style(cell, i) + " ".repeat(i === cells.length - 1 ? 0 : (widths[i] ?? 0) - cell.length),
      )
      .join("   ")
      .trimEnd();
  const head = line(
    headers.map((h) => h.toUpperCase()),
    (cell) => paint(cell, "bold", colour),
  );
  const statusColumns = new Set(headers.flatMap((h, i) => (/(^|_)(status|state)$/.test(h) ? [i] : [])));
  const body = rows.map((row) =>
    line(row, (cell, i) => (statusColumns.has(i) ? paintStatus(cell, colour) : cell)),
  );
  return [head, ...body].join("\n");
}
