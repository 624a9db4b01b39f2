import type { FastifyPluginAsync } from "fastify";
import { IdParams } from "../../api/schemas/common.ts";
import type { Services } from "../../services/services.ts";
import { formField } from "../form-body-parser.ts";
import { formError, formErrorMessage } from "../form-error.ts";
import { apiTokensPage, createdTokenPage, revokeTokenPage } from "../pages/api-tokens-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

type TokenRequest = { Params: { id: number } };

/** /api-tokens: the account's API tokens, created and revoked through AccountService as the API does. */
export const apiTokenRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };
  const withId = { schema: { hide: true, params: IdParams } };

  app.get("/api-tokens", hide, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    return sendPage(reply, apiTokensPage(frame, await services.accounts.listTokens(frame.accountId)));
  });

  // Answered with the token's page itself, not a redirect: the token is in this one answer (never stored,
  // never cached), and no later page can show it.
  app.post("/api-tokens", hide, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const name = formField(request.body, "name");
    try {
      const created = await services.accounts.issueToken(frame.accountId, name);
      return sendPage(reply, createdTokenPage(frame, created.name, created.token), 201);
    } catch (err) {
      const error = formError(err);
      const form = { name, error: `${formErrorMessage(error)} (${error.code})` };
      const tokens = await services.accounts.listTokens(frame.accountId);
      return sendPage(reply, apiTokensPage(frame, tokens, form), error.status);
    }
  });

  app.get<TokenRequest>("/api-tokens/:id/revoke", withId, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const token = await services.accounts.getToken(frame.accountId, request.params.id);
    return sendPage(reply, revokeTokenPage(frame, token));
  });

  app.post<TokenRequest>("/api-tokens/:id/revoke", withId, async (request, reply) => {
    await services.accounts.revokeToken(session(request).accountId, request.params.id);
    return reply.redirect("/api-tokens", 303);
  });
};
