import { WebhookUrlInvalid } from "./errors.ts";

/** What an endpoint can subscribe to; `ping` is sent only when asked (POST …/ping/), whatever it subscribed to. */
export const WEBHOOK_EVENT_TYPES = [
  "action.finished",
  "server.status_changed",
  "backup.finished",
  "balance.low",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | "ping";

export const WEBHOOK_URL_MAX_LENGTH = 2000;

/** How an endpoint's event types are stored: each between commas, so one is found with a LIKE. */
export function storedEvents(events: readonly string[]): string {
  return `,${[...new Set(events)].sort().join(",")},`;
}

export function eventsOf(stored: string): string[] {
  return stored.split(",").filter(Boolean);
}

/**
 * A webhook's URL as registered: http or https, no credentials, not too long. Where it points is checked at
 * each delivery, against the addresses its host resolves to then (a name can change what it resolves to).
 */
export function validWebhookUrl(raw: string): string {
  if (raw.length > WEBHOOK_URL_MAX_LENGTH) {
    throw new WebhookUrlInvalid(`The URL must be at most ${WEBHOOK_URL_MAX_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlInvalid("The URL is not a valid absolute URL.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new WebhookUrlInvalid("Only http and https URLs can receive webhooks.");
  }
  if (url.username !== "" || url.password !== "") {
    throw new WebhookUrlInvalid("The URL must not carry credentials; verify the signature instead.");
  }
  if (url.hash !== "") throw new WebhookUrlInvalid("The URL must not have a fragment (#…).");
  return url.toString();
}

/**
 * The id receivers deduplicate by (`webhook-id`, the payload's `id`): the delivery's, the same on every attempt, and
 * a redelivery's is its first delivery's, as Standard Webhooks says of a message sent again.
 */
export function webhookMessageId(delivery: { id: number; redelivery_of: number | null }): string {
  return `msg_${delivery.redelivery_of ?? delivery.id}`;
}
