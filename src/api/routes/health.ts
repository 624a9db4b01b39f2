import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { sql } from "kysely";
import type { Services } from "../../services/services.ts";

const Health = Type.Object({ status: Type.String() });

/** Liveness and readiness for load balancers and orchestrators; no token needed. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["operations"],
        operationId: "getLiveness",
        security: [],
        summary: "The process is alive",
        response: { 200: Health },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["operations"],
        operationId: "getReadiness",
        security: [],
        summary: "The database is reachable",
        response: { 200: Health, 503: Health },
      },
    },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(services.repos.db);
        return { status: "ready" };
      } catch (err) {
        request.log.error({ err }, "readiness check failed");
        return reply.status(503).send({ status: "database unreachable" });
      }
    },
  );
};
