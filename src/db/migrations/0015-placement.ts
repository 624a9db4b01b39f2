import type { Kysely } from "kysely";

// Every server lives on one host, chosen by placement when it is created. Null only for servers made before
// this migration, until their location's embedded host adopts them. No foreign key: a deleted server's row
// keeps naming the host it was on, and that must not keep the emptied host from being deleted.
// A host's images are what it reported (a JSON array of file names); null means every image.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("servers").addColumn("host_id", "integer").execute();
  await db.schema.createIndex("servers_host").on("servers").column("host_id").execute();
  await db.schema.alterTable("hosts").addColumn("images", "text").execute();
}
