import { type Kysely, sql } from "kysely";

// Snapshots are billed by the hour like servers: `billed_until` is how far an image is paid (null: from its
// completion), moved on by compare-and-swap so an hour is charged once whatever runs the billing cycle. An image
// deleted (or failed) keeps its row until its bytes are gone from the store: `purged_at` says they are, so a crash
// between the commit and the store's delete leaves a row the sweep finds again. A resize whose host lacks room
// migrates first: the migration records the plan it makes room for, and its end queues the resize.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("images").addColumn("billed_until", "text").execute();
  await db.schema.alterTable("images").addColumn("purged_at", "text").execute();
  await db.schema
    .createIndex("images_unpurged")
    .on("images")
    .column("id")
    .where(sql<boolean>`purged_at is null and (deleted_at is not null or status = 'failed')`)
    .execute();
  await db.schema
    .createIndex("images_snapshots_billed")
    .on("images")
    .columns(["billed_until", "id"])
    .where(sql<boolean>`type = 'snapshot' and status = 'available' and deleted_at is null`)
    .execute();
  await db.schema.alterTable("migrations").addColumn("resize_plan_id", "integer").execute();
}
