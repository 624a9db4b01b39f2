import { randomUUID } from "node:crypto";
import type { BlockList } from "node:net";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { AttemptEnd } from "../db/repositories/webhook-repository.ts";
import type { WebhookDeliveryRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { webhookMessageId } from "../domain/webhook-events.ts";
import { webhookSignature } from "../domain/webhook-signature.ts";
import { packageVersion } from "../package-version.ts";
import { retryDelayMs } from "./backoff.ts";
import { WakeSignal } from "./wake-signal.ts";
import type { WebhookKeys } from "./webhook-keys.ts";
import { OwnNetwork } from "./webhook-own-network.ts";
import { type SendResult, sendWebhook } from "./webhook-send.ts";
import { blockList, type TargetPolicy, webhookTarget } from "./webhook-target.ts";

export interface WebhookDispatcherOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  settings: Config["webhooks"];
  keys: WebhookKeys;
  /** Deliveries sent at once. */
  concurrency: number;
  /** The longest sleep with nothing due: the safety net under wake(). */
  pollMs: number;
  /** The control plane's listen address (HOST), which webhooks may not reach. */
  listenHost: string;
  /** Where a delivery may connect (tests resolve names their own way). */
  resolve?: TargetPolicy["resolve"];
  /** Jitter of the retry schedule. */
  random?: () => number;
}

/** What is POSTed: the Standard Webhooks payload shape, with the message's id; a redelivery's is its first's. */
export function webhookBody(delivery: WebhookDeliveryRow): string {
  return JSON.stringify({
    id: webhookMessageId(delivery),
    type: delivery.event_type,
    timestamp: delivery.message_created_at ?? delivery.created_at,
    data: JSON.parse(delivery.data),
  });
}

/**
 * Sends the deliveries the outbox holds. Claims due ones with a lease (a compare-and-swap; several processes share
 * the work on PostgreSQL), POSTs each signed, and records the attempt with the delivery's new state in one
 * transaction fenced by the lease. A process that dies after sending and before recording leaves its lease to run
 * out: the delivery is sent again, with the same `webhook-id` (at least once; receivers drop the duplicate).
 */
export class WebhookDispatcher {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}:webhooks`;
  readonly #o: WebhookDispatcherOptions;
  readonly #signal = new WakeSignal();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #ownNetwork: OwnNetwork;
  /** The operator's allowed networks, parsed once rather than for each delivery. */
  readonly #allowed: BlockList;
  #stopping = false;
  #loop: Promise<void> | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = options;
    this.#ownNetwork = new OwnNetwork({
      repos: options.repos,
      clock: options.clock,
      listenHost: options.listenHost,
      namesTtlMs: 60_000,
      resolve: options.resolve,
    });
    this.#allowed = blockList(options.settings.allowedNetworks);
  }

  /** A delivery's lease outlasts its attempt: the timeout, then the time to record it. */
  get leaseMs(): number {
    return this.#o.settings.timeoutMs * 2 + 1000;
  }

  start(): void {
    this.#loop = this.#run();
  }

  wake(): void {
    this.#signal.wake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#signal.wake();
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  async #run(): Promise<void> {
    const { repos, clock, log, concurrency, pollMs } = this.#o;
    while (!this.#stopping) {
      try {
        const free = concurrency - this.#inFlight.size;
        if (free > 0) {
          const claimed = await repos.webhooks.claim(
            this.owner,
            isoAt(clock),
            isoAt(clock, this.leaseMs),
            free,
          );
          if (claimed.length > 0) {
            // Once per batch: a lease that runs out while this fails sends the batch again later.
            const ownNetwork = await this.#ownNetwork.load();
            for (const delivery of claimed) this.#launch(delivery, ownNetwork);
          }
          if (claimed.length === free) continue;
        }
        await this.#signal.wait(await this.#sleepMs());
      } catch (err) {
        log.error({ err }, "webhook dispatcher loop failed; retrying");
        await this.#signal.wait(pollMs);
      }
    }
  }

  async #sleepMs(): Promise<number> {
    const { repos, clock, pollMs, concurrency } = this.#o;
    if (this.#inFlight.size >= concurrency) return pollMs;
    const due = await repos.webhooks.nextDue(isoAt(clock));
    if (due === undefined) return pollMs;
    return Math.max(1, Math.min(pollMs, Date.parse(due) - clock.now().getTime()));
  }

  #launch(delivery: WebhookDeliveryRow, ownNetwork: BlockList): void {
    const flight: Promise<void> = this.deliver(delivery, ownNetwork)
      .catch((err) =>
        this.#o.log.error({ err, delivery: delivery.id }, "webhook delivery could not be recorded"),
      )
      .finally(() => {
        this.#inFlight.delete(flight);
        this.#signal.wake();
      });
    this.#inFlight.add(flight);
  }

  /** One attempt of a claimed delivery, and its record. */
  async deliver(delivery: WebhookDeliveryRow, ownNetwork: BlockList): Promise<void> {
    const { repos, clock, log, settings, keys } = this.#o;
    const [endpoint] = await repos.webhooks.findEndpointsByIds([delivery.endpoint_id]);
    if (!endpoint) return;
    const startedAt = isoAt(clock);
    const started = performance.now();
    let result: SendResult;
    const secret = await keys.open(endpoint.id, endpoint.secret_sealed);
    const url = new URL(endpoint.url);
    const target = await webhookTarget(url, {
      allowed: this.#allowed,
      ownNetwork,
      resolve: this.#o.resolve,
    });
    if (secret === undefined) {
      result = { statusCode: null, excerpt: null, error: "the signing secret cannot be opened; rotate it" };
    } else if ("refused" in target) {
      result = { statusCode: null, excerpt: null, error: `refused: ${target.refused}` };
    } else {
      const id = webhookMessageId(delivery);
      const timestamp = Math.floor(clock.now().getTime() / 1000);
      const body = webhookBody(delivery);
      result = await sendWebhook(
        url,
        target,
        {
          "content-type": "application/json",
          "user-agent": `vps-webhooks/${packageVersion}`,
          "webhook-id": id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": webhookSignature(secret, id, timestamp, body),
        },
        body,
        settings.timeoutMs,
      );
    }
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const attempt = delivery.attempts;
    const wait = settings.retryScheduleMs[attempt - 1];
    const end: AttemptEnd = {
      status: ok ? "succeeded" : wait === undefined ? "failed" : "pending",
      retryAt:
        ok || wait === undefined ? undefined : isoAt(clock, retryDelayMs(1, wait, wait, this.#o.random)),
      attempt: {
        started_at: startedAt,
        duration_ms: Math.round(performance.now() - started),
        status_code: result.statusCode,
        response_excerpt: result.excerpt,
        error: result.error ?? (ok ? null : `HTTP ${result.statusCode}`),
      },
    };
    const now = isoAt(clock);
    const lease = { owner: this.owner, attempt };
    const recorded = await repos.transaction(async (tx) => {
      if (!(await tx.webhooks.endAttempt(delivery, lease, end, now))) return false;
      if (!ok) {
        const disabled = await tx.webhooks.disableIfFailing(
          endpoint.id,
          settings.disableAfterFailures,
          isoAt(clock, -settings.disableAfterMs),
          `Disabled after its deliveries kept failing (last: ${end.attempt.error}).`,
          now,
        );
        if (disabled)
          log.warn({ endpoint: endpoint.id, account: endpoint.account_id }, "webhook endpoint disabled");
      }
      return true;
    });
    if (!recorded)
      log.warn({ delivery: delivery.id }, "webhook delivery's lease was taken over; not recorded");
  }
}
