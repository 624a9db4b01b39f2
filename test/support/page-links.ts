// Reading the `next`/`previous` links of a paged list.

/** The path and query of a `next`/`previous` link, to follow it on the test's own base URL. */
export function pathOf(link: string): string {
  const url = new URL(link, "http://placeholder");
  return `${url.pathname}${url.search}`;
}

/** The query parameters of a link. */
export function queryOf(link: string): Record<string, string> {
  return Object.fromEntries(new URL(link, "http://placeholder").searchParams);
}
