import { type Kysely, sql } from "kysely";

// The worker asks, whenever it has nothing to run, when the next lease runs out; without an index over
// running operations that question read every unfinished operation (2 ms with 10,000 queued). And a claim
// checks each candidate for an older unfinished operation of its server: over all of the server's operations
// that check grew with the server's history; over its unfinished ones it reads one or two entries.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("operations_running_leases")
    .on("operations")
    .column("lease_expires_at")
    .where(sql<boolean>`status = 'running'`)
    .execute();
  await db.schema
    .createIndex("operations_unfinished_server")
    .on("operations")
    .columns(["server_id", "id"])
    .where(sql<boolean>`status in ('pending', 'running')`)
    .execute();
}
