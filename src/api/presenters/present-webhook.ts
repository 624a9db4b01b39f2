import type { WebhookEndpointRow } from "../../db/schema.ts";
import { apiTimestamp } from "../../domain/action-view.ts";
import { eventsOf, webhookMessageId } from "../../domain/webhook-events.ts";
import type { DeliveryWithAttempts } from "../../services/webhook-service.ts";

export function presentWebhook(endpoint: WebhookEndpointRow) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: eventsOf(endpoint.events) as never[],
    enabled: endpoint.enabled === 1,
    disabled_reason: endpoint.enabled === 1 ? null : endpoint.disabled_reason,
    disabled_at: endpoint.enabled === 1 || !endpoint.disabled_at ? null : apiTimestamp(endpoint.disabled_at),
    created_at: apiTimestamp(endpoint.created_at),
    updated_at: apiTimestamp(endpoint.updated_at),
  };
}

export function presentDelivery(delivery: DeliveryWithAttempts) {
  return {
    id: delivery.id,
    webhook_id: webhookMessageId(delivery),
    event_type: delivery.event_type,
    redelivery_of: delivery.redelivery_of,
    status: delivery.status,
    next_attempt_at: delivery.status === "pending" ? apiTimestamp(delivery.next_attempt_at) : null,
    last_status_code: delivery.last_status_code,
    created_at: apiTimestamp(delivery.created_at),
    finished_at: delivery.finished_at ? apiTimestamp(delivery.finished_at) : null,
    attempts: delivery.attempt_log.map((a) => ({
      attempt: a.attempt,
      started_at: apiTimestamp(a.started_at),
      duration_ms: a.duration_ms,
      status_code: a.status_code,
      response_excerpt: a.response_excerpt,
      error: a.error,
    })),
  };
}
