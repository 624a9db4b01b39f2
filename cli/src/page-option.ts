import { collect } from "./output.ts";

/**
 * A list's first page (the API's newest 50), or with `all` every page. Says on stderr when more are left, so that
 * a table is never silently short.
 */
export async function firstPageOrAll<T>(
  all: boolean | undefined,
  firstPage: () => Promise<{ data?: { count: number; results: T[] } }>,
  everyPage: () => AsyncIterable<T>,
): Promise<T[]> {
  if (all) return collect(everyPage());
  const page = (await firstPage()).data;
  const results = page?.results ?? [];
  if (page && page.count > results.length)
    process.stderr.write(`${results.length} of ${page.count} shown: --all lists every one\n`);
  return results;
}
