import type { FastifyPluginAsync } from "fastify";
import { IdParams } from "../../api/schemas/common.ts";
import { DeliveryIdParams } from "../../api/schemas/webhooks.ts";
import { WEBHOOK_EVENT_TYPES } from "../../domain/webhook-events.ts";
import type { Services } from "../../services/services.ts";
import { formField } from "../form-body-parser.ts";
import { formError, formErrorMessage } from "../form-error.ts";
import { createdWebhookPage, webhookPage, webhooksPage } from "../pages/webhooks-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

type WebhookRequest = { Params: { id: number } };
type DeliveryRequest = { Params: { id: number; delivery_id: number } };

/** The endpoints a page lists: the account's limit is small, so one page holds them. */
const LISTED = 100;

/** /webhooks: the account's webhook endpoints, through WebhookService as the API does. */
export const webhookRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };
  const withId = { schema: { hide: true, params: IdParams } };

  app.get("/webhooks", hide, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const { endpoints } = await services.webhooks.list(frame.accountId, 1, LISTED);
    return sendPage(reply, webhooksPage(frame, endpoints));
  });

  // Answered with the secret's page itself: it is in this one answer, and no later page can show it.
  app.post("/webhooks", hide, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const url = formField(request.body, "url");
    const events = WEBHOOK_EVENT_TYPES.filter((type) => formField(request.body, `event_${type}`) === "on");
    try {
      const { endpoint, secret } = await services.webhooks.create(frame.accountId, { url, events });
      return sendPage(reply, createdWebhookPage(frame, endpoint, secret), 201);
    } catch (err) {
      const error = formError(err);
      const { endpoints } = await services.webhooks.list(frame.accountId, 1, LISTED);
      const form = { url, events, error: `${formErrorMessage(error)} (${error.code})` };
      return sendPage(reply, webhooksPage(frame, endpoints, form), error.status);
    }
  });

  app.get<WebhookRequest>("/webhooks/:id", withId, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const endpoint = await services.webhooks.get(frame.accountId, request.params.id);
    const { deliveries } = await services.webhooks.deliveries(frame.accountId, endpoint.id, 1, 20);
    return sendPage(reply, webhookPage(frame, endpoint, deliveries));
  });

  app.post<WebhookRequest>("/webhooks/:id/enable", withId, async (request, reply) => {
    await services.webhooks.update(session(request).accountId, request.params.id, { enabled: true });
    return reply.redirect("/webhooks", 303);
  });

  app.post<WebhookRequest>("/webhooks/:id/ping", withId, async (request, reply) => {
    await services.webhooks.ping(session(request).accountId, request.params.id);
    return reply.redirect(`/webhooks/${request.params.id}`, 303);
  });

  app.post<DeliveryRequest>(
    "/webhooks/:id/deliveries/:delivery_id/redeliver",
    { schema: { hide: true, params: DeliveryIdParams } },
    async (request, reply) => {
      const { id, delivery_id: deliveryId } = request.params;
      await services.webhooks.redeliver(session(request).accountId, id, deliveryId);
      return reply.redirect(`/webhooks/${id}`, 303);
    },
  );

  app.post<WebhookRequest>("/webhooks/:id/delete", withId, async (request, reply) => {
    await services.webhooks.delete(session(request).accountId, request.params.id);
    return reply.redirect("/webhooks", 303);
  });
};
