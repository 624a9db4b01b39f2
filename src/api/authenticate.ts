import type { FastifyInstance } from "fastify";
import { RateLimited } from "../domain/errors.ts";
import type { AuthService } from "../services/auth-service.ts";
import type { RateLimitService } from "../services/rate-limit-service.ts";
import { errors } from "./schemas/common.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The account the request's API token belongs to; set before any route of an authenticated scope runs. */
    accountId: number;
  }
}

export const bearerSecurity = [{ bearerAuth: [] }];
export const adminSecurity = [{ adminToken: [] }];

/** Every route of the scope needs a customer API token; checked before the body is read. */
export function requireAccount(
  scope: FastifyInstance,
  auth: AuthService,
  rateLimits: RateLimitService,
): void {
  scope.decorateRequest("accountId", 0);
  // Every route of the scope may answer 429: say so in its OpenAPI description.
  scope.addHook("onRoute", (route) => {
    route.schema ??= {};
    const schema = route.schema as { response?: Record<number, unknown> };
    schema.response = { ...schema.response, ...errors(429) };
  });
  scope.addHook("onRequest", async (request, reply) => {
    const { accountId, tokenId } = await auth.authenticate(request.headers.authorization);
    request.accountId = accountId;
    const decision = await rateLimits.check(
      tokenId,
      request.method === "GET" || request.method === "HEAD" ? "read" : "write",
    );
    if (!decision) return;
    reply.header("ratelimit-limit", decision.limit);
    reply.header("ratelimit-remaining", decision.remaining);
    reply.header("ratelimit-reset", decision.resetSeconds);
    if (!decision.allowed) {
      reply.header("retry-after", decision.resetSeconds);
      throw new RateLimited(decision.resetSeconds);
    }
  });
}

/** Every route of the scope needs the admin token. */
export function requireAdmin(scope: FastifyInstance, auth: AuthService): void {
  scope.addHook("onRequest", async (request) => {
    await auth.authenticateAdmin(request.headers.authorization);
  });
}
