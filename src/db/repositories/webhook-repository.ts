import { type Insertable, sql, type Updateable } from "kysely";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type {
  WebhookAttemptRow,
  WebhookAttemptsTable,
  WebhookDeliveryRow,
  WebhookEndpointRow,
  WebhookEndpointsTable,
} from "../schema.ts";
import { OPERATIONS_CHANNEL } from "./operation-repository.ts";

/** Who holds a delivery's lease: its owner and the attempt its claim counted (as for operations). */
export interface DeliveryLease {
  owner: string;
  attempt: number;
}

/** How one attempt ended: delivered, to be tried again at `retryAt`, or failed for good. */
export interface AttemptEnd {
  status: "succeeded" | "pending" | "failed";
  retryAt?: string;
  attempt: Omit<Insertable<WebhookAttemptsTable>, "delivery_id" | "attempt">;
}

/**
 * The notification (on the operations' channel, PostgreSQL) that deliveries were queued (sent by a trigger on
 * webhook_deliveries, migration 0031) or an endpoint enabled: it wakes the webhook dispatchers of every process,
 * and nothing else does there.
 */
export const WEBHOOKS_NOTICE = "webhooks";

/** Endpoints, their deliveries (an outbox written with the change each reports) and the deliveries' attempts. */
export class WebhookRepository {
  readonly #db: Db;
  readonly #postgres: boolean;
  constructor(db: Db) {
    this.#db = db;
    this.#postgres = dialectName(db) === "postgres";
  }

  /**
   * Queues the event for each enabled endpoint of the account that takes its type, in the caller's transaction.
   * One indexed lookup when the account has none, and `data` is not even built then.
   */
  async record(
    accountId: number,
    type: string,
    data: () => unknown | Promise<unknown>,
    now: string,
  ): Promise<number> {
    const endpoints = await this.#db
      .selectFrom("webhook_endpoints")
      .select(["id", "account_id"])
      .where("account_id", "=", accountId)
      .where("enabled", "=", 1)
      .where("events", "like", `%,${type},%`)
      .execute();
    return this.#fanOut(endpoints, type, data, now);
  }

  /**
   * As `record`, for the account of an operation, unless its kind is one of `hidden`: still one lookup (the
   * operation by its primary key inside it) when the account has no endpoints.
   */
  async recordForOperation(
    operationId: number,
    hidden: readonly string[],
    type: string,
    data: () => unknown | Promise<unknown>,
    now: string,
  ): Promise<number> {
    const endpoints = await this.#db
      .selectFrom("webhook_endpoints")
      .innerJoin("operations", "operations.account_id", "webhook_endpoints.account_id")
      .select(["webhook_endpoints.id", "webhook_endpoints.account_id"])
      .where("operations.id", "=", operationId)
      .$if(hidden.length > 0, (q) => q.where("operations.kind", "not in", hidden as never[]))
      .where("webhook_endpoints.enabled", "=", 1)
      .where("webhook_endpoints.events", "like", `%,${type},%`)
      .execute();
    return this.#fanOut(endpoints, type, data, now);
  }

  /**
   * `recordForOperation` for several operations (a group of ends) with one lookup for all of them; `data` is
   * built only for an operation whose account has an endpoint that takes the event.
   */
  async recordForOperations(
    operations: readonly { id: number; now: string }[],
    hidden: readonly string[],
    type: string,
    data: (operationId: number) => unknown | Promise<unknown>,
  ): Promise<number> {
    if (operations.length === 0) return 0;
    const endpoints = await this.#db
      .selectFrom("webhook_endpoints")
      .innerJoin("operations", "operations.account_id", "webhook_endpoints.account_id")
      .select(["operations.id as operation_id", "webhook_endpoints.id", "webhook_endpoints.account_id"])
      .where(
        "operations.id",
        "in",
        operations.map((op) => op.id),
      )
      .$if(hidden.length > 0, (q) => q.where("operations.kind", "not in", hidden as never[]))
      .where("webhook_endpoints.enabled", "=", 1)
      .where("webhook_endpoints.events", "like", `%,${type},%`)
      .orderBy("operations.id")
      .orderBy("webhook_endpoints.id")
      .execute();
    let queued = 0;
    for (const { id, now } of operations) {
      const its = endpoints.filter((e) => e.operation_id === id);
      queued += await this.#fanOut(its, type, () => data(id), now);
    }
    return queued;
  }

  async #fanOut(
    endpoints: readonly { id: number; account_id: number }[],
    type: string,
    data: () => unknown | Promise<unknown>,
    now: string,
  ): Promise<number> {
    if (endpoints.length === 0) return 0;
    const json = JSON.stringify(await data());
    await this.#db
      .insertInto("webhook_deliveries")
      .values(
        endpoints.map((e) => ({
          endpoint_id: e.id,
          account_id: e.account_id,
          event_type: type,
          data: json,
          status: "pending" as const,
          next_attempt_at: now,
          created_at: now,
        })),
      )
      .execute();
    return endpoints.length;
  }

  /** One event for one endpoint, whatever it subscribed to (a ping). */
  async recordFor(endpoint: WebhookEndpointRow, type: string, data: unknown, now: string): Promise<number> {
    const row = await this.#db
      .insertInto("webhook_deliveries")
      .values({
        endpoint_id: endpoint.id,
        account_id: endpoint.account_id,
        event_type: type,
        data: JSON.stringify(data),
        status: "pending",
        next_attempt_at: now,
        created_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async findDelivery(endpointId: number, id: number): Promise<WebhookDeliveryRow | undefined> {
    return this.#db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("endpoint_id", "=", endpointId)
      .where("id", "=", id)
      .executeTakeFirst();
  }

  /** A new delivery of a delivery's message: its event, data, webhook-id and payload timestamp, to its endpoint. */
  async redeliver(of: WebhookDeliveryRow, now: string): Promise<WebhookDeliveryRow> {
    return this.#db
      .insertInto("webhook_deliveries")
      .values({
        endpoint_id: of.endpoint_id,
        account_id: of.account_id,
        event_type: of.event_type,
        data: of.data,
        status: "pending",
        next_attempt_at: now,
        created_at: now,
        redelivery_of: of.redelivery_of ?? of.id,
        message_created_at: of.message_created_at ?? of.created_at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async insertEndpoint(values: Insertable<WebhookEndpointsTable>): Promise<WebhookEndpointRow> {
    return this.#db.insertInto("webhook_endpoints").values(values).returningAll().executeTakeFirstOrThrow();
  }

  async countEndpoints(accountId: number): Promise<number> {
    const row = await this.#db
      .selectFrom("webhook_endpoints")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("account_id", "=", accountId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listEndpoints(accountId: number, limit: number, offset: number): Promise<WebhookEndpointRow[]> {
    return this.#db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("account_id", "=", accountId)
      .orderBy("id")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async findEndpoint(accountId: number, id: number): Promise<WebhookEndpointRow | undefined> {
    return this.#db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
  }

  async findEndpointsByIds(ids: readonly number[]): Promise<WebhookEndpointRow[]> {
    if (ids.length === 0) return [];
    return this.#db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "in", [...ids])
      .execute();
  }

  async updateEndpoint(
    accountId: number,
    id: number,
    changes: Updateable<WebhookEndpointsTable>,
  ): Promise<WebhookEndpointRow | undefined> {
    const endpoint = await this.#db
      .updateTable("webhook_endpoints")
      .set(changes)
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    // Its deliveries that waited while it was disabled are due again.
    if (endpoint && changes.enabled === 1 && this.#postgres)
      await sql`select pg_notify(${OPERATIONS_CHANNEL}, ${WEBHOOKS_NOTICE})`.execute(this.#db);
    return endpoint;
  }

  /** The endpoint, its deliveries and their attempts. */
  async deleteEndpoint(accountId: number, id: number): Promise<boolean> {
    const deleted = await this.#db
      .deleteFrom("webhook_endpoints")
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
    if (deleted.numDeletedRows === 0n) return false;
    await this.#db
      .deleteFrom("webhook_attempts")
      .where("delivery_id", "in", (eb) =>
        eb.selectFrom("webhook_deliveries").select("id").where("endpoint_id", "=", id),
      )
      .execute();
    await this.#db.deleteFrom("webhook_deliveries").where("endpoint_id", "=", id).execute();
    return true;
  }

  /**
   * Leases up to `limit` due deliveries of enabled endpoints to `owner`, oldest due first, in one statement; a
   * lease that ran out (its holder died after sending, perhaps) is taken over, so the delivery is sent again.
   */
  async claim(owner: string, now: string, leaseUntil: string, limit: number): Promise<WebhookDeliveryRow[]> {
    const due = sql`
        select d.id from webhook_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id
        where d.status = 'pending' and d.next_attempt_at <= ${now}
          and (d.lease_owner is null or d.lease_expires_at < ${now})
          and e.enabled = 1`;
    // On SQLite the dispatcher is woken after every commit, and an UPDATE with nothing due still cost a write
    // statement each time (85 µs under a load of creates): a read comes first there.
    if (!this.#postgres && (await sql`${due} limit 1`.execute(this.#db)).rows.length === 0) return [];
    const lock = this.#postgres ? sql`for update of d skip locked` : sql``;
    const result = await sql<WebhookDeliveryRow>`
      update webhook_deliveries
      set lease_owner = ${owner}, lease_expires_at = ${leaseUntil}, attempts = attempts + 1
      where id in (
        ${due}
        order by d.next_attempt_at, d.id
        limit ${limit}
        ${lock})
      and (lease_owner is null or lease_expires_at < ${now})
      returning *`.execute(this.#db);
    return result.rows.sort((a, b) => a.id - b.id);
  }

  /** When the next pending delivery falls due or lease runs out after `now`. */
  async nextDue(now: string): Promise<string | undefined> {
    // Both in one statement: the dispatcher asks after every wake.
    const pending = () => this.#db.selectFrom("webhook_deliveries").where(sql<boolean>`status = 'pending'`);
    const row = await this.#db
      .selectNoFrom([
        pending()
          .select((eb) => eb.fn.min("next_attempt_at").as("due"))
          .where("next_attempt_at", ">", now)
          .as("due"),
        pending()
          .select((eb) => eb.fn.min("lease_expires_at").as("lease"))
          .where("lease_expires_at", ">", now)
          .as("lease"),
      ])
      .executeTakeFirst();
    const dues = [row?.due, row?.lease].filter((d): d is string => typeof d === "string");
    return dues.sort()[0];
  }

  /**
   * Records an attempt and what it made of its delivery, fenced by the lease: false (nothing written) when the
   * lease ran out and another holder took the delivery over.
   */
  async endAttempt(
    delivery: { id: number; endpoint_id: number },
    lease: DeliveryLease,
    end: AttemptEnd,
    now: string,
  ): Promise<boolean> {
    const changed = await this.#db
      .updateTable("webhook_deliveries")
      .set({
        status: end.status,
        next_attempt_at: end.retryAt ?? now,
        lease_owner: null,
        lease_expires_at: null,
        last_status_code: end.attempt.status_code ?? null,
        last_error: end.attempt.error ?? null,
        finished_at: end.status === "pending" ? null : now,
      })
      .where("id", "=", delivery.id)
      .where("lease_owner", "=", lease.owner)
      .where("attempts", "=", lease.attempt)
      .where("status", "=", "pending")
      .executeTakeFirst();
    if (changed.numUpdatedRows === 0n) return false;
    await this.#db
      .insertInto("webhook_attempts")
      .values({ ...end.attempt, delivery_id: delivery.id, attempt: lease.attempt })
      .execute();
    const endpoint = this.#db.updateTable("webhook_endpoints").where("id", "=", delivery.endpoint_id);
    if (end.status === "succeeded") {
      await endpoint.set({ failed_deliveries: 0, failing_since: null }).execute();
    } else {
      await endpoint
        .set({
          failing_since: sql`coalesce(failing_since, ${end.attempt.started_at})`,
          failed_deliveries: end.status === "failed" ? sql`failed_deliveries + 1` : sql`failed_deliveries`,
        })
        .execute();
    }
    return true;
  }

  /**
   * Disables the endpoint if it keeps failing: `maxFailed` deliveries failed for good in a row, or every attempt
   * failing since `failingBefore`. The row when it was disabled now.
   */
  async disableIfFailing(
    id: number,
    maxFailed: number,
    failingBefore: string,
    reason: string,
    now: string,
  ): Promise<WebhookEndpointRow | undefined> {
    return this.#db
      .updateTable("webhook_endpoints")
      .set({ enabled: 0, disabled_reason: reason, disabled_at: now, updated_at: now })
      .where("id", "=", id)
      .where("enabled", "=", 1)
      .where((eb) =>
        eb.or([eb("failed_deliveries", ">=", maxFailed), eb("failing_since", "<=", failingBefore)]),
      )
      .returningAll()
      .executeTakeFirst();
  }

  async listDeliveries(endpointId: number, limit: number, offset: number): Promise<WebhookDeliveryRow[]> {
    return this.#db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("endpoint_id", "=", endpointId)
      .orderBy("id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async countDeliveries(endpointId: number): Promise<number> {
    const row = await this.#db
      .selectFrom("webhook_deliveries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("endpoint_id", "=", endpointId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async attemptsOf(deliveryIds: readonly number[]): Promise<WebhookAttemptRow[]> {
    if (deliveryIds.length === 0) return [];
    return this.#db
      .selectFrom("webhook_attempts")
      .selectAll()
      .where("delivery_id", "in", [...deliveryIds])
      .orderBy("delivery_id")
      .orderBy("id")
      .execute();
  }
}
