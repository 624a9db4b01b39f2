import { type Insertable, sql } from "kysely";
import { LIFECYCLE } from "../../domain/lifecycle.ts";
import type { ServerStatus } from "../../domain/server-status.ts";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { RefundsTable } from "../schema.ts";

export interface DueServer {
  id: number;
  account_id: number;
  currency: string;
  billed_until: string;
  plan_id: number;
  price_hourly_minor: number;
  price_monthly_minor: number;
  backups_enabled: number;
  bandwidth_gb: number;
  /** The month the sampled traffic counts, and its larger direction in bytes; null: never sampled. */
  usage_period: string | null;
  bandwidth_bytes: number | null;
}

/** An available snapshot with an hour of storage to charge: the hour from `paid_from`. */
export interface DueSnapshot {
  id: number;
  account_id: number;
  server_id: number | null;
  currency: string;
  size_bytes: number;
  /** Where its paid time ends now: `billed_until`, or its completion when never charged. */
  paid_from: string;
  billed_until: string | null;
}

/** Statuses that are not charged: a suspended server waits for credit, a server in error for an operator. */
const UNBILLED: ServerStatus[] = ["suspended", "error"];

/** A server's paid time to move on by compare-and-swap: from `paidUntil` (as read) to `nextPaidUntil`. */
export interface PaidTimeMove {
  id: number;
  paidUntil: string;
  nextPaidUntil: string;
}

export class BillingRepository {
  readonly #db: Db;
  readonly #postgres: boolean;
  constructor(db: Db) {
    this.#db = db;
    this.#postgres = dialectName(db) === "postgres";
  }

  /** Live, billed servers whose paid time has run out by `now`, the longest overdue first, with their traffic. */
  async due(now: string, limit: number): Promise<DueServer[]> {
    return this.#db
      .selectFrom("servers")
      .innerJoin("plans", "plans.id", "servers.plan_id")
      .innerJoin("accounts", "accounts.id", "servers.account_id")
      .leftJoin("server_usage", "server_usage.server_id", "servers.id")
      .select([
        "servers.id",
        "servers.account_id",
        "accounts.currency",
        "servers.billed_until",
        "servers.plan_id",
        "plans.price_hourly_minor",
        "plans.price_monthly_minor",
        "servers.backups_enabled",
        "plans.bandwidth_gb",
        "server_usage.period as usage_period",
        "server_usage.bandwidth_bytes",
      ])
      .where("servers.deleted_at", "is", null)
      .where("servers.status", "not in", UNBILLED)
      .where("servers.billed_until", "<=", now)
      .orderBy("servers.billed_until")
      .orderBy("servers.id")
      .limit(limit)
      .$narrowType<{ billed_until: string }>()
      .execute();
  }

  /**
   * Moves the server's paid time on from `paidUntil` to `nextPaidUntil`, by compare-and-swap so that an hour
   * is charged once however many processes run the cycle. Returns whether this call moved it.
   */
  async advance(serverId: number, paidUntil: string, nextPaidUntil: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("servers")
      .set({ billed_until: nextPaidUntil })
      .where("id", "=", serverId)
      .where("billed_until", "=", paidUntil)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * `advance` for many servers in two statements: the rows still paid until what was read are locked in id order
   * (on PostgreSQL; SQLite has one writer), so that two processes' batches take them in one order, then moved on.
   * Returns the ids this call moved.
   */
  async advanceMany(moves: readonly PaidTimeMove[]): Promise<Set<number>> {
    if (moves.length === 0) return new Set();
    const locked = await this.#db
      .selectFrom("servers")
      .select("id")
      .where((eb) =>
        eb.or(moves.map((m) => eb.and([eb("id", "=", m.id), eb("billed_until", "=", m.paidUntil)]))),
      )
      .orderBy("id")
      .$if(this.#postgres, (q) => q.forNoKeyUpdate())
      .execute();
    const ids = new Set(locked.map((r) => r.id));
    if (ids.size === 0) return ids;
    const next = moves.filter((m) => ids.has(m.id));
    await this.#db
      .updateTable("servers")
      .set({
        billed_until: sql<string>`case id ${sql.join(
          next.map((m) => sql`when ${m.id} then ${m.nextPaidUntil}`),
          sql` `,
        )} end`,
      })
      .where("id", "in", [...ids])
      .execute();
    return ids;
  }

  /** Available snapshots with an hour of storage ended by `hourAgo`'s hour (paid up to `hourAgo` or before). */
  async snapshotsDue(hourAgo: string, limit: number): Promise<DueSnapshot[]> {
    const rows = await this.#db
      .selectFrom("images")
      .innerJoin("accounts", "accounts.id", "images.account_id")
      .select((eb) => [
        "images.id",
        "images.account_id",
        "images.server_id",
        "accounts.currency",
        "images.size_bytes",
        "images.billed_until",
        eb.fn.coalesce("images.billed_until", "images.completed_at").as("paid_from"),
      ])
      .where("images.type", "=", "snapshot")
      .where("images.status", "=", "available")
      .where("images.deleted_at", "is", null)
      .where((eb) => eb(eb.fn.coalesce("images.billed_until", "images.completed_at"), "<=", hourAgo))
      .orderBy("images.id")
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      account_id: row.account_id,
      server_id: row.server_id,
      currency: row.currency,
      size_bytes: Number(row.size_bytes ?? 0),
      paid_from: row.paid_from as string,
      billed_until: row.billed_until,
    }));
  }

  /** Moves a snapshot's paid time on, by compare-and-swap from what was read (null: never charged). */
  async advanceSnapshot(imageId: number, paidUntil: string | null, nextPaidUntil: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("images")
      .set({ billed_until: nextPaidUntil })
      .where("id", "=", imageId)
      .where((eb) =>
        paidUntil === null ? eb("billed_until", "is", null) : eb("billed_until", "=", paidUntil),
      )
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Records a refund and ends the server's billing, unless the operation was refunded already. Returns whether
   * this call recorded it; the caller credits the account in the same transaction only then.
   */
  async recordRefund(refund: Insertable<RefundsTable>): Promise<boolean> {
    const row = await this.#db
      .insertInto("refunds")
      .values(refund)
      .onConflict((oc) => oc.column("operation_id").doNothing())
      .returning("operation_id")
      .executeTakeFirst();
    if (!row) return false;
    await this.#db
      .updateTable("servers")
      .set({ billed_until: null })
      .where("id", "=", refund.server_id)
      .execute();
    return true;
  }

  /** Accounts in debt (the last hour charged took the balance below zero) that still have servers to suspend. */
  async accountsToSuspend(): Promise<number[]> {
    const rows = await this.#db
      .selectFrom("accounts")
      .select("accounts.id")
      .where("accounts.balance_minor", "<", 0)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom("servers")
            .select(sql`1`.as("one"))
            .whereRef("servers.account_id", "=", "accounts.id")
            .where("servers.deleted_at", "is", null)
            .where("servers.status", "in", LIFECYCLE.suspend.from),
        ),
      )
      .execute();
    return rows.map((r) => r.id);
  }

  async liveServersIn(
    accountId: number,
    statuses: readonly ServerStatus[],
  ): Promise<{ id: number; status: ServerStatus }[]> {
    return this.#db
      .selectFrom("servers")
      .select(["id", "status"])
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .where("status", "in", statuses)
      .orderBy("id")
      .$narrowType<{ status: ServerStatus }>()
      .execute();
  }
}
