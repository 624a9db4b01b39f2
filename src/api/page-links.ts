import type { FastifyRequest } from "fastify";

const SAFE_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The base of the links the API answers: VPS_PUBLIC_URL when it is set, else the request's own scheme and Host
 * when that is a plain host name (a forged Host header cannot inject anything), else empty (links are relative).
 */
export function linkBase(request: FastifyRequest, publicUrl: string | undefined): string {
  const host = request.headers.host;
  return publicUrl ?? (host && SAFE_HOST.test(host) ? `${request.protocol}://${host}` : "");
}

/** The WebSocket URL that opens a serial console with its ticket (`wss://` behind TLS). */
export function consoleSocketUrl(
  request: FastifyRequest,
  publicUrl: string | undefined,
  ticket: string,
): string {
  return `${linkBase(request, publicUrl).replace(/^http/, "ws")}/api/v1/console/${ticket}`;
}

/** `next`/`previous` links of a page, on linkBase. */
function pageLink(
  request: FastifyRequest,
  publicUrl: string | undefined,
  path: string,
  params: Record<string, string | number | undefined>,
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) query.set(key, String(value));
  }
  return `${linkBase(request, publicUrl)}${path}?${query.toString()}`;
}

/** A page of a list as every paged list answers it: `count`, `next`, `previous`, `results`. */
export interface PageOf<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/**
 * The page `page` of `count` items, `pageSize` a page, with its links; `query` is the list's other query
 * parameters (filters), carried into both links. A page beyond the last links back to the last page.
 */
export function pageOf<T>(
  request: FastifyRequest,
  publicUrl: string | undefined,
  path: string,
  query: Record<string, string | number | undefined>,
  at: { page: number; pageSize: number; count: number },
  results: T[],
): PageOf<T> {
  const { page, pageSize, count } = at;
  const link = (p: number) => pageLink(request, publicUrl, path, { ...query, page: p, page_size: pageSize });
  const lastPage = Math.max(1, Math.ceil(count / pageSize));
  return {
    count,
    next: page * pageSize < count ? link(page + 1) : null,
    previous: page > 1 ? link(Math.min(page - 1, lastPage)) : null,
    results,
  };
}
