import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// Backups and snapshots are images: a copy of a server's disk kept in the image store, owned by the account, and
// outliving the server it was taken from. An image is `creating` while the action that makes it runs, and
// `available` only once its bytes are complete in the store with their size and checksum; a failed one is
// `failed` (its bytes, if any, are swept). The disk is the server's own layer over its OS's base image, so the
// image records the OS (any host with that base image can restore it) and the disk size it needs.
// Operations gain what the new kinds need: the image they make or restore, a target plan (resize) or OS
// (rebuild), and the progress their driver reports. A server with backups on has the time of its next backup.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectName(db) === "postgres";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable("images")
    .addColumn("id", postgres ? "serial" : "integer", id)
    .addColumn("account_id", "integer", (c) => c.notNull())
    .addColumn("server_id", "integer")
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("name", "text")
    .addColumn("os_id", "integer", (c) => c.notNull())
    .addColumn("disk_gb", "integer", (c) => c.notNull())
    .addColumn("size_bytes", "bigint")
    .addColumn("sha256", "text")
    .addColumn("consistency", "text")
    .addColumn("store_key", "text", (c) => c.notNull())
    .addColumn("operation_id", "integer")
    .addColumn("error_code", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("completed_at", "text")
    .addColumn("deleted_at", "text")
    .execute();
  await db.schema
    .createIndex("images_account")
    .on("images")
    .columns(["account_id", "id"])
    .where(sql<boolean>`deleted_at is null`)
    .execute();
  await db.schema
    .createIndex("images_server_type")
    .on("images")
    .columns(["server_id", "type", "id"])
    .where(sql<boolean>`deleted_at is null`)
    .execute();
  await db.schema.alterTable("operations").addColumn("image_id", "integer").execute();
  await db.schema.alterTable("operations").addColumn("plan_id", "integer").execute();
  await db.schema.alterTable("operations").addColumn("os_id", "integer").execute();
  await db.schema.alterTable("operations").addColumn("progress", "integer").execute();
  await db.schema.alterTable("servers").addColumn("backup_next_at", "text").execute();
  await db.schema
    .createIndex("servers_backup_due")
    .on("servers")
    .column("backup_next_at")
    .where(sql<boolean>`backup_next_at is not null`)
    .execute();
}
