import type { FastifyInstance } from "fastify";
import type { HostService } from "../services/host-service.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The host whose credential the request carries; set before any route of a host scope runs. */
    hostId: number;
  }
}

export const hostSecurity = [{ hostCredential: [] }];

/**
 * Every route of the scope needs a host credential (an agent's); customer and admin tokens are refused here,
 * as host credentials are on their routes: each kind is looked up in its own table.
 */
export function requireHost(scope: FastifyInstance, hosts: HostService): void {
  scope.decorateRequest("hostId", 0);
  scope.addHook("onRequest", async (request) => {
    request.hostId = await hosts.authenticate(request.headers.authorization);
  });
}
