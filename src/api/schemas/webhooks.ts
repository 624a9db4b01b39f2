import { Type } from "@sinclair/typebox";
import { WEBHOOK_EVENT_TYPES, WEBHOOK_URL_MAX_LENGTH } from "../../domain/webhook-events.ts";
import { Nullable, Page, Paged, PageSize, PathId, Timestamp } from "./common.ts";

const EventType = Type.Unsafe<(typeof WEBHOOK_EVENT_TYPES)[number]>({
  type: "string",
  enum: [...WEBHOOK_EVENT_TYPES],
});

const Events = Type.Array(EventType, {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  uniqueItems: true,
  description: "The event types sent to the endpoint (a `ping` is sent whenever asked).",
});

const Url = Type.String({
  minLength: 1,
  maxLength: WEBHOOK_URL_MAX_LENGTH,
  description: "http or https, without credentials; where it resolves is checked at each delivery.",
  examples: ["https://example.com/hooks/vps"],
});

const Description = Nullable(Type.String({ maxLength: 200 }));

export const WebhookSchema = Type.Object(
  {
    id: Type.Integer(),
    url: Type.String(),
    description: Description,
    events: Type.Array(EventType),
    enabled: Type.Boolean(),
    disabled_reason: Nullable(
      Type.String({
        description: "Why it was disabled: its deliveries kept failing, or its account did it.",
      }),
    ),
    disabled_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: "Webhook" },
);

export const WebhookWithSecret = Type.Object(
  {
    ...WebhookSchema.properties,
    secret: Type.String({
      description: "The signing secret (`whsec_…`), shown only now: keep it to verify `webhook-signature`.",
    }),
  },
  { title: "WebhookWithSecret" },
);

export const WebhookList = Paged(WebhookSchema, "All webhook endpoints of the account.");

export const CreateWebhookBody = Type.Object(
  { url: Url, events: Events, description: Type.Optional(Description) },
  { additionalProperties: false },
);

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(
      Type.Boolean({ description: "true enables it again (after it was disabled), false pauses it." }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookIdParams = Type.Object({ id: PathId("The webhook endpoint's id.") });

export const DeliveryIdParams = Type.Object({
  id: PathId("The webhook endpoint's id."),
  delivery_id: PathId("The delivery's id."),
});

export const ListWebhooksQuery = Type.Object({
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
});

const Attempt = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  started_at: Timestamp,
  duration_ms: Type.Integer({ minimum: 0 }),
  status_code: Nullable(Type.Integer({ description: "The receiver's HTTP status; null: no response." })),
  response_excerpt: Nullable(
    Type.String({ description: "The start of the response's body (1 KB at most)." }),
  ),
  error: Nullable(Type.String()),
});

export const DeliverySchema = Type.Object(
  {
    id: Type.Integer(),
    webhook_id: Type.String({
      description: "The `webhook-id` header and payload `id`, the same on every attempt.",
    }),
    event_type: Type.String(),
    redelivery_of: Nullable(
      Type.Integer({
        description:
          "A redelivery's first delivery of the same message (same `webhook_id`); null for a first.",
      }),
    ),
    status: Type.Unsafe<"pending" | "succeeded" | "failed">({
      type: "string",
      enum: ["pending", "succeeded", "failed"],
      description: "`pending` until a 2xx (`succeeded`) or its last attempt (`failed`).",
    }),
    next_attempt_at: Nullable(Timestamp),
    last_status_code: Nullable(Type.Integer()),
    created_at: Timestamp,
    finished_at: Nullable(Timestamp),
    attempts: Type.Array(Attempt),
  },
  { title: "WebhookDelivery" },
);

export const DeliveryList = Paged(DeliverySchema, "All deliveries to the endpoint.");

export const PingResponse = Type.Object({
  delivery_id: Type.Integer({ description: "The queued delivery of the `ping` event." }),
});
