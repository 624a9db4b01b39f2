import type { Kysely } from "kysely";

// Failed authentications per client address and fixed window, so that a guesser is refused by every process.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("auth_failures")
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("window_start", "text", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("auth_failures_pk", ["address", "window_start"])
    .execute();
  await db.schema.createIndex("auth_failures_window").on("auth_failures").column("window_start").execute();
}
