import type { FastifyPluginAsync } from "fastify";
import { IdParams } from "../../api/schemas/common.ts";
import type { Services } from "../../services/services.ts";
import { formField } from "../form-body-parser.ts";
import { formError, formErrorMessage } from "../form-error.ts";
import { deleteSshKeyPage, sshKeysPage } from "../pages/ssh-keys-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

type KeyRequest = { Params: { id: number } };

/** /ssh-keys: the account's keys, added and deleted through SshKeyService as the API does. */
export const sshKeyRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };
  const withId = { schema: { hide: true, params: IdParams } };

  app.get("/ssh-keys", hide, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    return sendPage(reply, sshKeysPage(frame, await services.sshKeys.list(frame.accountId)));
  });

  app.post("/ssh-keys", hide, async (request, reply) => {
    const { accountId } = session(request);
    const name = formField(request.body, "name");
    const publicKey = formField(request.body, "public_key");
    try {
      await services.sshKeys.create(accountId, name, publicKey);
      return reply.redirect("/ssh-keys", 303);
    } catch (err) {
      const error = formError(err);
      const field = Object.keys(error.fields ?? {})[0];
      const form = { name, publicKey, error: `${formErrorMessage(error)} (${error.code})`, field };
      const frame = await signedInFrame(services, request);
      const keys = await services.sshKeys.list(accountId);
      return sendPage(reply, sshKeysPage(frame, keys, form), error.status);
    }
  });

  app.get<KeyRequest>("/ssh-keys/:id/delete", withId, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const key = await services.sshKeys.get(frame.accountId, request.params.id);
    return sendPage(reply, deleteSshKeyPage(frame, key));
  });

  app.post<KeyRequest>("/ssh-keys/:id/delete", withId, async (request, reply) => {
    await services.sshKeys.delete(session(request).accountId, request.params.id);
    return reply.redirect("/ssh-keys", 303);
  });
};
