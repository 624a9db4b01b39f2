import type { Kysely } from "kysely";

// The usage history: each server's samples folded into minutes (kept a day) and rolled up into hours (kept 31
// days), keyed by (server, start of the period in unix seconds) so a repeated write replaces or is ignored. The
// index on `at` lets the roll-up and the pruning read a time range without walking every server's rows.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ["usage_minutes", "usage_hours"]) {
    let create = db.schema
      .createTable(table)
      .addColumn("server_id", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("samples", "integer", (c) => c.notNull())
      .addColumn("cpu_sum", "double precision", (c) => c.notNull())
      .addColumn("memory_sum", "bigint", (c) => c.notNull())
      .addColumn("disk_max", "integer", (c) => c.notNull())
      .addColumn("net_bytes", "bigint", (c) => c.notNull());
    if (table === "usage_minutes") create = create.addColumn("last_sample_ms", "bigint", (c) => c.notNull());
    await create.addPrimaryKeyConstraint(`${table}_pk`, ["server_id", "at"]).execute();
    await db.schema.createIndex(`${table}_at`).on(table).column("at").execute();
  }
}
