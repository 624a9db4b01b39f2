import type { FastifyRequest } from "fastify";

const SAFE_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * `next`/`previous` links of a page: absolute, on VPS_PUBLIC_URL when it is set, else on the request's
 * own Host when that is a plain host name (a forged Host header cannot inject anything), else relative.
 */
export function pageLink(
  request: FastifyRequest,
  publicUrl: string | undefined,
  path: string,
  params: Record<string, string | number | undefined>,
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) query.set(key, String(value));
  }
  const host = request.headers.host;
  const base = publicUrl ?? (host && SAFE_HOST.test(host) ? `${request.protocol}://${host}` : "");
  return `${base}${path}?${query.toString()}`;
}
