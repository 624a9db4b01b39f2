import type { Repositories } from "../db/repositories/repositories.ts";
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import {
  InvalidInput,
  WebhookDeliveryNotFound,
  WebhookDeliveryPending,
  WebhookLimitReached,
  WebhookNotFound,
} from "../domain/errors.ts";
import { storedEvents, validWebhookUrl, WEBHOOK_EVENT_TYPES } from "../domain/webhook-events.ts";
import { generateWebhookSecret } from "../domain/webhook-signature.ts";
import type { WebhookKeys } from "../engine/webhook-keys.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";

export interface WebhookServiceOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  keys: WebhookKeys;
  /** Endpoints per account. */
  limit: number;
}

export interface NewWebhook {
  url: string;
  events: readonly string[];
  description?: string | null;
}

export interface WebhookChanges {
  url?: string;
  events?: readonly string[];
  description?: string | null;
  enabled?: boolean;
}

/** An endpoint with the signing secret, which is shown only when it is made (at creation and rotation). */
export interface RevealedWebhook {
  endpoint: WebhookEndpointRow;
  secret: string;
}

export type DeliveryWithAttempts = WebhookDeliveryRow & { attempt_log: WebhookAttemptRow[] };

/** An account's webhook endpoints: registered, changed, pinged, and their deliveries shown. */
export class WebhookService {
  readonly #o: WebhookServiceOptions;
  constructor(options: WebhookServiceOptions) {
    this.#o = options;
  }

  async list(
    accountId: number,
    page: number,
    pageSize: number,
  ): Promise<{ count: number; endpoints: WebhookEndpointRow[] }> {
    const { repos } = this.#o;
    const [count, endpoints] = await Promise.all([
      repos.webhooks.countEndpoints(accountId),
      repos.webhooks.listEndpoints(accountId, pageSize, (page - 1) * pageSize),
    ]);
    return { count, endpoints };
  }

  async get(accountId: number, id: number): Promise<WebhookEndpointRow> {
    const endpoint = await this.#o.repos.webhooks.findEndpoint(accountId, id);
    if (!endpoint) throw new WebhookNotFound();
    return endpoint;
  }

  async create(accountId: number, input: NewWebhook): Promise<RevealedWebhook> {
    const { repos, clock, keys, limit } = this.#o;
    const url = validWebhookUrl(input.url);
    const events = validEvents(input.events);
    const secret = generateWebhookSecret();
    const now = isoAt(clock);
    await keys.load();
    const endpoint = await repos.transaction(async (tx) => {
      if ((await tx.webhooks.countEndpoints(accountId)) >= limit) throw new WebhookLimitReached(limit);
      const row = await tx.webhooks.insertEndpoint({
        account_id: accountId,
        url,
        description: input.description ?? null,
        events,
        // Sealed with a key bound to the row's id, known once it is inserted.
        secret_sealed: "",
        enabled: 1,
        disabled_reason: null,
        disabled_at: null,
        failing_since: null,
        created_at: now,
        updated_at: now,
      });
      const sealed = await keys.seal(row.id, secret);
      return tx.webhooks.updateEndpoint(accountId, row.id, { secret_sealed: sealed });
    });
    if (!endpoint) throw new WebhookNotFound();
    return { endpoint, secret };
  }

  async update(accountId: number, id: number, changes: WebhookChanges): Promise<WebhookEndpointRow> {
    const now = isoAt(this.#o.clock);
    const set: Parameters<Repositories["webhooks"]["updateEndpoint"]>[2] = { updated_at: now };
    if (changes.url !== undefined) set.url = validWebhookUrl(changes.url);
    if (changes.events !== undefined) set.events = validEvents(changes.events);
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.enabled === true) {
      // Enabled again by its account: its failures are forgotten, and its waiting deliveries resume.
      Object.assign(set, {
        enabled: 1,
        disabled_reason: null,
        disabled_at: null,
        failed_deliveries: 0,
        failing_since: null,
      });
    } else if (changes.enabled === false) {
      Object.assign(set, { enabled: 0, disabled_reason: "Disabled by the account.", disabled_at: now });
    }
    const endpoint = await this.#o.repos.webhooks.updateEndpoint(accountId, id, set);
    if (!endpoint) throw new WebhookNotFound();
    if (changes.enabled === true) this.#o.notifier.wake();
    return endpoint;
  }

  async delete(accountId: number, id: number): Promise<void> {
    const deleted = await this.#o.repos.transaction((tx) => tx.webhooks.deleteEndpoint(accountId, id));
    if (!deleted) throw new WebhookNotFound();
  }

  /** Queues a `ping` event to the endpoint, whatever it subscribed to; the delivery's id. */
  async ping(accountId: number, id: number): Promise<number> {
    const { repos, clock, notifier } = this.#o;
    const endpoint = await this.get(accountId, id);
    const deliveryId = await repos.webhooks.recordFor(
      endpoint,
      "ping",
      { webhook_id: endpoint.id },
      isoAt(clock),
    );
    notifier.wake();
    return deliveryId;
  }

  /**
   * Queues a delivery's message to its endpoint again, once its own attempts are over: a new delivery with the same
   * webhook-id and payload (Standard Webhooks: a message sent again keeps its id, so a receiver that handled it
   * drops it), signed with the endpoint's secret of now.
   */
  async redeliver(accountId: number, id: number, deliveryId: number): Promise<DeliveryWithAttempts> {
    const { repos, clock, notifier } = this.#o;
    await this.get(accountId, id);
    const delivery = await repos.webhooks.findDelivery(id, deliveryId);
    if (!delivery) throw new WebhookDeliveryNotFound();
    if (delivery.status === "pending") throw new WebhookDeliveryPending();
    const queued = await repos.webhooks.redeliver(delivery, isoAt(clock));
    notifier.wake();
    return { ...queued, attempt_log: [] };
  }

  /** A new signing secret, shown once; the old one signs nothing from now on. */
  async rotateSecret(accountId: number, id: number): Promise<RevealedWebhook> {
    const { repos, clock, keys } = this.#o;
    await this.get(accountId, id);
    const secret = generateWebhookSecret();
    const endpoint = await repos.webhooks.updateEndpoint(accountId, id, {
      secret_sealed: await keys.seal(id, secret),
      updated_at: isoAt(clock),
    });
    if (!endpoint) throw new WebhookNotFound();
    return { endpoint, secret };
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async deliveries(
    accountId: number,
    id: number,
    page: number,
    pageSize: number,
  ): Promise<{ count: number; deliveries: DeliveryWithAttempts[] }> {
    const { repos } = this.#o;
    await this.get(accountId, id);
    const [count, rows] = await Promise.all([
      repos.webhooks.countDeliveries(id),
      repos.webhooks.listDeliveries(id, pageSize, (page - 1) * pageSize),
    ]);
    const attempts = await repos.webhooks.attemptsOf(rows.map((r) => r.id));
    return {
      count,
      deliveries: rows.map((row) => ({
        ...row,
        attempt_log: attempts.filter((a) => a.delivery_id === row.id),
      })),
    };
  }
}

function validEvents(events: readonly string[]): string {
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (events.length === 0 || unknown.length > 0) {
    throw InvalidInput.field("events", `Must be one or more of ${WEBHOOK_EVENT_TYPES.join(", ")}.`);
  }
  return storedEvents(events);
}
