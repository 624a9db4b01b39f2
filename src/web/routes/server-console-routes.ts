import type { FastifyPluginAsync } from "fastify";
import { consoleSocketUrl } from "../../api/page-links.ts";
import { IdParams } from "../../api/schemas/common.ts";
import type { Services } from "../../services/services.ts";
import { answerErrorsAsJson } from "../json-errors.ts";
import { serverConsolePage } from "../pages/server-console-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { contentSecurityPolicy, requireSignedIn, sendPage, session } from "../web-request.ts";

/**
 * /servers/<id>/console, and the ticket its script asks for: the ConsoleService's, for the signed-in account,
 * with the WebSocket URL it opens (the browser never holds an API token).
 */
export const serverConsoleRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  // A malformed id is a 404, as in the API.
  const schema = { hide: true, params: IdParams };

  app.get<{ Params: { id: number } }>("/servers/:id/console", { schema }, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const server = await services.servers.get(frame.accountId, request.params.id);
    reply.header("content-security-policy", contentSecurityPolicy(true));
    return sendPage(reply, serverConsolePage(frame, server));
  });

  await app.register(async (json) => {
    answerErrorsAsJson(json, services.config.bodyLimitBytes);
    json.post<{ Params: { id: number } }>(
      "/servers/:id/console/ticket",
      { schema },
      async (request, reply) => {
        const { ticket, expiresAt } = await services.consoles.issueTicket(
          session(request).accountId,
          request.params.id,
        );
        const url = consoleSocketUrl(request, services.config.publicUrl, ticket);
        return reply.status(201).send({ url, expires_at: expiresAt });
      },
    );
  });
};
