import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Services } from "../../services/services.ts";
import { serverRows, serversPage } from "../pages/servers-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

/** Servers listed on one page (the API pages the rest). */
const SERVERS_SHOWN = 100;

/** The servers pages: /servers (with its live rows). They call the services the API calls. */
export const consoleRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };

  const frame = (request: FastifyRequest) => signedInFrame(services, request);

  const listServers = (accountId: number) =>
    services.servers.list(accountId, { page: 1, pageSize: SERVERS_SHOWN });

  app.get("/servers", hide, async (request, reply) => {
    const page = await frame(request);
    const { servers, count } = await listServers(page.accountId);
    return sendPage(reply, serversPage(page, servers, count));
  });

  app.get("/servers/rows", hide, async (request, reply) => {
    const { servers, count } = await listServers(session(request).accountId);
    return sendPage(reply, serverRows(servers, count));
  });
};
