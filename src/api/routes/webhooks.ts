import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { idempotentPosts } from "../idempotency-hooks.ts";
import { pageOf } from "../page-links.ts";
import { presentDelivery, presentWebhook } from "../presenters/present-webhook.ts";
import { described, errors, IdempotencyHeaders, NoContent } from "../schemas/common.ts";
import {
  CreateWebhookBody,
  DeliveryIdParams,
  DeliveryList,
  DeliverySchema,
  ListWebhooksQuery,
  PingResponse,
  UpdateWebhookBody,
  WebhookIdParams,
  WebhookList,
  WebhookSchema,
  WebhookWithSecret,
} from "../schemas/webhooks.ts";

const BASE = "/api/v1/webhooks/";

/** The account's webhook endpoints and their deliveries. */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAccount(app, services.auth, services.rateLimits);
  idempotentPosts(app, services.idempotency);
  const tags = ["webhooks"];
  const security = bearerSecurity;

  app.get(
    BASE,
    {
      schema: {
        tags,
        operationId: "listWebhooks",
        security,
        summary: "List webhook endpoints",
        querystring: ListWebhooksQuery,
        response: { 200: described(WebhookList, "The endpoints, one page of them."), ...errors(400, 401) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, endpoints } = await services.webhooks.list(request.accountId, page, pageSize);
      return pageOf(
        request,
        services.config.publicUrl,
        BASE,
        {},
        { page, pageSize, count },
        endpoints.map(presentWebhook),
      );
    },
  );

  app.post(
    BASE,
    {
      schema: {
        tags,
        operationId: "createWebhook",
        security,
        summary: "Register a webhook endpoint",
        description:
          "Events of the chosen types are POSTed to the URL, signed with the endpoint's secret, which this " +
          "answer alone shows. 400 `webhook_url_invalid` for a URL that is not http(s), carries credentials or " +
          "is too long; 409 `webhook_limit_reached` past the account's limit.",
        body: CreateWebhookBody,
        headers: IdempotencyHeaders,
        response: {
          201: described(WebhookWithSecret, "Registered; keep the secret."),
          ...errors(400, 401, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await services.webhooks.create(request.accountId, request.body);
      reply.header("location", `${BASE}${endpoint.id}/`);
      return reply.status(201).send({ ...presentWebhook(endpoint), secret });
    },
  );

  app.get(
    `${BASE}:id/`,
    {
      schema: {
        tags,
        operationId: "getWebhook",
        security,
        summary: "A webhook endpoint",
        params: WebhookIdParams,
        response: { 200: described(WebhookSchema, "The endpoint."), ...errors(400, 401, 404) },
      },
    },
    async (request) => presentWebhook(await services.webhooks.get(request.accountId, request.params.id)),
  );

  app.patch(
    `${BASE}:id/`,
    {
      schema: {
        tags,
        operationId: "updateWebhook",
        security,
        summary: "Change a webhook endpoint",
        description:
          "`enabled: true` enables an endpoint that was disabled (its failures are forgotten and its waiting " +
          "deliveries resume); `enabled: false` pauses it.",
        params: WebhookIdParams,
        body: UpdateWebhookBody,
        response: { 200: described(WebhookSchema, "The endpoint."), ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request) =>
      presentWebhook(await services.webhooks.update(request.accountId, request.params.id, request.body)),
  );

  app.delete(
    `${BASE}:id/`,
    {
      schema: {
        tags,
        operationId: "deleteWebhook",
        security,
        summary: "Delete a webhook endpoint",
        description: "Its deliveries not yet sent are dropped.",
        params: WebhookIdParams,
        response: { 204: described(NoContent, "Deleted."), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await services.webhooks.delete(request.accountId, request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    `${BASE}:id/ping/`,
    {
      schema: {
        tags,
        operationId: "pingWebhook",
        security,
        summary: "Send a ping event",
        description: "Queues a `ping` event to the endpoint, whatever it subscribed to; see its deliveries.",
        params: WebhookIdParams,
        headers: IdempotencyHeaders,
        response: { 202: described(PingResponse, "Queued."), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const deliveryId = await services.webhooks.ping(request.accountId, request.params.id);
      return reply.status(202).send({ delivery_id: deliveryId });
    },
  );

  app.post(
    `${BASE}:id/rotate_secret/`,
    {
      schema: {
        tags,
        operationId: "rotateWebhookSecret",
        security,
        summary: "Replace a webhook endpoint's signing secret",
        description:
          "The new secret is shown in this answer only; deliveries from now on are signed with it.",
        params: WebhookIdParams,
        headers: IdempotencyHeaders,
        response: { 200: described(WebhookWithSecret, "The new secret."), ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { endpoint, secret } = await services.webhooks.rotateSecret(request.accountId, request.params.id);
      return { ...presentWebhook(endpoint), secret };
    },
  );

  app.get(
    `${BASE}:id/deliveries/`,
    {
      schema: {
        tags,
        operationId: "listWebhookDeliveries",
        security,
        summary: "A webhook endpoint's deliveries",
        description:
          "Newest first, each with its attempts: status code, the start of the response, error, duration.",
        params: WebhookIdParams,
        querystring: ListWebhooksQuery,
        response: {
          200: described(DeliveryList, "The deliveries, one page of them."),
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { id } = request.params;
      const { count, deliveries } = await services.webhooks.deliveries(request.accountId, id, page, pageSize);
      return pageOf(
        request,
        services.config.publicUrl,
        `${BASE}${id}/deliveries/`,
        {},
        { page, pageSize, count },
        deliveries.map(presentDelivery),
      );
    },
  );

  app.post(
    `${BASE}:id/deliveries/:delivery_id/redeliver/`,
    {
      schema: {
        tags,
        operationId: "redeliverWebhookDelivery",
        security,
        summary: "Send a delivery's event again",
        description:
          "Queues a new delivery of the same message to the endpoint: the same `webhook_id` (`webhook-id` header " +
          "and payload `id`) and payload, as Standard Webhooks says of a message sent again, signed with the " +
          "endpoint's secret of now; `redelivery_of` names the first delivery. 409 `webhook_delivery_pending` " +
          "while the delivery is still being tried. An endpoint that is disabled keeps it until enabled.",
        params: DeliveryIdParams,
        headers: IdempotencyHeaders,
        response: { 202: described(DeliverySchema, "Queued."), ...errors(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id, delivery_id: deliveryId } = request.params;
      const queued = await services.webhooks.redeliver(request.accountId, id, deliveryId);
      return reply.status(202).send(presentDelivery(queued));
    },
  );
};
