import type { Kysely } from "kysely";

// A create that fails for good gives back what its server was charged. Each refund is a row of its own, keyed
// by the operation that failed, so an operation is refunded once however often its end is committed.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("refunds")
    .addColumn("operation_id", "integer", (c) => c.primaryKey())
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("server_id", "integer", (c) => c.notNull())
    .addColumn("amount_minor", "bigint", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("refunds_account")
    .on("refunds")
    .columns(["account_id", "created_at"])
    .execute();
}
