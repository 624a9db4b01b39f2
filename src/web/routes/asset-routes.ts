import type { FastifyPluginAsync } from "fastify";
import { ASSETS } from "../assets.ts";

/** /assets/<name>: our stylesheet and scripts from npm, cached for a year (their URLs change with them). */
export const assetRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { name: string } }>(
    "/assets/:name",
    { schema: { hide: true } },
    async (request, reply) => {
      const found = Object.hasOwn(ASSETS, request.params.name) ? ASSETS[request.params.name] : undefined;
      if (!found) return reply.callNotFound();
      return reply
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .type(found.type)
        .send(found.body);
    },
  );
};
