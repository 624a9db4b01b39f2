import { type Kysely, sql } from "kysely";

// Operators of the web console are accounts with a role: when the admin API made the account one (null: a
// customer). And the console's list of failed actions across accounts, newest first, reads an index of the failed
// operations alone, as long as the failures and not as the history.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("accounts").addColumn("operator_since", "text").execute();
  await db.schema
    .createIndex("operations_failed")
    .on("operations")
    .columns(["finished_at", "id"])
    .where(sql<boolean>`status = 'failed'`)
    .execute();
}
