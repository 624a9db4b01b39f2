import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AdminState } from "../../domain/host-placement.ts";
import type { Services } from "../../services/services.ts";
import { adminSecurity, requireAdmin } from "../authenticate.ts";
import { pageOf } from "../page-links.ts";
import { presentHost } from "../presenters/present-host.ts";
import { presentMigration } from "../presenters/present-migration.ts";
import { errors, NoContent } from "../schemas/common.ts";
import {
  Drained,
  HostList,
  HostListQuery,
  HostParams,
  HostSchema,
  IssuedJoinToken,
  JoinTokenBody,
  MigrateBody,
  MigrationParams,
  MigrationSchema,
  RegisteredHost,
  RegisterHostBody,
  RevokedCredentials,
  UpdateHostBody,
} from "../schemas/hosts.ts";

const PATH = "/api/v1/admin/hosts/";

/** The operator's hosts: register, list, inventory, state, delete, and their agents' credentials. */
export const hostRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAdmin(app, services.auth, services.rateLimits);
  const tags = ["hosts"];
  const security = adminSecurity;
  const hosts = services.hosts;

  app.post(
    PATH,
    {
      schema: {
        tags,
        operationId: "adminCreateHost",
        security,
        summary: "Register a host",
        description:
          "Returns the host and its single-use join token, once; the host's agent exchanges the token at " +
          "`POST /api/v1/agent/join` for its credential. A taken name is a 409 `host_exists`.",
        body: RegisterHostBody,
        response: { 201: RegisteredHost, ...errors(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { name, location, join_token_ttl_seconds: ttl } = request.body;
      const { host, joinToken } = await hosts.register(name, location, ttl);
      return reply.status(201).send({
        host: presentHost(host),
        join_token: joinToken.token,
        join_token_expires_at: joinToken.expiresAt,
      });
    },
  );

  app.get(
    PATH,
    {
      schema: {
        tags,
        operationId: "adminListHosts",
        security,
        summary: "List hosts",
        querystring: HostListQuery,
        response: { 200: HostList, ...errors(400, 401) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50, location, state, order } = request.query;
      const filter = { location, state: state as AdminState | "down" | undefined, order };
      const { count, hosts: rows } = await hosts.list(filter, pageSize, (page - 1) * pageSize);
      return pageOf(
        request,
        services.config.publicUrl,
        PATH,
        { location, state, order },
        { page, pageSize, count },
        rows.map(presentHost),
      );
    },
  );

  app.get(
    `${PATH}:id/`,
    {
      schema: {
        tags,
        operationId: "adminGetHost",
        security,
        summary: "A host",
        params: HostParams,
        response: { 200: HostSchema, ...errors(401, 404) },
      },
    },
    async (request) => presentHost(await hosts.get(request.params.id)),
  );

  app.patch(
    `${PATH}:id/`,
    {
      schema: {
        tags,
        operationId: "adminUpdateHost",
        security,
        summary: "Set a host's reserved amounts and allocation ratios",
        description:
          "A change that would leave the host holding less than is allocated on it is a 409 `host_capacity_in_use`.",
        params: HostParams,
        body: UpdateHostBody,
        response: { 200: HostSchema, ...errors(400, 401, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const { reserved, allocation_ratios: allocationRatios } = request.body;
      return presentHost(await hosts.updateInventory(request.params.id, { reserved, allocationRatios }));
    },
  );

  const states: [string, AdminState, string, string][] = [
    ["enable", "enabled", "adminEnableHost", "Enable a host: it takes new servers while it is up."],
    ["disable", "disabled", "adminDisableHost", "Disable a host: it takes no new servers; those on it stay."],
  ];
  for (const [verb, state, operationId, summary] of states) {
    app.post(
      `${PATH}:id/${verb}/`,
      {
        schema: {
          tags,
          operationId,
          security,
          summary,
          params: HostParams,
          response: { 200: HostSchema, ...errors(401, 404) },
        },
      },
      async (request) => presentHost(await hosts.setState(request.params.id, state)),
    );
  }

  app.post(
    `${PATH}:id/drain/`,
    {
      schema: {
        tags,
        operationId: "adminDrainHost",
        security,
        summary: "Drain a host: it takes no new servers, and each of its servers is migrated to another",
        description:
          "Sets the host `draining` and asks for a cold migration of each of its servers not moving already " +
          "(placement chooses each target). Servers that cannot move now are listed with the reason " +
          "(`no_capacity`, `server_busy`, `server_in_error`, `transfer_unavailable`); draining again retries them.",
        params: HostParams,
        response: { 200: Drained, ...errors(401, 404) },
      },
    },
    async (request) => {
      const { queued, refused } = await services.migrations.drain(request.params.id);
      return {
        ...presentHost(await hosts.get(request.params.id)),
        migrations: {
          queued,
          refused: refused.map((r) => ({ server_id: r.serverId, code: r.code, message: r.message })),
        },
      };
    },
  );

  app.post(
    "/api/v1/admin/servers/:id/migrate/",
    {
      schema: {
        tags,
        operationId: "adminMigrateServer",
        security,
        summary: "Migrate a server to another host (cold)",
        description:
          "Stops the server if it runs, copies its disk to the target host (`target_host_id`, or one placement " +
          "chooses in its location), and starts it there if it ran: same id and addresses. While it moves the " +
          "server is `stopping` (then `starting` if it ran) and power actions answer `server_busy`. A 409 " +
          "`no_capacity` when no host can take it, `transfer_unavailable` when its host serves no disks.",
        params: HostParams,
        body: MigrateBody,
        response: { 202: MigrationSchema, ...errors(400, 401, 404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const migration = await services.migrations.migrate(
        request.params.id,
        request.body?.target_host_id ?? undefined,
      );
      return reply.status(202).send(presentMigration(migration));
    },
  );

  app.get(
    "/api/v1/admin/migrations/:id/",
    {
      schema: {
        tags,
        operationId: "adminGetMigration",
        security,
        summary: "A migration",
        params: MigrationParams,
        response: { 200: MigrationSchema, ...errors(401, 404) },
      },
    },
    async (request) => presentMigration(await services.migrations.get(request.params.id)),
  );

  app.delete(
    `${PATH}:id/`,
    {
      schema: {
        tags,
        operationId: "adminDeleteHost",
        security,
        summary: "Delete an empty host",
        description: "A host that still holds servers is a 409 `host_not_empty`.",
        params: HostParams,
        response: { 204: NoContent, ...errors(401, 404, 409) },
      },
    },
    async (request, reply) => {
      await hosts.delete(request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    `${PATH}:id/join-token/`,
    {
      schema: {
        tags,
        operationId: "adminCreateHostJoinToken",
        security,
        summary: "Issue a new join token for a host",
        description: "Replaces the host's last join token; to join again after its credentials were revoked.",
        params: HostParams,
        body: JoinTokenBody,
        response: { 201: IssuedJoinToken, ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const token = await hosts.issueJoinToken(request.params.id, request.body?.join_token_ttl_seconds);
      return reply.status(201).send({ join_token: token.token, join_token_expires_at: token.expiresAt });
    },
  );

  app.post(
    `${PATH}:id/credentials/revoke/`,
    {
      schema: {
        tags,
        operationId: "adminRevokeHostCredentials",
        security,
        summary: "Revoke a host's credentials",
        description: "Its agent is refused from now on, until it joins again with a new join token.",
        params: HostParams,
        response: { 200: RevokedCredentials, ...errors(401, 404) },
      },
    },
    async (request) => ({ revoked: await hosts.revokeCredentials(request.params.id) }),
  );
};
