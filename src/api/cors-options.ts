import type { FastifyCorsOptions } from "@fastify/cors";
import type { Config } from "../config.ts";

/**
 * Tokens travel in a header, never in cookies, so any origin may call the API from a browser (the original
 * documentation's JavaScript sample is a browser fetch); VPS_CORS_ORIGINS narrows it. A page may send every
 * request header the API reads and read every response header it documents, so automation (idempotent
 * retries, rate-limit back-off, actions) works from a browser as it does from curl.
 */
export function corsOptions(config: Pick<Config, "corsOrigins">): FastifyCorsOptions {
  return {
    origin: config.corsOrigins.length === 0 ? "*" : config.corsOrigins,
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "X-Request-Id", "Idempotency-Key"],
    exposedHeaders: [
      "X-Request-Id",
      "Action-Id",
      "Location",
      "Idempotent-Replayed",
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
      "Retry-After",
    ],
    maxAge: 600,
  };
}
