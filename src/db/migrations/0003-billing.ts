import type { Kysely } from "kysely";

// Hourly billing: each live server is paid up to `billed_until`; the billing cycle charges the next hour when
// that moment passes. Servers created before this migration start their first hour now.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("servers").addColumn("billed_until", "text").execute();
  await db
    .updateTable("servers")
    .set({ billed_until: new Date().toISOString() })
    .where("deleted_at", "is", null)
    .execute();
  await db.schema.createIndex("servers_billing_due").on("servers").columns(["billed_until", "id"]).execute();
}
