import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // SQLite: integer primary key autoincrement; PostgreSQL: serial primary key.
  const postgres = dialectName(db) === "postgres";
  const serial = postgres ? "serial" : "integer";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable("accounts")
    .addColumn("id", serial, id)
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("balance_minor", "bigint", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_tokens")
    .addColumn("id", serial, id)
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("revoked_at", "text")
    .execute();
  await db.schema.createIndex("api_tokens_account").on("api_tokens").column("account_id").execute();

  await db.schema
    .createTable("settings")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("locations")
    .addColumn("id", serial, id)
    .addColumn("code", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("country", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("plans")
    .addColumn("id", serial, id)
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("memory_mb", "integer", (c) => c.notNull())
    .addColumn("storage_gb", "integer", (c) => c.notNull())
    .addColumn("bandwidth_gb", "integer", (c) => c.notNull())
    .addColumn("price_hourly_minor", "integer", (c) => c.notNull())
    .addColumn("price_monthly_minor", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("plan_locations")
    .addColumn("plan_id", "integer", (c) => c.notNull().references("plans.id").onDelete("cascade"))
    .addColumn("location_id", "integer", (c) => c.notNull().references("locations.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("plan_locations_pk", ["plan_id", "location_id"])
    .execute();

  await db.schema
    .createTable("operating_systems")
    .addColumn("id", serial, id)
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("distribution", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("image", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("ssh_keys")
    .addColumn("id", serial, id)
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("key_type", "text", (c) => c.notNull())
    .addColumn("bits", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("ssh_keys_account_fingerprint", ["account_id", "fingerprint"])
    .execute();

  await db.schema
    .createTable("servers")
    .addColumn("id", serial, id)
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("hostname", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("plan_id", "integer", (c) => c.notNull().references("plans.id"))
    .addColumn("os_id", "integer", (c) => c.notNull().references("operating_systems.id"))
    .addColumn("location_id", "integer", (c) => c.notNull().references("locations.id"))
    .addColumn("ssh_key_id", "integer")
    .addColumn("ssh_public_key", "text")
    .addColumn("backups_enabled", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("deleted_at", "text")
    .execute();
  // The list pages by id within an account, optionally filtered by status or location; deleted rows are kept
  // for the background destroy and for audit, so every hot index covers live rows only.
  await db.schema
    .createIndex("servers_account_live")
    .on("servers")
    .columns(["account_id", "id"])
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
  await db.schema
    .createIndex("servers_account_status_live")
    .on("servers")
    .columns(["account_id", "status", "id"])
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
  await db.schema
    .createIndex("servers_account_location_live")
    .on("servers")
    .columns(["account_id", "location_id", "id"])
    .where(sql.ref("deleted_at"), "is", null)
    .execute();

  // Server ids start at 12345, the id the original documentation's samples use.
  if (dialectName(db) === "postgres") {
    await sql`alter sequence servers_id_seq restart with 12345`.execute(db);
  } else {
    await sql`insert into sqlite_sequence (name, seq) values ('servers', 12344)`.execute(db);
  }

  await db.schema
    .createTable("ip_addresses")
    .addColumn("id", serial, id)
    .addColumn("location_id", "integer", (c) => c.notNull().references("locations.id"))
    .addColumn("family", "integer", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull().unique())
    .addColumn("server_id", "integer")
    .addColumn("assigned_at", "text")
    .execute();
  await db.schema
    .createIndex("ip_addresses_free")
    .on("ip_addresses")
    .columns(["location_id", "family", "server_id", "id"])
    .execute();
  await db.schema.createIndex("ip_addresses_server").on("ip_addresses").column("server_id").execute();

  await db.schema
    .createTable("operations")
    .addColumn("id", serial, id)
    .addColumn("server_id", "integer", (c) => c.notNull())
    .addColumn("account_id", "integer", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_after", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("error_code", "text")
    .addColumn("error_message", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .execute();
  await db.schema
    .createIndex("operations_unfinished")
    .on("operations")
    .columns(["run_after", "id"])
    .where(sql<boolean>`status in ('pending', 'running')`)
    .execute();
  await db.schema.createIndex("operations_server").on("operations").columns(["server_id", "id"]).execute();

  await db.schema
    .createTable("server_usage")
    .addColumn("server_id", "integer", (c) => c.primaryKey())
    .addColumn("cpu_percent", "real", (c) => c.notNull())
    .addColumn("memory_used", "integer", (c) => c.notNull())
    .addColumn("disk_used", "integer", (c) => c.notNull())
    .addColumn("period", "text", (c) => c.notNull())
    .addColumn("bandwidth_bytes", "bigint", (c) => c.notNull())
    .addColumn("last_cpu_ns", "bigint", (c) => c.notNull())
    .addColumn("last_net_bytes", "bigint", (c) => c.notNull())
    .addColumn("sampled_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("sim_machines")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("power", "text", (c) => c.notNull())
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("memory_mb", "integer", (c) => c.notNull())
    .addColumn("storage_gb", "integer", (c) => c.notNull())
    .addColumn("boot_count", "integer", (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("cpu_ns_before", "bigint", (c) => c.notNull())
    .addColumn("net_bytes_before", "bigint", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}
