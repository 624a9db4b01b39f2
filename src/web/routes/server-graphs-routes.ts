import type { Static } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { IdParams } from "../../api/schemas/common.ts";
import { MetricsQuery } from "../../api/schemas/metrics.ts";
import type { Services } from "../../services/services.ts";
import { answerErrorsAsJson } from "../json-errors.ts";
import { serverGraphsPage } from "../pages/server-graphs-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

/** /servers/<id>/graphs, and the series its script draws (what `GET /api/v1/servers/{id}/metrics/` answers). */
export const serverGraphsRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  // A malformed id is a 404, as in the API.
  const schema = { hide: true, params: IdParams };

  app.get<{ Params: { id: number } }>("/servers/:id/graphs", { schema }, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const server = await services.servers.get(frame.accountId, request.params.id);
    return sendPage(reply, serverGraphsPage(frame, server));
  });

  await app.register(async (json) => {
    answerErrorsAsJson(json, services.config.bodyLimitBytes);
    json.get<{ Params: { id: number }; Querystring: Static<typeof MetricsQuery> }>(
      "/servers/:id/metrics.json",
      { schema: { ...schema, querystring: MetricsQuery } },
      async (request) => {
        // The service `GET /api/v1/servers/{id}/metrics/` answers from: the usage history.
        return {
          metrics: await services.serverMetrics.series(
            session(request).accountId,
            request.params.id,
            request.query,
          ),
        };
      },
    );
  });
};
