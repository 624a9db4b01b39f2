import { type Kysely, sql } from "kysely";

// The list filtered by status and location at once (and its exact count) walked every row of one filter and
// looked the other up; with both in one index it reads only the matching rows.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("servers_account_status_location_live")
    .on("servers")
    .columns(["account_id", "status", "location_id", "id"])
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
}
