import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { InvalidInput } from "../domain/errors.ts";
import type { IdempotencyClaim, IdempotencyService } from "../services/idempotency-service.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set when this request is the first with its Idempotency-Key: its response is stored for retries. */
    idempotency: IdempotencyClaim | undefined;
  }
}

/** How a route answers a retry whose first request committed its work but lost its response. */
export type Rebuild = (
  request: FastifyRequest,
  found: { serverId: number; actionId: number },
) => Promise<{ status: number; body: unknown; headers: Record<string, string> }>;

const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ["location", "action-id"];

/** JSON with object keys sorted, so that the same body written in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Idempotency-Key on the scope's POST routes: runs after authentication and validation, before the handler.
 * The first request with a key does the work and its response is stored; a retry gets that response again.
 * A response that did no work (4xx, 5xx) is not kept: the key is free again for a retry.
 */
export function idempotentPosts(
  scope: FastifyInstance,
  service: IdempotencyService,
  rebuild?: Rebuild,
): void {
  scope.decorateRequest("idempotency", undefined);

  const begin = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers["idempotency-key"];
    if (key === undefined) return;
    if (typeof key !== "string" || !KEY.test(key)) {
      throw InvalidInput.field("Idempotency-Key", "Must be 1-255 printable characters without spaces.");
    }
    // The matched route and its parsed parameters, not the raw path: `/servers/1/stop` and `/servers/1/stop/`
    // are one request.
    const hash = createHash("sha256")
      .update(
        canonical({
          method: request.method,
          route: request.routeOptions.url,
          params: request.params,
          body: request.body,
        }),
      )
      .digest("hex");
    // The admin API has no account: its keys live under account 0, the operator's.
    const start = await service.begin(request.accountId ?? 0, key, hash);
    if (start.kind === "new") {
      request.idempotency = start.claim;
      return;
    }
    reply.header("idempotent-replayed", "true");
    if (start.kind === "replay") {
      for (const [name, value] of Object.entries(start.headers)) reply.header(name, value);
      return reply.code(start.status).type("application/json; charset=utf-8").send(start.body);
    }
    if (!rebuild) throw new Error("a committed idempotent request has no way to be answered again");
    const rebuilt = await rebuild(request, start);
    for (const [name, value] of Object.entries(rebuilt.headers)) reply.header(name, value);
    return reply.code(rebuilt.status).send(rebuilt.body);
  };

  const complete = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = undefined;
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    await service.complete(claim, reply.statusCode, typeof payload === "string" ? payload : "", headers);
    return payload;
  };

  // On the POST routes only: reads, the hot path, pay for no hook.
  scope.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes("POST")) return;
    route.preHandler = [...asArray(route.preHandler), begin];
    route.onSend = [...asArray(route.onSend), complete];
  });
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
