import { sql } from "kysely";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { AccountRow } from "../schema.ts";

export class AccountRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** The new account, or undefined when one with this email in any case exists (migration 0010's index). */
  async create(
    email: string,
    balanceMinor: number,
    currency: string,
    now: string,
  ): Promise<AccountRow | undefined> {
    return this.#db
      .insertInto("accounts")
      .values({ email, balance_minor: balanceMinor, currency, created_at: now, updated_at: now })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Holds the account's row until the transaction ends, so that two transactions checking a limit of the
   * account's (its snapshots) take turns: a write on both dialects, a row lock on PostgreSQL.
   */
  async lock(id: number): Promise<void> {
    await this.#db
      .updateTable("accounts")
      .set({ updated_at: sql`updated_at` })
      .where("id", "=", id)
      .execute();
  }

  /**
   * Locks the accounts' rows in id order until the transaction ends (PostgreSQL; SQLite has one writer), so that
   * transactions moving several balances take them in one order and cannot deadlock. `for no key update`, as an
   * UPDATE of the balance takes: it lets other transactions insert rows that refer to the accounts meanwhile.
   */
  async lockInOrder(ids: readonly number[]): Promise<void> {
    if (ids.length === 0 || dialectName(this.#db) !== "postgres") return;
    await this.#db
      .selectFrom("accounts")
      .select("id")
      .where("id", "in", ids)
      .orderBy("id")
      .forNoKeyUpdate()
      .execute();
  }

  async findById(id: number): Promise<AccountRow | undefined> {
    return this.#db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** The account with this email in any case (the lower-cased email is unique, and indexed). */
  async findByEmail(email: string): Promise<AccountRow | undefined> {
    return this.#db
      .selectFrom("accounts")
      .selectAll()
      .where(sql`lower(email)`, "=", sql`lower(${email})`)
      .executeTakeFirst();
  }

  async list(limit: number, offset: number): Promise<AccountRow[]> {
    return this.#db.selectFrom("accounts").selectAll().orderBy("id").limit(limit).offset(offset).execute();
  }

  async count(): Promise<number> {
    const row = await this.#db
      .selectFrom("accounts")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setPasswordHash(id: number, passwordHash: string, now: string): Promise<void> {
    await this.#db
      .updateTable("accounts")
      .set({ password_hash: passwordHash, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  /** Makes the account an operator since `since`, or a customer again with null; undefined: no such account. */
  async setOperatorSince(id: number, since: string | null, now: string): Promise<AccountRow | undefined> {
    return this.#db
      .updateTable("accounts")
      .set({ operator_since: since, updated_at: now })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  }

  /** Sets the account's own low-balance threshold, or null for the default; undefined: no such account. */
  async setLowBalanceThreshold(
    id: number,
    minor: number | null,
    now: string,
  ): Promise<AccountRow | undefined> {
    return this.#db
      .updateTable("accounts")
      .set({ low_balance_threshold_minor: minor, updated_at: now })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  }
}
