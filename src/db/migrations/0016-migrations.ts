import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// Cold migration moves a server's disk from one host to another. An operation may now run on a host other
// than its server's (`operations.host_id`; null: its server's host, as every operation before): the copy in
// on the target, and the clean-up of the copy left on the source. A migration records the move: where from
// and to, the room it claimed on the target (freed unless the move succeeds), whether the machine ran, the
// disk's size and checksum, and the digest of the single-use transfer token of its current attempt. At most
// one migration of a server runs at a time. A host reports where its agent serves disks (`transfer_url`). The
// sim driver's machines get a disk: a small blob, so a copy and its checksum mean something.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectName(db) === "postgres";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema.alterTable("operations").addColumn("host_id", "integer").execute();
  await db.schema.alterTable("hosts").addColumn("transfer_url", "text").execute();
  await db.schema.alterTable("sim_machines").addColumn("disk", "text").execute();
  await db.schema
    .createTable("migrations")
    .addColumn("id", postgres ? "serial" : "integer", id)
    .addColumn("server_id", "integer", (c) => c.notNull())
    .addColumn("source_host_id", "integer", (c) => c.notNull())
    .addColumn("target_host_id", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("prior_status", "text", (c) => c.notNull())
    .addColumn("was_running", "integer", (c) => c.notNull())
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("memory_mb", "bigint", (c) => c.notNull())
    .addColumn("disk_gb", "bigint", (c) => c.notNull())
    .addColumn("disk_bytes", "bigint")
    .addColumn("checksum", "text")
    .addColumn("transfer_token_hash", "text")
    .addColumn("transfer_token_used_at", "text")
    .addColumn("error_code", "text")
    .addColumn("error_message", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .execute();
  await db.schema
    .createIndex("migrations_one_running")
    .on("migrations")
    .column("server_id")
    .unique()
    .where(sql<boolean>`state = 'running'`)
    .execute();
  await db.schema.createIndex("migrations_server").on("migrations").columns(["server_id", "id"]).execute();
}
