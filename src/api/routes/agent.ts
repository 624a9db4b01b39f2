import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { hostSecurity, requireHost } from "../authenticate.ts";
import { presentClaimedOperation } from "../presenters/present-claimed-operation.ts";
import {
  ClaimBody,
  Claimed,
  ConsoleGrantBody,
  Extended,
  HeartbeatAnswer,
  HeartbeatBody,
  LeaseBody,
  ProgressBody,
  ReleaseBody,
  Released,
  ReleaseStaleBody,
  ReportAnswer,
  ReportBody,
  ResultAnswer,
  ResultBody,
  TransferAnswer,
  TransferBody,
} from "../schemas/agent.ts";
import { errors, IdParams, NoContent } from "../schemas/common.ts";
import { AgentHost, JoinBody, Joined } from "../schemas/hosts.ts";

/**
 * What host agents call: the join exchange, and with a host credential their host's link to the control plane
 * (docs/fleet.md, "The seam: a host link"). The host is always the credential's, never the request's.
 */
export const agentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const tags = ["agent"];
  const hosts = services.hosts;
  const agents = services.agents;

  app.post(
    "/api/v1/agent/join",
    {
      schema: {
        tags,
        operationId: "agentJoin",
        // The join token travels in the body, not as a bearer header.
        security: [],
        summary: "Exchange a join token for a host credential",
        description:
          "Once per join token: a second exchange, an unknown or an expired token is a 401 `join_token_invalid`. " +
          "The host's capacity, images, agent version and driver are recorded, and count as its first heartbeat.",
        body: JoinBody,
        response: { 201: Joined, ...errors(400, 401, 413, 415) },
      },
    },
    async (request, reply) => {
      const { join_token: joinToken, capacity, agent_version: agentVersion, driver, images } = request.body;
      const joined = await hosts.join({ joinToken, capacity, agentVersion, driver, images: images ?? null });
      return reply.status(201).send({ host_id: joined.hostId, credential: joined.credential });
    },
  );

  await app.register(async (scope) => {
    requireHost(scope, services.auth);
    const agent = scope.withTypeProvider<TypeBoxTypeProvider>();
    scope.get(
      "/api/v1/agent/host/",
      {
        schema: {
          tags,
          operationId: "agentGetHost",
          security: hostSecurity,
          summary: "The host the credential belongs to",
          response: { 200: AgentHost, ...errors(401) },
        },
      },
      async (request) => {
        const host = await hosts.get(request.hostId);
        return { host_id: host.id, name: host.name, state: host.effective_state };
      },
    );

    agent.post(
      "/api/v1/agent/heartbeat",
      {
        schema: {
          tags,
          operationId: "agentHeartbeat",
          security: hostSecurity,
          summary: "Prove the host alive and report its capacity and images",
          description:
            "A heartbeat of a host that was down (not heard from for `VPS_HOST_DOWN_AFTER_MS`) marks it to reconcile " +
            "at its next report.",
          body: HeartbeatBody,
          response: { 200: HeartbeatAnswer, ...errors(400, 401, 413, 415) },
        },
      },
      async (request) => {
        const { capacity, agent_version: agentVersion, driver, images, transfer_url } = request.body;
        const host = await agents.heartbeat(request.hostId, {
          capacity,
          agentVersion,
          driver,
          images: images ?? null,
          transferUrl: transfer_url ?? null,
        });
        return { host_id: host.id, name: host.name, state: host.effective_state, admin_state: host.state };
      },
    );

    agent.post(
      "/api/v1/agent/operations/claim",
      {
        schema: {
          tags,
          operationId: "agentClaimOperations",
          security: hostSecurity,
          summary: "Lease due operations of the host's servers (long poll)",
          description:
            "Answers at once when operations are due; otherwise waits up to `wait_seconds` for one and answers an " +
            "empty list. Each operation carries its lease (`owner`, `attempt`), which every later call about it sends.",
          body: ClaimBody,
          response: { 200: Claimed, ...errors(400, 401, 413, 415) },
        },
      },
      async (request, reply) => {
        const gone = new AbortController();
        reply.raw.on("close", () => gone.abort());
        const { limit, wait_seconds: waitSeconds = 0, instance } = request.body;
        const operations = await agents.claim(
          request.hostId,
          limit,
          waitSeconds * 1000,
          gone.signal,
          instance,
        );
        return { operations: operations.map(presentClaimedOperation) };
      },
    );

    agent.post(
      "/api/v1/agent/operations/:id/lease",
      {
        schema: {
          tags,
          operationId: "agentLeaseOperation",
          security: hostSecurity,
          summary: "Renew an operation's lease",
          description:
            "404 when the operation is not one of the host's; 409 `lease_lost` when the lease is no longer the agent's.",
          params: IdParams,
          body: LeaseBody,
          response: { 200: Extended, ...errors(400, 401, 404, 409, 413, 415) },
        },
      },
      async (request) => agents.extend(request.hostId, request.params.id, request.body.lease),
    );

    agent.post(
      "/api/v1/agent/operations/:id/progress",
      {
        schema: {
          tags,
          operationId: "agentReportOperationProgress",
          security: hostSecurity,
          summary: "Report how far an operation's steps are",
          description:
            "Shown as the action's `progress` while it runs. 404 when the operation is not one of the host's; " +
            "409 `lease_lost` when the lease is no longer the agent's.",
          params: IdParams,
          body: ProgressBody,
          response: { 204: NoContent, ...errors(400, 401, 404, 409, 413, 415) },
        },
      },
      async (request, reply) => {
        await agents.progress(request.hostId, request.params.id, request.body.lease, request.body.percent);
        return reply.status(204).send();
      },
    );

    agent.post(
      "/api/v1/agent/operations/:id/result",
      {
        schema: {
          tags,
          operationId: "agentReportOperationResult",
          security: hostSecurity,
          summary: "End an operation's attempt",
          description:
            "`outcome` when its steps succeeded, or `error` and `permanent` when they failed: the control plane " +
            "settles the server (or queues a retry with backoff). 404 when the operation is not one of the " +
            "host's; 409 `lease_lost` when the lease is no longer the agent's (nothing is changed).",
          params: IdParams,
          body: ResultBody,
          response: { 200: ResultAnswer, ...errors(400, 401, 404, 409, 413, 415) },
        },
      },
      async (request) => {
        const { lease, ...result } = request.body;
        const recorded = await agents.finish(request.hostId, request.params.id, lease, result);
        if (!recorded.recorded) throw new Error("unreachable: an unrecorded end is a lease_lost");
        return recorded.status === "pending"
          ? { status: recorded.status, retry_at: recorded.retryAt }
          : { status: recorded.status };
      },
    );

    agent.post(
      "/api/v1/agent/operations/release",
      {
        schema: {
          tags,
          operationId: "agentReleaseOperations",
          security: hostSecurity,
          summary: "Give back leases (at the agent's shutdown)",
          description: "Their operations resume at once. Leases no longer the agent's are skipped.",
          body: ReleaseBody,
          response: { 200: Released, ...errors(400, 401, 413, 415) },
        },
      },
      async (request) => ({ released: await agents.release(request.hostId, request.body.leases) }),
    );

    agent.post(
      "/api/v1/agent/transfers/spend",
      {
        schema: {
          tags,
          operationId: "agentSpendTransferTicket",
          security: hostSecurity,
          summary: "Spend a migration's transfer token before serving its disk",
          description:
            "The source agent's check of the token a target presented: valid once, for the server's running " +
            "migration out of this host. Anything else is a 403 `transfer_token_invalid`.",
          body: TransferBody,
          response: { 200: TransferAnswer, ...errors(400, 401, 403, 413, 415) },
        },
      },
      async (request) =>
        services.migrations.spendTransferToken(request.hostId, request.body.server_id, request.body.token),
    );

    agent.post(
      "/api/v1/agent/consoles/spend",
      {
        schema: {
          tags,
          operationId: "agentSpendConsoleTicket",
          security: hostSecurity,
          summary: "Spend a console grant before opening a machine's serial console",
          description:
            "The agent's check of the grant the control plane presented for a console: valid once, for a few " +
            "seconds, for that server on this host. Anything else is a 403 `console_grant_invalid`.",
          body: ConsoleGrantBody,
          response: { 204: NoContent, ...errors(400, 401, 403, 413, 415) },
        },
      },
      async (request, reply) => {
        await services.consoles.spendGrant(request.hostId, request.body.server_id, request.body.grant);
        return reply.status(204).send();
      },
    );

    agent.post(
      "/api/v1/agent/leases/release-stale",
      {
        schema: {
          tags,
          operationId: "agentReleaseStaleLeases",
          security: hostSecurity,
          summary: "Free the leases of the host's earlier agents (at the agent's start)",
          description:
            "Every lease held by an agent of this host other than `instance` (the caller) is freed, so the " +
            "operations a killed agent held resume at once instead of after `VPS_LEASE_MS`. Other hosts' leases " +
            "are untouched.",
          body: ReleaseStaleBody,
          response: { 200: Released, ...errors(400, 401, 413, 415) },
        },
      },
      async (request) => ({ released: await agents.releaseStale(request.hostId, request.body.instance) }),
    );

    agent.post(
      "/api/v1/agent/reports",
      {
        schema: {
          tags,
          operationId: "agentSendReports",
          security: hostSecurity,
          summary: "Report the observed power state and usage of the host's machines",
          description:
            "Names every machine of the host. The first report after the host returned from down reconciles: " +
            "corrections are queued as operations and the machines of no server are answered in `destroy`. " +
            "Otherwise the power sync's rules for the host's servers with no operation in flight: a machine that " +
            "died makes its server `stopped`, one found running makes it `active`, and usage is sampled. Either " +
            "way an `active` server of the host not named (nor `unsure`) has lost its machine and is `error`. A " +
            "report of a host that is down is not judged. Servers of other hosts are ignored (counted), never touched.",
          body: ReportBody,
          response: { 200: ReportAnswer, ...errors(400, 401, 413, 415) },
        },
      },
      async (request) =>
        agents.report(
          request.hostId,
          request.body.machines.map((m) => ({
            serverId: m.server_id,
            power: m.power,
            stats: m.usage
              ? {
                  cpuTimeNs: m.usage.cpu_time_ns,
                  memoryUsedMb: m.usage.memory_used_mb,
                  diskUsedGb: m.usage.disk_used_gb,
                  // An agent from before the directions were told apart sends one sum, counted as sent.
                  netInBytes: m.usage.net_in_bytes ?? 0,
                  netOutBytes: m.usage.net_out_bytes ?? m.usage.net_bytes ?? 0,
                }
              : null,
          })),
          request.body.unsure,
        ),
    );
  });
};
