import type { FastifyInstance } from "fastify";
import type { AuthService } from "../services/auth-service.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The account the request's API token belongs to; set before any route of an authenticated scope runs. */
    accountId: number;
  }
}

export const bearerSecurity = [{ bearerAuth: [] }];
export const adminSecurity = [{ adminToken: [] }];

/** Every route of the scope needs a customer API token; checked before the body is read. */
export function requireAccount(scope: FastifyInstance, auth: AuthService): void {
  scope.decorateRequest("accountId", 0);
  scope.addHook("onRequest", async (request) => {
    request.accountId = await auth.authenticate(request.headers.authorization);
  });
}

/** Every route of the scope needs the admin token. */
export function requireAdmin(scope: FastifyInstance, auth: AuthService): void {
  scope.addHook("onRequest", async (request) => {
    await auth.authenticateAdmin(request.headers.authorization);
  });
}
