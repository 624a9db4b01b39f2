import { type Html, html } from "../html.ts";

const number = (n: number) => n.toLocaleString("en-US");

/**
 * A list's place ("Showing 101–200 of 1,000") with its previous and next links, when it has more than one page
 * or the page asked for is past the last one. `query` is carried into the links (a page size that is not the
 * default, a filter).
 */
export function pager(
  path: string,
  page: number,
  pageSize: number,
  count: number,
  query: Record<string, number | string> = {},
): Html {
  const last = Math.max(1, Math.ceil(count / pageSize));
  if (last === 1 && page === 1) return html``;
  const link = (p: number) => `${path}?${new URLSearchParams({ page: String(p), ...strings(query) })}`;
  const first = (page - 1) * pageSize + 1;
  const place =
    page > last
      ? html`Page ${number(page)} is past the last page (${number(last)}) of ${number(count)}`
      : html`Showing ${number(first)}–${number(Math.min(page * pageSize, count))} of ${number(count)}`;
  return html`<nav class="pager" aria-label="Pages">
  ${page > 1 ? html`<a href="${link(Math.min(page - 1, last))}" rel="prev">Previous</a>` : ""}
  <span>${place}</span>
  ${page < last ? html`<a href="${link(page + 1)}" rel="next">Next</a>` : ""}
</nav>`;
}

function strings(query: Record<string, number | string>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).map(([key, value]) => [key, String(value)]));
}
