import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { hostSecurity, requireHost } from "../require-host.ts";
import { errors } from "../schemas/common.ts";
import { AgentHost, JoinBody, Joined } from "../schemas/hosts.ts";

/** What host agents call: the join exchange, and (with a host credential) their own host. */
export const agentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const tags = ["agent"];
  const hosts = services.hosts;

  app.post(
    "/api/v1/agent/join",
    {
      schema: {
        tags,
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
    requireHost(scope, hosts);
    scope.get(
      "/api/v1/agent/host/",
      {
        schema: {
          tags,
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
  });
};
