import type { Kysely } from "kysely";

// An account's own low-balance threshold, in minor units: a charge that takes its balance below it sends webhooks'
// `balance.low`, and the console warns below it. Null: the operator's default (VPS_LOW_BALANCE_THRESHOLD), so
// every account made before keeps the threshold it had.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("accounts").addColumn("low_balance_threshold_minor", "bigint").execute();
}
