import type { FastifyInstance } from "fastify";
import { type Metrics, UNMATCHED_ROUTE } from "../metrics/metrics.ts";

/** Counts every answered request under its route's pattern (`/api/v1/servers/:id/`), never its URL. */
export function countRequests(http: FastifyInstance, metrics: Metrics): void {
  // A callback hook, not an async one: it runs after every request and has nothing to wait for.
  http.addHook("onResponse", (request, reply, done) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? UNMATCHED_ROUTE,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
}
