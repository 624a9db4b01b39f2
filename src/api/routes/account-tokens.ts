import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { idempotentPosts } from "../idempotency-hooks.ts";
import { presentApiToken } from "../presenters/present-api-token.ts";
import { ApiTokenSchema, CreateApiTokenBody, CreatedApiToken } from "../schemas/account-tokens.ts";
import { errors, IdempotencyHeaders, IdParams, ListOf, NoContent } from "../schemas/common.ts";

const BASE = "/api/v1/account/tokens/";

/** The caller's own API tokens: listed, created (shown once) and revoked, as the web console does. */
export const accountTokenRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  requireAccount(app, services.auth, services.rateLimits);
  // A retried create gets the same token again (its stored answer is sealed), not a second token.
  idempotentPosts(app, services.idempotency);
  const tags = ["account"];
  const security = bearerSecurity;

  app.get(
    BASE,
    {
      schema: {
        tags,
        operationId: "listAccountTokens",
        security,
        summary: "List the account's API tokens",
        description: "Revoked ones too, newest first. A token itself is shown only when it is created.",
        response: { 200: ListOf(ApiTokenSchema), ...errors(401) },
      },
    },
    async (request) => {
      const tokens = await services.accounts.listTokens(request.accountId);
      return { count: tokens.length, results: tokens.map(presentApiToken) };
    },
  );

  app.post(
    BASE,
    {
      schema: {
        tags,
        operationId: "createAccountToken",
        security,
        summary: "Create a named API token",
        description:
          "Answers the token once, in `api_token`; only its SHA-256 is stored, so it cannot be shown again.",
        body: CreateApiTokenBody,
        headers: IdempotencyHeaders,
        response: { 201: CreatedApiToken, ...errors(400, 401, 413, 415) },
      },
    },
    async (request, reply) => {
      const { token, ...created } = await services.accounts.issueToken(request.accountId, request.body.name);
      reply.header("location", `${BASE}${created.id}/`);
      return reply.status(201).send({ ...presentApiToken(created), api_token: token });
    },
  );

  app.delete(
    `${BASE}:id/`,
    {
      schema: {
        tags,
        operationId: "deleteAccountToken",
        security,
        summary: "Revoke an API token",
        description:
          "From the next request on, the token authenticates nothing (the token of this request too, if it is " +
          "the one revoked). 404 for a token already revoked or not the account's.",
        params: IdParams,
        response: { 204: NoContent, ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      await services.accounts.revokeToken(request.accountId, request.params.id);
      return reply.status(204).send();
    },
  );
};
