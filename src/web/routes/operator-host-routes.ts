import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { AdminState } from "../../domain/host-placement.ts";
import type { Services } from "../../services/services.ts";
import { OPERATOR_PAGE_SIZE, operatorFrame, pageNumber, pathId } from "../operator-request.ts";
import { type DrainResult, operatorHostsPage } from "../pages/operator-hosts-page.ts";
import { sendPage } from "../web-request.ts";

type WithId = { Params: { id: string } };

/** /admin/hosts: the hosts with their capacity and state; enable, disable and drain (its result shown). */
export const operatorHostRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  const hide = { schema: { hide: true } };

  async function hostsPage(request: FastifyRequest, drained?: DrainResult) {
    const page = pageNumber(request);
    const pageSize = OPERATOR_PAGE_SIZE;
    const [frame, { count, hosts }] = await Promise.all([
      operatorFrame(request, services),
      services.hosts.list({}, pageSize, (page - 1) * pageSize),
    ]);
    return operatorHostsPage(frame, { hosts, count, page, pageSize }, drained);
  }

  app.get("/admin/hosts", hide, async (request, reply) => sendPage(reply, await hostsPage(request)));

  const states: [string, AdminState][] = [
    ["enable", "enabled"],
    ["disable", "disabled"],
  ];
  for (const [verb, state] of states) {
    app.post<WithId>(`/admin/hosts/:id/${verb}`, hide, async (request, reply) => {
      await services.hosts.setState(pathId(request.params.id, "Host"), state);
      return reply.redirect("/admin/hosts", 303);
    });
  }

  // Answered with the page itself, which says what the drain did; draining again only retries what it refused.
  app.post<WithId>("/admin/hosts/:id/drain", hide, async (request, reply) => {
    const id = pathId(request.params.id, "Host");
    const { queued, refused } = await services.migrations.drain(id);
    const host = await services.hosts.get(id);
    return sendPage(reply, await hostsPage(request, { host, queued, refused }));
  });
};
