import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { idempotentPosts } from "../idempotency-hooks.ts";
import { presentSshKey } from "../presenters/present-catalogue.ts";
import { errors, IdempotencyHeaders, IdParams, ListOf, NoContent } from "../schemas/common.ts";
import { CreateSshKeyBody, RenameSshKeyBody, SshKeySchema } from "../schemas/ssh-keys.ts";

const BASE = "/api/v1/ssh-keys/";

export const sshKeyRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAccount(app, services.auth, services.rateLimits);
  idempotentPosts(app, services.idempotency);
  const tags = ["ssh-keys"];
  const security = bearerSecurity;

  app.get(
    BASE,
    {
      schema: {
        tags,
        operationId: "listSshKeys",
        security,
        summary: "List SSH keys",
        response: { 200: ListOf(SshKeySchema), ...errors(401) },
      },
    },
    async (request) => {
      const keys = await services.sshKeys.list(request.accountId);
      return { count: keys.length, results: keys.map(presentSshKey) };
    },
  );

  app.post(
    BASE,
    {
      schema: {
        tags,
        operationId: "createSshKey",
        security,
        summary: "Add an SSH key",
        description:
          "The key is parsed and validated (ed25519, ECDSA, RSA of 2048 bits or more); 409 if the account has it already.",
        body: CreateSshKeyBody,
        headers: IdempotencyHeaders,
        response: { 201: SshKeySchema, ...errors(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const key = await services.sshKeys.create(
        request.accountId,
        request.body.name,
        request.body.public_key,
      );
      reply.header("location", `${BASE}${key.id}/`);
      return reply.status(201).send(presentSshKey(key));
    },
  );

  app.get(
    `${BASE}:id/`,
    {
      schema: {
        tags,
        operationId: "getSshKey",
        security,
        summary: "An SSH key",
        params: IdParams,
        response: { 200: SshKeySchema, ...errors(401, 404) },
      },
    },
    async (request) => presentSshKey(await services.sshKeys.get(request.accountId, request.params.id)),
  );

  const renames = [
    ["put", "updateSshKey"],
    ["patch", "patchSshKey"],
  ] as const;
  for (const [method, operationId] of renames) {
    app[method](
      `${BASE}:id/`,
      {
        schema: {
          tags,
          operationId,
          security,
          summary: "Rename an SSH key",
          params: IdParams,
          body: RenameSshKeyBody,
          response: { 200: SshKeySchema, ...errors(400, 401, 404, 413, 415) },
        },
      },
      async (request) =>
        presentSshKey(await services.sshKeys.rename(request.accountId, request.params.id, request.body.name)),
    );
  }

  app.delete(
    `${BASE}:id/`,
    {
      schema: {
        tags,
        operationId: "deleteSshKey",
        security,
        summary: "Delete an SSH key",
        description: "Servers built with the key keep it; only new servers can no longer use it.",
        params: IdParams,
        response: { 204: NoContent, ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      await services.sshKeys.delete(request.accountId, request.params.id);
      return reply.status(204).send();
    },
  );
};
