import type { FastifyInstance } from "fastify";
import type { Services } from "../services/services.ts";
import { requireSignedIn } from "./web-request.ts";

/**
 * Every route of the scope is an operator's: a browser that is not signed in is sent to /sign-in, and a
 * customer's session gets the 404 of a page that does not exist. The role is read at every request, so that a
 * revoke through the admin API holds from the next one.
 */
export function requireOperator(scope: FastifyInstance, services: Services): void {
  requireSignedIn(scope);
  scope.addHook("preHandler", async (request) => {
    const { session } = request.web;
    if (session) await services.accounts.operator(session.accountId);
  });
}
