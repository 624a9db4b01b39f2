import { type Insertable, sql } from "kysely";
import type { LedgerKind } from "../../domain/ledger.ts";
import type { Db } from "../database.ts";
import type {
  AccountRow,
  LedgerEntriesTable,
  LedgerEntryRow,
  ServerMonthRow,
  ServerMonthsTable,
  StatementRow,
} from "../schema.ts";

export type NewLedgerEntry = Omit<Insertable<LedgerEntriesTable>, "id">;

/** Which entries of an account a list shows: of these kinds, recorded in [since, until). */
export interface LedgerFilter {
  kinds?: readonly LedgerKind[];
  since?: string;
  until?: string;
}

/** A server's month with what its usage needs: its plan now and how far it is paid. */
export interface ServerMonthUsage extends ServerMonthRow {
  name: string;
  plan_id: number;
  price_hourly_minor: number;
  billed_until: string | null;
  deleted_at: string | null;
  status: string;
  backups_enabled: number;
  /** The month its sampled traffic counts, and that traffic's larger direction in bytes; null: never sampled. */
  usage_period: string | null;
  bandwidth_bytes: number | null;
}

/** Charges of a period, per server and kind: the lines of a statement. */
export interface LedgerLine {
  server_id: number | null;
  kind: LedgerKind;
  entries: number;
  amount_minor: number;
}

export interface RevenueRow {
  plan_id: number | null;
  plan_name: string | null;
  location: string | null;
  amount_minor: number;
  entries: number;
}

/**
 * The ledger (migration 0025): the only writer of accounts.balance_minor after an account's creation. An entry is
 * inserted with its unique key or not at all, and the cached balance moves in the same transaction only when it
 * was new, so the balance stays the sum of the entries whatever is retried or raced.
 */
export class LedgerRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Appends the entry unless its key is taken and moves the account's balance by its amount. With `limitMinor`,
   * the balance must stay within ±limit: in the statement's WHERE, so it holds under any concurrency. Answers
   * `added: false` for a key already written (nothing changed), and `account` undefined when the balance would
   * leave the limit (the caller's transaction must then be rolled back, as the entry is written).
   */
  async append(
    entry: NewLedgerEntry,
    limitMinor?: number,
  ): Promise<{ added: boolean; account?: AccountRow | undefined }> {
    const inserted = await this.#db
      .insertInto("ledger_entries")
      .values(entry)
      .onConflict((oc) => oc.column("key").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) return { added: false };
    let update = this.#db
      .updateTable("accounts")
      .set({ balance_minor: sql`balance_minor + ${entry.amount_minor}`, updated_at: entry.created_at })
      .where("id", "=", entry.account_id);
    if (limitMinor !== undefined) {
      update = update.where(
        sql<boolean>`balance_minor + ${entry.amount_minor} between ${-limitMinor} and ${limitMinor}`,
      );
    }
    return { added: true, account: await update.returningAll().executeTakeFirst() };
  }

  /**
   * Appends the entries whose keys are free, in one statement, and answers the keys it wrote. The caller moves the
   * balances by what was written (`moveBalances`) in the same transaction.
   */
  async appendMany(entries: readonly NewLedgerEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    const rows = await this.#db
      .insertInto("ledger_entries")
      .values([...entries])
      .onConflict((oc) => oc.column("key").doNothing())
      .returning("key")
      .execute();
    return new Set(rows.map((r) => r.key));
  }

  /**
   * Moves each account's balance by its amount in one statement and answers the accounts as they are after. Lock
   * the accounts in id order first (`AccountRepository.lockInOrder`) where other transactions may move several.
   */
  async moveBalances(amounts: ReadonlyMap<number, number>, now: string): Promise<AccountRow[]> {
    if (amounts.size === 0) return [];
    const cases = [...amounts].map(([id, amount]) => sql`when ${id} then cast(${amount} as bigint)`);
    return this.#db
      .updateTable("accounts")
      .set({ balance_minor: sql`balance_minor + case id ${sql.join(cases, sql` `)} end`, updated_at: now })
      .where("id", "in", [...amounts.keys()])
      .returningAll()
      .execute();
  }

  /** The sum of the account's entries: what its cached balance must equal. */
  async sum(accountId: number, before?: string): Promise<number> {
    let query = this.#db
      .selectFrom("ledger_entries")
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("amount_minor"), sql<number>`0`).as("total"))
      .where("account_id", "=", accountId);
    if (before !== undefined) query = query.where("created_at", "<", before);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.total);
  }

  /** What the server has been charged in all (its hours and backups, a negative sum), less refunds. */
  async serverCharges(serverId: number): Promise<number> {
    const row = await this.#db
      .selectFrom("ledger_entries")
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("amount_minor"), sql<number>`0`).as("total"))
      .where("server_id", "=", serverId)
      .where("kind", "in", ["usage", "backup", "refund"])
      .executeTakeFirstOrThrow();
    return Number(row.total);
  }

  /** Accounts whose cached balance is not the sum of their entries (none, unless something bypassed the ledger). */
  async mismatchedAccounts(
    limit: number,
  ): Promise<{ id: number; balance_minor: number; ledger_minor: number }[]> {
    const sums = this.#db
      .selectFrom("ledger_entries")
      .select(["account_id", (eb) => eb.fn.sum<number>("amount_minor").as("total")])
      .groupBy("account_id")
      .as("sums");
    const rows = await this.#db
      .selectFrom("accounts")
      .leftJoin(sums, "sums.account_id", "accounts.id")
      .select([
        "accounts.id",
        "accounts.balance_minor",
        sql<number>`coalesce(sums.total, 0)`.as("ledger_minor"),
      ])
      .where(sql<boolean>`accounts.balance_minor <> coalesce(sums.total, 0)`)
      .orderBy("accounts.id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      balance_minor: r.balance_minor,
      ledger_minor: Number(r.ledger_minor),
    }));
  }

  #filtered(accountId: number, filter: LedgerFilter) {
    let query = this.#db.selectFrom("ledger_entries").where("account_id", "=", accountId);
    if (filter.kinds && filter.kinds.length > 0) query = query.where("kind", "in", filter.kinds);
    if (filter.since !== undefined) query = query.where("created_at", ">=", filter.since);
    if (filter.until !== undefined) query = query.where("created_at", "<", filter.until);
    return query;
  }

  /** A page of the account's entries, newest first. */
  async list(
    accountId: number,
    filter: LedgerFilter,
    limit: number,
    offset: number,
  ): Promise<LedgerEntryRow[]> {
    return this.#filtered(accountId, filter)
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async count(accountId: number, filter: LedgerFilter): Promise<number> {
    const row = await this.#filtered(accountId, filter)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The server's charges of the month so far, if any. */
  async serverMonth(serverId: number, month: string): Promise<ServerMonthRow | undefined> {
    return this.#db
      .selectFrom("server_months")
      .selectAll()
      .where("server_id", "=", serverId)
      .where("month", "=", month)
      .executeTakeFirst();
  }

  /** The months of these servers (server id and month each), keyed `server_id month`. */
  async serverMonths(
    keys: readonly { serverId: number; month: string }[],
  ): Promise<Map<string, ServerMonthRow>> {
    if (keys.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom("server_months")
      .selectAll()
      .where("server_id", "in", [...new Set(keys.map((k) => k.serverId))])
      .where("month", "in", [...new Set(keys.map((k) => k.month))])
      .execute();
    return new Map(rows.map((r) => [`${r.server_id} ${r.month}`, r]));
  }

  /** Adds an hour's charges to the server's month; caps only grow (the highest plan of the month). */
  async addToMonth(row: Insertable<ServerMonthsTable>): Promise<void> {
    await this.addToMonths([row]);
  }

  /** `addToMonth` for many servers' months in one statement (each server's month once). */
  async addToMonths(rows: readonly Insertable<ServerMonthsTable>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#db
      .insertInto("server_months")
      .values([...rows])
      .onConflict((oc) =>
        oc.columns(["server_id", "month"]).doUpdateSet({
          cap_minor: sql`case when excluded.cap_minor > server_months.cap_minor then excluded.cap_minor else server_months.cap_minor end`,
          usage_minor: sql`server_months.usage_minor + excluded.usage_minor`,
          hours: sql`server_months.hours + excluded.hours`,
          backup_cap_minor: sql`case when excluded.backup_cap_minor > server_months.backup_cap_minor then excluded.backup_cap_minor else server_months.backup_cap_minor end`,
          backup_minor: sql`server_months.backup_minor + excluded.backup_minor`,
          bandwidth_allowance_bytes: sql`server_months.bandwidth_allowance_bytes + excluded.bandwidth_allowance_bytes`,
          bandwidth_minor: sql`server_months.bandwidth_minor + excluded.bandwidth_minor`,
        }),
      )
      .execute();
  }

  /** The account's servers charged in the month, with their plan now and their last sampled traffic. */
  async monthUsage(accountId: number, month: string): Promise<ServerMonthUsage[]> {
    return this.#db
      .selectFrom("server_months")
      .innerJoin("servers", "servers.id", "server_months.server_id")
      .innerJoin("plans", "plans.id", "servers.plan_id")
      .leftJoin("server_usage", "server_usage.server_id", "server_months.server_id")
      .selectAll("server_months")
      .select([
        "servers.name",
        "servers.plan_id",
        "plans.price_hourly_minor",
        "servers.billed_until",
        "servers.deleted_at",
        "servers.status",
        "servers.backups_enabled",
        "server_usage.period as usage_period",
        "server_usage.bandwidth_bytes",
      ])
      .where("server_months.account_id", "=", accountId)
      .where("server_months.month", "=", month)
      .orderBy("server_months.server_id")
      .execute();
  }

  /** The account's entries recorded in [since, until), summed per server and kind. */
  async lines(accountId: number, since: string, until: string): Promise<LedgerLine[]> {
    const rows = await this.#db
      .selectFrom("ledger_entries")
      .select([
        "server_id",
        "kind",
        (eb) => eb.fn.countAll<number>().as("entries"),
        (eb) => eb.fn.sum<number>("amount_minor").as("amount_minor"),
      ])
      .where("account_id", "=", accountId)
      .where("created_at", ">=", since)
      .where("created_at", "<", until)
      .groupBy(["server_id", "kind"])
      .orderBy("server_id")
      .orderBy("kind")
      .execute();
    return rows.map((r) => ({
      server_id: r.server_id,
      kind: r.kind,
      entries: Number(r.entries),
      amount_minor: Number(r.amount_minor),
    }));
  }

  /**
   * When the ledger first recorded anything but a balance held before it (migration 0025's openings, dated at
   * their account's creation): the first month statements are closed for.
   */
  async firstActivity(): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom("ledger_entries")
      .select((eb) => eb.fn.min("created_at").as("first"))
      .where("kind", "<>", "opening")
      .executeTakeFirst();
    return row?.first ?? undefined;
  }

  /** Accounts that existed before `until` and have no statement of `month` yet. */
  async accountsWithoutStatement(month: string, until: string, limit: number): Promise<AccountRow[]> {
    return this.#db
      .selectFrom("accounts")
      .selectAll()
      .where("created_at", "<", until)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("statements")
              .select(sql`1`.as("one"))
              .whereRef("statements.account_id", "=", "accounts.id")
              .where("statements.month", "=", month),
          ),
        ),
      )
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  /** Stores a closed month unless it is stored already: a statement is written once. */
  async insertStatement(statement: StatementRow): Promise<void> {
    await this.#db
      .insertInto("statements")
      .values(statement)
      .onConflict((oc) => oc.columns(["account_id", "month"]).doNothing())
      .execute();
  }

  async statement(accountId: number, month: string): Promise<StatementRow | undefined> {
    return this.#db
      .selectFrom("statements")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("month", "=", month)
      .executeTakeFirst();
  }

  /** The account's statements, newest month first. */
  async statements(accountId: number, limit: number, offset: number): Promise<StatementRow[]> {
    return this.#db
      .selectFrom("statements")
      .selectAll()
      .where("account_id", "=", accountId)
      .orderBy("month", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async countStatements(accountId: number): Promise<number> {
    const row = await this.#db
      .selectFrom("statements")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("account_id", "=", accountId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Entries of `kinds` recorded in [since, until), summed per plan and the location of their server. */
  async revenue(kinds: readonly LedgerKind[], since: string, until: string): Promise<RevenueRow[]> {
    const rows = await this.#db
      .selectFrom("ledger_entries")
      .leftJoin("servers", "servers.id", "ledger_entries.server_id")
      .leftJoin("locations", "locations.id", "servers.location_id")
      .leftJoin("plans", "plans.id", "ledger_entries.plan_id")
      .select([
        "ledger_entries.plan_id",
        "plans.name as plan_name",
        "locations.code as location",
        (eb) => eb.fn.sum<number>("ledger_entries.amount_minor").as("amount_minor"),
        (eb) => eb.fn.countAll<number>().as("entries"),
      ])
      .where("ledger_entries.kind", "in", kinds)
      .where("ledger_entries.created_at", ">=", since)
      .where("ledger_entries.created_at", "<", until)
      .groupBy(["ledger_entries.plan_id", "plans.name", "locations.code"])
      .orderBy("ledger_entries.plan_id")
      .orderBy("locations.code")
      .execute();
    return rows.map((r) => ({
      plan_id: r.plan_id,
      plan_name: r.plan_name,
      location: r.location,
      amount_minor: Number(r.amount_minor),
      entries: Number(r.entries),
    }));
  }
}
