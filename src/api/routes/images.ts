import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { pageOf } from "../page-links.ts";
import { presentImage } from "../presenters/present-image.ts";
import { described, errors, NoContent } from "../schemas/common.ts";
import { ImageIdParams, ImageList, ImageSchema, ListImagesQuery } from "../schemas/images.ts";

const BASE = "/api/v1/images/";

/** The account's snapshots and backups; `create_image` and `rebuild` are the servers' actions. */
export const imageRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAccount(app, services.auth, services.rateLimits);
  const tags = ["images"];
  const security = bearerSecurity;

  app.get(
    BASE,
    {
      schema: {
        tags,
        operationId: "listImages",
        security,
        summary: "List images",
        description:
          "Snapshots and backups of the account, newest first, filtered by `type` and `server_id`, paged like " +
          "the server list. Images outlive their server.",
        querystring: ListImagesQuery,
        response: { 200: described(ImageList, "The images, one page of them."), ...errors(400, 401) },
      },
    },
    async (request) => {
      const { type, server_id: serverId, page = 1, page_size: pageSize = 50 } = request.query;
      const { count, images } = await services.images.list(request.accountId, {
        type,
        serverId,
        page,
        pageSize,
      });
      return pageOf(
        request,
        services.config.publicUrl,
        BASE,
        { type, server_id: serverId },
        { page, pageSize, count },
        images.map(presentImage),
      );
    },
  );

  app.get(
    `${BASE}:image_id/`,
    {
      schema: {
        tags,
        operationId: "getImage",
        security,
        summary: "Image details",
        params: ImageIdParams,
        response: { 200: described(ImageSchema, "The image."), ...errors(400, 401, 404) },
      },
    },
    async (request) => presentImage(await services.images.get(request.accountId, request.params.image_id)),
  );

  app.delete(
    `${BASE}:image_id/`,
    {
      schema: {
        tags,
        operationId: "deleteImage",
        security,
        summary: "Delete an image",
        description:
          "Gone from the API at once and its bytes removed from the image store. 409 `image_not_available` " +
          "while it is still being made (`creating`).",
        params: ImageIdParams,
        response: { 204: described(NoContent, "Deleted."), ...errors(401, 404, 409) },
      },
    },
    async (request, reply) => {
      await services.images.delete(request.accountId, request.params.image_id);
      return reply.status(204).send();
    },
  );
};
