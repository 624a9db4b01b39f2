import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { AuthService } from "../services/auth-service.ts";
import { registerErrorHandling } from "./error-handler.ts";
import { metricsRoutes } from "./routes/metrics.ts";

/**
 * The listener of VPS_METRICS_ADDRESS: `/metrics` alone, apart from the API's port (e.g. on 127.0.0.1 or a
 * management network); with VPS_METRICS_TOKEN set, a scrape carries it here too.
 */
export async function createMetricsListener(
  config: Config,
  metrics: Metrics,
  auth: AuthService,
  log: Logger,
): Promise<FastifyInstance> {
  const http = Fastify({
    loggerInstance: log.child({ component: "metrics" }) as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    forceCloseConnections: true,
  });
  registerErrorHandling(http, config.bodyLimitBytes);
  await http.register(metricsRoutes, { metrics, auth, tokenRequired: config.metricsToken !== undefined });
  return http;
}
