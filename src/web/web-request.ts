import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CsrfRejected } from "../domain/errors.ts";
import type { Services } from "../services/services.ts";
import { csrfMatches, csrfToken, newSessionId, type WebSession } from "../services/web-session-service.ts";
import { formField } from "./form-body-parser.ts";
import type { Html } from "./html.ts";
import { sessionCookie, setSessionCookie } from "./session-cookie.ts";

/** What a page request knows about its browser. */
export interface WebRequest {
  /** The session cookie's value: the browser's own, or a new visitor's one set on this response. */
  cookie: string;
  /** The signed-in session, when the cookie is one. */
  session: WebSession | undefined;
  /** The token the page's forms send back (`_csrf`, or the X-CSRF-Token header for htmx). */
  csrf: string;
}

declare module "fastify" {
  interface FastifyRequest {
    web: WebRequest;
  }
}

/**
 * Every page request gets its browser's cookie and session; a browser without our cookie gets a visitor's one,
 * so that its sign-in form has a CSRF token too. Every request that is not a GET (or HEAD) must send the token
 * of the cookie it came with, or it is a 403: forms posted from another site cannot.
 */
export function registerWebRequest(scope: FastifyInstance, services: Services): void {
  scope.decorateRequest("web", undefined as unknown as WebRequest);
  scope.addHook("onRequest", async (request, reply) => {
    const sent = sessionCookie(request);
    const cookie = sent ?? newSessionId();
    if (!sent) setSessionCookie(request, reply, services.config.web, cookie);
    const session = sent ? await services.webSessions.resume(sent) : undefined;
    request.web = { cookie, session, csrf: csrfToken(cookie) };
    reply.header("cache-control", "no-store");
    reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
    reply.header("x-frame-options", "DENY");
    reply.header("x-content-type-options", "nosniff");
    // Invitation links carry their token in the path: no other site learns it from a Referer.
    reply.header("referrer-policy", "no-referrer");
  });
  scope.addHook("preHandler", async (request) => {
    if (request.method === "GET" || request.method === "HEAD") return;
    const header = request.headers["x-csrf-token"];
    const given = formField(request.body, "_csrf") || (typeof header === "string" ? header : "");
    if (!sessionCookie(request) || !csrfMatches(request.web.cookie, given)) throw new CsrfRejected();
  });
}

/**
 * Every script and style is our own, from /assets/; no page may be framed (clickjacking). `inlineStyles`: the serial
 * console's page alone, whose xterm.js writes its colours and cell sizes into <style> elements it makes.
 */
export function contentSecurityPolicy(inlineStyles = false): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join("; ");
}

const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/** The signed-in session; a browser that is not signed in is sent to /sign-in (htmx told to go there). */
export function requireSignedIn(scope: FastifyInstance): void {
  scope.addHook("preHandler", async (request, reply) => {
    if (request.web.session) return;
    if (request.headers["hx-request"]) {
      return reply.status(401).header("hx-redirect", "/sign-in").send();
    }
    return reply.redirect("/sign-in", 303);
  });
}

/** The session of a route behind requireSignedIn. */
export function session(request: FastifyRequest): WebSession {
  const { session } = request.web;
  if (!session) throw new Error("a signed-in route ran without a session");
  return session;
}

export function sendPage(reply: FastifyReply, page: Html, status = 200): FastifyReply {
  return reply.status(status).type("text/html; charset=utf-8").send(page.toString());
}
