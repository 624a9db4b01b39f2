import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { isoAt } from "../../domain/clock.ts";
import { InvalidInput, ServerNotFound } from "../../domain/errors.ts";
import { LIFECYCLE, type PowerAction, RESIZE_BY_MIGRATION_MESSAGE } from "../../domain/lifecycle.ts";
import type { ServerStatus } from "../../domain/server-status.ts";
import { usagePeriod } from "../../domain/usage.ts";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { flatJson } from "../flat-json.ts";
import { idempotentPosts } from "../idempotency-hooks.ts";
import { pageOf } from "../page-links.ts";
import { presentImage } from "../presenters/present-image.ts";
import { presentServerDetail, presentServerSummary } from "../presenters/present-server.ts";
import {
  described,
  ErrorBody,
  errors,
  IdempotencyHeaders,
  NoContent,
  WaitSeconds,
} from "../schemas/common.ts";
import { CreatedImage, CreateImageBody, RebuildBody } from "../schemas/images.ts";
import { MetricsQuery, MetricsResponse } from "../schemas/metrics.ts";
import {
  CreatedServer,
  CreateServerBody,
  ListServersQuery,
  PatchServerBody,
  PowerResponse,
  PutServerBody,
  ResizeBody,
  ServerDetail,
  ServerIdParams,
  ServerList,
  ServerStatusSchema,
} from "../schemas/servers.ts";

const BASE = "/api/v1/servers/";

export const serverRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAccount(app, services.auth, services.rateLimits);
  idempotentPosts(app, services.idempotency, async (request, { serverId, actionId }) => {
    const action = await services.actions.get(request.accountId, actionId);
    if (action.kind === "create") {
      const server = await services.servers.get(request.accountId, serverId).catch(() => undefined);
      if (!server) throw new ServerNotFound();
      const body = presentServerDetail(server, usagePeriod(isoAt(services.clock)));
      return {
        status: 201,
        body: { ...body, message: LIFECYCLE.create.message, action_id: actionId },
        headers: { location: `${BASE}${serverId}/` } as Record<string, string>,
      };
    }
    const { kind } = action;
    const transition =
      kind === "start" || kind === "stop" || kind === "reboot" || kind === "rebuild"
        ? { message: LIFECYCLE[kind].message, to: LIFECYCLE[kind].transitional }
        : kind === "migrate_out" && action.plan_id !== null
          ? { message: RESIZE_BY_MIGRATION_MESSAGE, to: undefined }
          : kind === "snapshot" || kind === "backup" || kind === "resize" || kind === "migrate_out"
            ? { message: LIFECYCLE[kind].message, to: undefined }
            : undefined;
    const server = await services.servers.get(request.accountId, serverId).catch(() => undefined);
    if (!transition || !server) throw new ServerNotFound();
    const image =
      kind === "snapshot"
        ? { image: presentImage(await services.images.madeBy(request.accountId, actionId)) }
        : {};
    return {
      status: 200,
      body: {
        status: "success",
        message: transition.message,
        server: { id: serverId, name: server.name, status: transition.to ?? server.status },
        action_id: actionId,
        ...image,
      },
      headers: {} as Record<string, string>,
    };
  });
  const tags = ["servers"];
  const security = bearerSecurity;
  const detail = async (
    accountId: number,
    id: number,
    until?: { status: ServerStatus; waitSeconds: number },
  ) =>
    presentServerDetail(await services.servers.get(accountId, id, until), usagePeriod(isoAt(services.clock)));

  app.get(
    BASE,
    {
      schema: {
        tags,
        operationId: "listServers",
        security,
        summary: "List all servers",
        description: "Servers of the account in the summary form, oldest first, filtered and paged.",
        querystring: ListServersQuery,
        response: { 200: described(ServerList, "The servers, one page of them."), ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      const { status, location, page = 1, page_size: pageSize = 50 } = request.query;
      const { count, servers } = await services.servers.list(request.accountId, {
        status,
        location,
        page,
        pageSize,
      });
      return flatJson(
        reply,
        pageOf(
          request,
          services.config.publicUrl,
          BASE,
          { status, location },
          { page, pageSize, count },
          servers.map(presentServerSummary),
        ),
      );
    },
  );

  app.post(
    BASE,
    {
      schema: {
        tags,
        operationId: "createServer",
        security,
        summary: "Create a server",
        description:
          "Launches a new server. It is `provisioning` at once and becomes `active` in the background; " +
          "402 when the balance cannot cover the plan for the minimum period; 409 `no_capacity` when no host of " +
          "the location has room for the plan with the OS's image, and 409 `no_address_available` when the " +
          "location has no free IPv4 address (either way nothing is created or charged). A create that fails for good " +
          "ends the server in `error` and gives back what it was charged.",
        body: CreateServerBody,
        headers: IdempotencyHeaders,
        response: {
          201: described(CreatedServer, "Created; provisioning in the background."),
          ...errors(400, 401, 402, 413, 415),
          409: Type.Ref(ErrorBody, {
            description:
              "Conflict: `no_capacity` (no host of the location has room for the plan with the OS's image), " +
              "`no_address_available` (the location's address pool has no free IPv4 address), or " +
              "`idempotency_key_reused` / `idempotency_key_in_progress`.",
          }),
        },
      },
    },
    async (request, reply) => {
      const { server, actionId } = await services.servers.create(
        request.accountId,
        request.body,
        request.idempotency,
      );
      const body = presentServerDetail(server, usagePeriod(isoAt(services.clock)));
      reply.header("location", `${BASE}${server.id}/`);
      return reply.status(201).send({ ...body, message: LIFECYCLE.create.message, action_id: actionId });
    },
  );

  app.get(
    `${BASE}:server_id/`,
    {
      schema: {
        tags,
        operationId: "getServer",
        security,
        summary: "Server details",
        description:
          "With `?until_status=active&wait=SECONDS` the answer comes once the server has that status, or when " +
          "the time is up (then with the status it has).",
        params: ServerIdParams,
        querystring: Type.Object({
          until_status: Type.Optional(ServerStatusSchema),
          wait: Type.Optional(WaitSeconds),
        }),
        response: { 200: described(ServerDetail, "The server."), ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { until_status: status, wait } = request.query;
      if (wait !== undefined && status === undefined) {
        throw InvalidInput.field("until_status", "Name the status to wait for, e.g. until_status=active.");
      }
      const until = status === undefined ? undefined : { status, waitSeconds: wait ?? 0 };
      return detail(request.accountId, request.params.server_id, until);
    },
  );

  app.put(
    `${BASE}:server_id/`,
    {
      schema: {
        tags,
        operationId: "updateServer",
        security,
        summary: "Update a server",
        description: "Replaces name, hostname and backups_enabled; all three are required.",
        params: ServerIdParams,
        body: PutServerBody,
        response: { 200: described(ServerDetail, "Updated."), ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request) => {
      await services.servers.update(request.accountId, request.params.server_id, request.body);
      return detail(request.accountId, request.params.server_id);
    },
  );

  app.patch(
    `${BASE}:server_id/`,
    {
      schema: {
        tags,
        operationId: "patchServer",
        security,
        summary: "Partially update a server",
        description: "Changes only the fields given.",
        params: ServerIdParams,
        body: PatchServerBody,
        response: { 200: described(ServerDetail, "Updated."), ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request) => {
      await services.servers.update(request.accountId, request.params.server_id, request.body);
      return detail(request.accountId, request.params.server_id);
    },
  );

  app.delete(
    `${BASE}:server_id/`,
    {
      schema: {
        tags,
        operationId: "deleteServer",
        security,
        summary: "Delete a server",
        description:
          "Accepted in any status. The server is gone from the API at once; its machine and disks are " +
          "destroyed in the background and its addresses return to the pool. The `Action-Id` header names " +
          "the delete action.",
        params: ServerIdParams,
        response: {
          204: {
            ...described(NoContent, "Deleted."),
            headers: { "Action-Id": { type: "integer", description: "The delete action." } },
          },
          ...errors(401, 404),
        },
      },
    },
    async (request, reply) => {
      const { actionId } = await services.servers.delete(request.accountId, request.params.server_id);
      reply.header("action-id", String(actionId));
      return reply.status(204).send();
    },
  );

  const power = (action: PowerAction, summary: string, description: string) =>
    app.post(
      `${BASE}:server_id/${action}/`,
      {
        schema: {
          tags,
          operationId: `${action}Server`,
          security,
          summary,
          description,
          params: ServerIdParams,
          headers: IdempotencyHeaders,
          response: { 200: described(PowerResponse, "Command sent."), ...errors(400, 401, 404, 409) },
        },
      },
      async (request) => {
        const { message, actionId, server } = await services.servers.power(
          request.accountId,
          request.params.server_id,
          action,
          request.idempotency,
        );
        return { status: "success" as const, message, server, action_id: actionId };
      },
    );
  app.post(
    `${BASE}:server_id/create_image/`,
    {
      schema: {
        tags,
        operationId: "createServerImage",
        security,
        summary: "Snapshot a server",
        description:
          "Copies an `active` or `stopped` server's disk into a new image of the account's (a snapshot, kept " +
          "until deleted, outliving the server). The image is `creating` until the action ends, then " +
          "`available` (or `failed`); the server keeps its status and runs on meanwhile: a running server's copy " +
          "is `crash`-consistent unless its guest's filesystems could be frozen. 400 with `server_busy`, " +
          "`server_suspended` or `server_in_error` otherwise; 403 `image_quota_exceeded` when the account " +
          "already keeps `VPS_SNAPSHOT_LIMIT` snapshots (those being made count).",
        params: ServerIdParams,
        body: CreateImageBody,
        headers: IdempotencyHeaders,
        response: {
          200: described(CreatedImage, "Image being made."),
          ...errors(400, 401, 403, 404, 409, 413, 415),
        },
      },
    },
    async (request) => {
      const made = await services.images.createImage(
        request.accountId,
        request.params.server_id,
        request.body?.name ?? null,
        request.idempotency,
      );
      return {
        status: "success" as const,
        message: made.message,
        server: made.server,
        action_id: made.actionId,
        image: presentImage(made.image),
      };
    },
  );

  app.post(
    `${BASE}:server_id/rebuild/`,
    {
      schema: {
        tags,
        operationId: "rebuildServer",
        security,
        summary: "Rebuild a server",
        description:
          "Replaces an `active` or `stopped` server's disk with an image's (`image_id`) or a fresh operating " +
          "system's (`os_id`), keeping its id, addresses and plan: everything on the old disk is lost. The server " +
          "is `provisioning` until it runs again. 400 `server_busy`, `server_suspended` or `server_in_error` " +
          "for its status; 400 `image_too_large` when the image needs a larger disk than the plan's; 404 for an " +
          "image not the account's; 409 `image_not_available` for one still being made (or failed); 409 " +
          "`os_image_unavailable` when the server's host lacks that OS's base image.",
        params: ServerIdParams,
        body: RebuildBody,
        headers: IdempotencyHeaders,
        response: {
          200: described(PowerResponse, "Rebuild started."),
          ...errors(400, 401, 404, 409, 413, 415),
        },
      },
    },
    async (request) => {
      const { message, actionId, server } = await services.images.rebuild(
        request.accountId,
        request.params.server_id,
        request.body,
        request.idempotency,
      );
      return { status: "success" as const, message, server, action_id: actionId };
    },
  );

  app.post(
    `${BASE}:server_id/backup/`,
    {
      schema: {
        tags,
        operationId: "backupServer",
        security,
        summary: "Back a server up now",
        description:
          "Queues a backup besides the daily one, kept by the same rule (the newest `VPS_BACKUP_KEEP`). Only for a " +
          "server with backups on (400 `backups_disabled`), `active` or `stopped` (400 `server_busy`, " +
          "`server_suspended` or `server_in_error`).",
        params: ServerIdParams,
        headers: IdempotencyHeaders,
        response: { 200: described(PowerResponse, "Backup queued."), ...errors(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const { message, actionId, server } = await services.backups.backupNow(
        request.accountId,
        request.params.server_id,
        request.idempotency,
      );
      return { status: "success" as const, message, server, action_id: actionId };
    },
  );

  app.post(
    `${BASE}:server_id/resize/`,
    {
      schema: {
        tags,
        operationId: "resizeServer",
        security,
        summary: "Resize a server",
        description:
          "Moves a `stopped` server to another plan offered in its location (400 `server_not_stopped` when it " +
          "runs). Its disk only grows (400 `disk_cannot_shrink`). When its host lacks room, the server is first " +
          "migrated to a host with room (the action is then the migration; the resize follows it); 409 " +
          "`no_capacity` when no host has room. The new plan is billed from the hour after the resize ends.",
        params: ServerIdParams,
        headers: IdempotencyHeaders,
        body: ResizeBody,
        response: { 200: described(PowerResponse, "Resize queued."), ...errors(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const { message, actionId, server } = await services.resizes.resize(
        request.accountId,
        request.params.server_id,
        request.body.plan_id,
        request.idempotency,
      );
      return { status: "success" as const, message, server, action_id: actionId };
    },
  );

  app.get(
    `${BASE}:server_id/metrics/`,
    {
      schema: {
        tags,
        operationId: "getServerMetrics",
        security,
        summary: "Server metrics",
        description:
          "The server's usage history over a range, in buckets of `step` seconds, as Hetzner's API shapes it. " +
          "Samples are kept by the minute for 24 hours and by the hour for 31 days: a range starting within the " +
          "last 24 hours is answered from minutes, an older one from hours (an hour once it has ended). 400 " +
          "`invalid_input` for an unknown type, an end not after the start, or more points than allowed.",
        params: ServerIdParams,
        querystring: MetricsQuery,
        response: { 200: described(MetricsResponse, "The series asked for."), ...errors(400, 401, 404) },
      },
    },
    async (request) => ({
      metrics: await services.serverMetrics.series(
        request.accountId,
        request.params.server_id,
        request.query,
      ),
    }),
  );

  power(
    "start",
    "Start a server",
    "Powers on a `stopped` server. 400 with `server_already_running`, `server_busy`, `server_suspended` or `server_in_error` otherwise.",
  );
  power(
    "stop",
    "Stop a server",
    "Shuts an `active` server down gracefully. 400 with `server_not_running`, `server_busy`, `server_suspended` or `server_in_error` otherwise.",
  );
  power(
    "reboot",
    "Reboot a server",
    "Restarts an `active` server gracefully. 400 with `server_not_running`, `server_busy`, `server_suspended` or `server_in_error` otherwise.",
  );
};
