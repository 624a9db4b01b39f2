import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../services/services.ts";
import { OPERATOR_PAGE_SIZE, operatorFrame, pageNumber } from "../operator-request.ts";
import { operatorFailedActionsPage } from "../pages/operator-failed-actions-page.ts";
import { requireOperator } from "../require-operator.ts";
import { sendPage } from "../web-request.ts";
import { operatorAccountRoutes } from "./operator-account-routes.ts";
import { operatorCatalogueRoutes } from "./operator-catalogue-routes.ts";
import { operatorHostRoutes } from "./operator-host-routes.ts";
import { operatorRevenueRoutes } from "./operator-revenue-routes.ts";

/**
 * The operators' pages under /admin, for accounts the admin API made operators; they call the services the
 * admin API calls. Anyone else gets /sign-in (not signed in) or a 404 (a customer).
 */
export const operatorRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireOperator(app, services);
  const hide = { schema: { hide: true } };

  app.get("/admin", hide, async (_request, reply) => reply.redirect("/admin/accounts", 303));

  app.get("/admin/failed-actions", hide, async (request, reply) => {
    const page = pageNumber(request);
    const pageSize = OPERATOR_PAGE_SIZE;
    const [frame, { count, actions }] = await Promise.all([
      operatorFrame(request, services),
      services.actions.listFailed(page, pageSize),
    ]);
    return sendPage(reply, operatorFailedActionsPage(frame, { actions, count, page, pageSize }));
  });

  await app.register(operatorAccountRoutes, { services });
  await app.register(operatorHostRoutes, { services });
  await app.register(operatorCatalogueRoutes, { services });
  await app.register(operatorRevenueRoutes, { services });
};
