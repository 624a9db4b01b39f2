import type { FastifyError, FastifyPluginAsync } from "fastify";
import { toAppError } from "../api/error-handler.ts";
import type { Services } from "../services/services.ts";
import { registerFormBodyParser } from "./form-body-parser.ts";
import { errorPage } from "./pages/sign-in-pages.ts";
import { accountRoutes } from "./routes/account-routes.ts";
import { apiTokenRoutes } from "./routes/api-token-routes.ts";
import { assetRoutes } from "./routes/asset-routes.ts";
import { billingRoutes } from "./routes/billing-routes.ts";
import { consoleRoutes } from "./routes/console-routes.ts";
import { operatorRoutes } from "./routes/operator-routes.ts";
import { serverConsoleRoutes } from "./routes/server-console-routes.ts";
import { serverGraphsRoutes } from "./routes/server-graphs-routes.ts";
import { serverPageRoutes } from "./routes/server-routes.ts";
import { signInRoutes } from "./routes/sign-in-routes.ts";
import { sshKeyRoutes } from "./routes/ssh-key-routes.ts";
import { webhookRoutes } from "./routes/webhook-routes.ts";
import { registerWebRequest, sendPage } from "./web-request.ts";

/**
 * The web console: pages outside /api/, on the services the API calls. Its own scope takes forms (not JSON),
 * knows the browser's session cookie, checks CSRF tokens, and answers errors as pages.
 */
export const webConsole: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  await app.register(assetRoutes);
  await app.register(async (pages) => {
    registerFormBodyParser(pages, services.config.bodyLimitBytes);
    registerWebRequest(pages, services);
    pages.setErrorHandler((error: FastifyError, request, reply) => {
      const appError = toAppError(error, services.config.bodyLimitBytes, request.headers["content-type"]);
      if (appError.status >= 500) request.log.error({ err: error }, "page failed");
      const csrf = request.web?.csrf ?? "";
      return sendPage(reply, errorPage(csrf, appError.status, appError.message), appError.status);
    });
    await pages.register(signInRoutes, { services });
    await pages.register(consoleRoutes, { services });
    await pages.register(serverPageRoutes, { services });
    await pages.register(sshKeyRoutes, { services });
    await pages.register(apiTokenRoutes, { services });
    await pages.register(webhookRoutes, { services });
    await pages.register(accountRoutes, { services });
    await pages.register(operatorRoutes, { services });
    await pages.register(serverConsoleRoutes, { services });
    await pages.register(serverGraphsRoutes, { services });
    await pages.register(billingRoutes, { services });
  });
};
