import type { FastifyReply, FastifyRequest } from "fastify";
import type { WebSettings } from "../config.ts";

export const SESSION_COOKIE = "vps_session";
/** What our own cookie values look like (newSessionId): anything else a browser sends is ignored. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The value of the session cookie the request carries, if it carries a well-formed one. */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at < 0 || part.slice(0, at).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(at + 1).trim();
    if (COOKIE_VALUE.test(value)) return value;
  }
  return undefined;
}

/**
 * Sets the session cookie: HttpOnly (no script reads it), SameSite=Lax (other sites' forms do not send it),
 * Secure when the request came over TLS (through a trusted proxy's X-Forwarded-Proto too) or a setting says so.
 * `maxAgeMs` keeps it across browser restarts; without it the browser forgets it when it closes.
 */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  settings: WebSettings,
  value: string,
  maxAgeMs?: number,
): void {
  const attributes = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (maxAgeMs !== undefined) attributes.push(`Max-Age=${Math.floor(maxAgeMs / 1000)}`);
  if (request.protocol === "https" || settings.cookieSecure) attributes.push("Secure");
  reply.header("set-cookie", attributes.join("; "));
}
