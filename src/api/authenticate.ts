import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RateLimited } from "../domain/errors.ts";
import { ADMIN_TOKEN_ID, type AuthService } from "../services/auth-service.ts";
import type { Budget, RateLimitService } from "../services/rate-limit-service.ts";
import { errors } from "./schemas/common.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The account the request's API token belongs to; set before any route of an authenticated scope runs. */
    accountId: number;
    /** The host whose credential the request carries; set before any route of a host scope runs. */
    hostId: number;
  }
}

export const bearerSecurity = [{ bearerAuth: [] }];
export const adminSecurity = [{ adminToken: [] }];
export const hostSecurity = [{ hostCredential: [] }];

/** Every route of the scope needs a customer API token; checked before the body is read. */
export function requireAccount(
  scope: FastifyInstance,
  auth: AuthService,
  rateLimits: RateLimitService,
): void {
  scope.decorateRequest("accountId", 0);
  mayAnswer429(scope);
  const verify = async (request: FastifyRequest, reply: FastifyReply) => {
    const { accountId, tokenId } = await withRetryAfter(reply, () =>
      auth.authenticate(request.headers.authorization, request.ip),
    );
    request.accountId = accountId;
    await spendBudget(request, reply, rateLimits, tokenId);
  };
  // A callback hook: a token this process keeps a verdict on, with its budget off, is let through without a
  // promise (an async hook's chain cost more than the check); anything else waits for the full check.
  scope.addHook("onRequest", (request, reply, done) => {
    const kept = auth.keptOwner(request.headers.authorization, request.ip);
    if (kept && !rateLimits.counts(budgetOf(request))) {
      request.accountId = kept.accountId;
      done();
      return;
    }
    verify(request, reply).then(() => done(), done);
  });
}

function budgetOf(request: FastifyRequest): Budget {
  return request.method === "GET" || request.method === "HEAD" ? "read" : "write";
}

/** Every route of the scope needs the admin token, which has the same budgets as an API token. */
export function requireAdmin(scope: FastifyInstance, auth: AuthService, rateLimits: RateLimitService): void {
  mayAnswer429(scope);
  scope.addHook("onRequest", async (request, reply) => {
    await withRetryAfter(reply, () => auth.authenticateAdmin(request.headers.authorization, request.ip));
    await spendBudget(request, reply, rateLimits, ADMIN_TOKEN_ID);
  });
}

/** Every route of the scope may answer 429: say so in its OpenAPI description. */
function mayAnswer429(scope: FastifyInstance): void {
  scope.addHook("onRoute", (route) => {
    route.schema ??= {};
    const schema = route.schema as { response?: Record<number, unknown> };
    schema.response = { ...schema.response, ...errors(429) };
  });
}

/** An address past its failed authentications is told when it may try again. */
export async function withRetryAfter<T>(reply: FastifyReply, authenticate: () => Promise<T>): Promise<T> {
  try {
    return await authenticate();
  } catch (err) {
    if (err instanceof RateLimited) reply.header("retry-after", err.retryAfterSeconds);
    throw err;
  }
}

async function spendBudget(
  request: FastifyRequest,
  reply: FastifyReply,
  rateLimits: RateLimitService,
  tokenId: number,
): Promise<void> {
  const decision = await rateLimits.check(tokenId, budgetOf(request));
  if (!decision) return;
  reply.header("ratelimit-limit", decision.limit);
  reply.header("ratelimit-remaining", decision.remaining);
  reply.header("ratelimit-reset", decision.resetSeconds);
  if (!decision.allowed) {
    reply.header("retry-after", decision.resetSeconds);
    throw new RateLimited(decision.resetSeconds);
  }
}

/**
 * Every route of the scope needs a host credential (an agent's); customer and admin tokens are refused here,
 * as host credentials are on their routes: each kind is looked up in its own table. Failed attempts count
 * against the client address like any other token's.
 */
export function requireHost(scope: FastifyInstance, auth: AuthService): void {
  scope.decorateRequest("hostId", 0);
  mayAnswer429(scope);
  scope.addHook("onRequest", async (request, reply) => {
    request.hostId = await withRetryAfter(reply, () =>
      auth.authenticateHost(request.headers.authorization, request.ip),
    );
  });
}
