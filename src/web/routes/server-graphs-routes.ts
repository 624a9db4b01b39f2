import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { IdParams } from "../../api/schemas/common.ts";
import { isoAt } from "../../domain/clock.ts";
import type { Services } from "../../services/services.ts";
import { currentUsageSeries } from "../current-usage-series.ts";
import { answerErrorsAsJson } from "../json-errors.ts";
import { serverGraphsPage } from "../pages/server-graphs-page.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";
import { signedInFrame } from "./signed-in-frame.ts";

/** The query of `GET /api/v1/servers/{id}/metrics/`. */
const MetricsQuery = Type.Object({
  type: Type.String({ maxLength: 100 }),
  start: Type.String({ maxLength: 40 }),
  end: Type.String({ maxLength: 40 }),
  step: Type.Optional(Type.Integer({ minimum: 1 })),
});

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
        const server = await services.servers.get(session(request).accountId, request.params.id);
        return { metrics: currentUsageSeries(server, request.query, isoAt(services.clock)) };
      },
    );
  });
};
