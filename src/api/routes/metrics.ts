import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../../metrics/metrics.ts";
import type { AuthService } from "../../services/auth-service.ts";
import { withRetryAfter } from "../authenticate.ts";

export interface MetricsRouteOptions {
  metrics: Metrics;
  auth: AuthService;
  /** Whether a scrape must carry VPS_METRICS_TOKEN. */
  tokenRequired: boolean;
}

/** `GET /metrics` for Prometheus: operators' figures only, never in the OpenAPI document. */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (
  app,
  { metrics, auth, tokenRequired },
) => {
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (tokenRequired) {
      await withRetryAfter(reply, () => auth.authenticateMetrics(request.headers.authorization, request.ip));
    }
    const text = await metrics.exposition();
    return reply.header("cache-control", "no-store").type(metrics.contentType).send(text);
  });
};
