import { type Insertable, sql } from "kysely";
import { LIFECYCLE } from "../../domain/lifecycle.ts";
import type { ServerStatus } from "../../domain/server-status.ts";
import type { Db } from "../database.ts";
import type { RefundsTable } from "../schema.ts";

export interface DueServer {
  id: number;
  account_id: number;
  billed_until: string;
  price_hourly_minor: number;
}

/** Statuses that are not charged: a suspended server waits for credit, a server in error for an operator. */
const UNBILLED: ServerStatus[] = ["suspended", "error"];

export class BillingRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Live, billed servers whose paid time has run out by `now`, the longest overdue first. */
  async due(now: string, limit: number): Promise<DueServer[]> {
    return this.#db
      .selectFrom("servers")
      .innerJoin("plans", "plans.id", "servers.plan_id")
      .select(["servers.id", "servers.account_id", "servers.billed_until", "plans.price_hourly_minor"])
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
