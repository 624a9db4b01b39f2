import type { Kysely } from "kysely";

// Traffic is counted in each direction (billing charges the larger of the two). A server's month keeps its bytes
// in and out beside `bandwidth_bytes`, which from now on is the larger of them (never less than what it held); the
// last counters are null until the next sample, which then only sets them, so a machine's traffic before the
// upgrade is not counted again. The usage history's minutes and hours get the bytes of each direction (0 before).
// The sim driver's machines keep a counter per direction.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("server_usage")
    .addColumn("bandwidth_in_bytes", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("server_usage")
    .addColumn("bandwidth_out_bytes", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("server_usage").addColumn("last_net_in_bytes", "bigint").execute();
  await db.schema.alterTable("server_usage").addColumn("last_net_out_bytes", "bigint").execute();
  for (const table of ["usage_minutes", "usage_hours"]) {
    for (const column of ["net_in_bytes", "net_out_bytes"]) {
      await db.schema
        .alterTable(table)
        .addColumn(column, "bigint", (c) => c.notNull().defaultTo(0))
        .execute();
    }
  }
  for (const column of ["net_in_before", "net_out_before"]) {
    await db.schema
      .alterTable("sim_machines")
      .addColumn(column, "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
  }
}
