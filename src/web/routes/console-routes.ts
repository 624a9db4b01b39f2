import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { Page, PageSize } from "../../api/schemas/common.ts";
import type { Services } from "../../services/services.ts";
import { sendLivePart } from "../live-part.ts";
import { type ServerListPage, serverList, serversPage } from "../pages/servers-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

/** Servers on one page of the list unless `?page_size=` asks for another number (within the API's bounds). */
const SERVERS_PAGE_SIZE = 100;

/** `?page=` and `?page_size=` as the API takes them: a malformed or out-of-bounds one is a 400 invalid_input. */
const ListQuery = Type.Object({
  page: Type.Optional(Page),
  page_size: Type.Optional({ ...PageSize, default: SERVERS_PAGE_SIZE }),
  /** The digest of the list the page shows (its live refresh sends it). */
  v: Type.Optional(Type.String()),
});
type Paged = { Querystring: { page: number; page_size: number; v?: string } };

/** The servers list: /servers, a page of it at a time, and its live copy. They call the services the API calls. */
export const consoleRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const options = { schema: { hide: true, querystring: ListQuery } };

  async function listPage(accountId: number, page: number, pageSize: number): Promise<ServerListPage> {
    const { servers, count } = await services.servers.list(accountId, { page, pageSize });
    return { servers, count, page, pageSize, defaultPageSize: SERVERS_PAGE_SIZE };
  }

  app.get<Paged>("/servers", options, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const { page, page_size: pageSize } = request.query;
    return sendPage(reply, serversPage(frame, await listPage(frame.accountId, page, pageSize)));
  });

  // Reads only the page shown, and answers 204 (no body) while it is as the page shows it.
  app.get<Paged>("/servers/rows", options, async (request, reply) => {
    const { page, page_size: pageSize, v } = request.query;
    return sendLivePart(reply, serverList(await listPage(session(request).accountId, page, pageSize)), v);
  });
};
