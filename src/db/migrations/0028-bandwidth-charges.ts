import type { Kysely } from "kysely";

// Bandwidth beyond the allowance is charged with each hour. A server's month keeps the allowance its charged
// hours have accrued (bytes: each hour its plan's monthly bandwidth / 672, so a resize counts each plan for its
// hours) and what the month was charged for bandwidth so far, from which each hour's charge is the growth.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ["bandwidth_allowance_bytes", "bandwidth_minor"]) {
    await db.schema
      .alterTable("server_months")
      .addColumn(column, "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
  }
}
