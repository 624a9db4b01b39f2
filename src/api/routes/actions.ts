import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { pageOf } from "../page-links.ts";
import { presentAction } from "../presenters/present-action.ts";
import { ActionIdParams, ActionList, ActionSchema } from "../schemas/actions.ts";
import { described, errors, Page, PageSize, WaitSeconds } from "../schemas/common.ts";
import { ServerIdParams } from "../schemas/servers.ts";

/** What each create, start, stop, reboot and delete started, for automation to follow. */
export const actionRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAccount(app, services.auth, services.rateLimits);
  const tags = ["actions"];
  const security = bearerSecurity;

  app.get(
    "/api/v1/actions/:action_id/",
    {
      schema: {
        tags,
        operationId: "getAction",
        security,
        summary: "An action",
        description:
          "The action a create, start, stop, reboot or delete started (or the provider's suspend or migrate), " +
          "including after its server is deleted. " +
          "With `?wait=SECONDS` the answer comes once the action has ended, or when the time is up.",
        params: ActionIdParams,
        querystring: Type.Object({ wait: Type.Optional(WaitSeconds) }),
        response: { 200: described(ActionSchema, "The action."), ...errors(400, 401, 404) },
      },
    },
    async (request) =>
      presentAction(
        await services.actions.get(request.accountId, request.params.action_id, request.query.wait ?? 0),
      ),
  );

  app.get(
    "/api/v1/servers/:server_id/actions/",
    {
      schema: {
        tags,
        operationId: "listServerActions",
        security,
        summary: "A server's actions",
        description: "Newest first, paged like the server list.",
        params: ServerIdParams,
        querystring: Type.Object({ page: Type.Optional(Page), page_size: Type.Optional(PageSize) }),
        response: { 200: described(ActionList, "The server's actions."), ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, actions } = await services.actions.listForServer(
        request.accountId,
        request.params.server_id,
        page,
        pageSize,
      );
      return pageOf(
        request,
        services.config.publicUrl,
        `/api/v1/servers/${request.params.server_id}/actions/`,
        {},
        { page, pageSize, count },
        actions.map(presentAction),
      );
    },
  );
};
