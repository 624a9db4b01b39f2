import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// The ledger: every change of a balance is an entry, never edited, with a unique key naming what it pays for
// (`usage:{server}:{hour}`), so an hour is charged once whichever process writes it and however often; the
// account's balance_minor is the cached sum of its entries. Balances held before the ledger become one `opening`
// entry each. `server_months` keeps each server's charges of a calendar month (UTC) beside the entries, written in
// the same transaction, so the monthly cap costs one row read per charged hour instead of a sum over the month.
// `statements` are the closed months, stored once and never rewritten.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectName(db) === "postgres";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable("ledger_entries")
    .addColumn("id", postgres ? "bigserial" : "integer", id)
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("amount_minor", "bigint", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull().unique())
    .addColumn("server_id", "integer")
    .addColumn("image_id", "integer")
    .addColumn("plan_id", "integer")
    .addColumn("period_start", "text")
    .addColumn("period_end", "text")
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("ledger_entries_account")
    .on("ledger_entries")
    .columns(["account_id", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("ledger_entries_server")
    .on("ledger_entries")
    .columns(["server_id", "period_start"])
    .where(sql<boolean>`server_id is not null`)
    .execute();
  await db.schema
    .createIndex("ledger_entries_created")
    .on("ledger_entries")
    .columns(["created_at", "kind"])
    .execute();

  await db.schema
    .createTable("server_months")
    .addColumn("server_id", "integer", (c) => c.notNull())
    .addColumn("month", "text", (c) => c.notNull())
    .addColumn("account_id", "integer", (c) => c.notNull())
    .addColumn("cap_minor", "bigint", (c) => c.notNull())
    .addColumn("usage_minor", "bigint", (c) => c.notNull())
    .addColumn("hours", "integer", (c) => c.notNull())
    .addColumn("backup_cap_minor", "bigint", (c) => c.notNull())
    .addColumn("backup_minor", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("server_months_pk", ["server_id", "month"])
    .execute();
  await db.schema
    .createIndex("server_months_account")
    .on("server_months")
    .columns(["account_id", "month"])
    .execute();

  await db.schema
    .createTable("statements")
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("month", "text", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("opening_minor", "bigint", (c) => c.notNull())
    .addColumn("total_minor", "bigint", (c) => c.notNull())
    .addColumn("closing_minor", "bigint", (c) => c.notNull())
    .addColumn("lines", "text", (c) => c.notNull())
    .addColumn("closed_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("statements_pk", ["account_id", "month"])
    .execute();

  await sql`
    insert into ledger_entries (account_id, kind, amount_minor, currency, key, description, created_at)
    select id, 'opening', balance_minor, currency, 'opening:' || id, 'Balance before the ledger', created_at
    from accounts where balance_minor <> 0`.execute(db);
}
