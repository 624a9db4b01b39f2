import type { Kysely } from "kysely";

// Request counts per token, budget (reads or writes) and fixed window: one atomic upsert per request keeps
// the count right however many processes serve the token.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("rate_limits")
    .addColumn("token_id", "integer", (c) => c.notNull())
    .addColumn("budget", "text", (c) => c.notNull())
    .addColumn("window_start", "text", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("rate_limits_pk", ["token_id", "budget", "window_start"])
    .execute();
  await db.schema.createIndex("rate_limits_window").on("rate_limits").column("window_start").execute();
}
