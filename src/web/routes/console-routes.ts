import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { formatMoney } from "../../domain/money.ts";
import type { Services } from "../../services/services.ts";
import { newSessionId } from "../../services/web-session-service.ts";
import type { PageFrame } from "../layout.ts";
import { accountPage } from "../pages/account-page.ts";
import { serverRows, serversPage } from "../pages/servers-page.ts";
import { setSessionCookie } from "../session-cookie.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

/** Servers listed on one page (the API pages the rest). */
const SERVERS_SHOWN = 100;

/** The signed-in pages: /servers (with its live rows) and /account. They call the services the API calls. */
export const consoleRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };

  async function frame(request: FastifyRequest): Promise<PageFrame & { accountId: number }> {
    const { accountId } = session(request);
    const account = await services.accounts.get(accountId);
    const shown = { email: account.email, operator: account.operator_since !== null };
    return { title: "", csrf: request.web.csrf, account: shown, accountId };
  }

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

  app.get("/account", hide, async (request, reply) => {
    const current = session(request);
    const [page, account, sessions] = await Promise.all([
      frame(request),
      services.accounts.get(current.accountId),
      services.webSessions.list(current.accountId),
    ]);
    return sendPage(
      reply,
      accountPage(page, {
        email: account.email,
        balance: formatMoney(account.balance_minor),
        currency: account.currency,
        sessions,
        currentSession: current.idHash,
      }),
    );
  });

  app.post("/account/sign-out-everywhere", hide, async (request, reply) => {
    await services.webSessions.signOutEverywhere(session(request).accountId);
    setSessionCookie(request, reply, services.config.web, newSessionId());
    return reply.redirect("/sign-in", 303);
  });
};
