import type { ColumnDefinitionBuilder, Kysely } from "kysely";
import { dialectName } from "../dialect-name.ts";

// Hypervisor hosts as a resource: each with an inventory per resource (total as the host reports it, reserved
// and an allocation ratio as the operator sets them, allocated as claims add up), a single-use join token,
// its credentials, and one allocation per server placed on it, so that a delete frees exactly what was claimed.
// Ratios are integers in thousandths (4.0 is 4000) so that the fit rule is exact integer arithmetic in SQL.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectName(db) === "postgres";
  const serial = postgres ? "serial" : "integer";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  const zero = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(0);

  await db.schema
    .createTable("hosts")
    .addColumn("id", serial, id)
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("location_id", "integer", (c) => c.notNull().references("locations.id"))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("vcpus_total", "integer", zero)
    .addColumn("memory_mb_total", "bigint", zero)
    .addColumn("disk_gb_total", "bigint", zero)
    .addColumn("vcpus_reserved", "integer", zero)
    .addColumn("memory_mb_reserved", "bigint", zero)
    .addColumn("disk_gb_reserved", "bigint", zero)
    .addColumn("vcpus_ratio_milli", "integer", (c) => c.notNull().defaultTo(4000))
    .addColumn("memory_mb_ratio_milli", "integer", (c) => c.notNull().defaultTo(1000))
    .addColumn("disk_gb_ratio_milli", "integer", (c) => c.notNull().defaultTo(1000))
    .addColumn("vcpus_allocated", "bigint", zero)
    .addColumn("memory_mb_allocated", "bigint", zero)
    .addColumn("disk_gb_allocated", "bigint", zero)
    .addColumn("server_count", "integer", zero)
    .addColumn("last_heartbeat_at", "text")
    .addColumn("agent_version", "text")
    .addColumn("driver", "text")
    // The join token: its digest only, spent once (used_at) before it expires.
    .addColumn("join_token_hash", "text", (c) => c.unique())
    .addColumn("join_token_expires_at", "text")
    .addColumn("join_token_used_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("hosts_location").on("hosts").columns(["location_id", "id"]).execute();

  await db.schema
    .createTable("host_credentials")
    .addColumn("id", serial, id)
    .addColumn("host_id", "integer", (c) => c.notNull().references("hosts.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("revoked_at", "text")
    .execute();
  await db.schema.createIndex("host_credentials_host").on("host_credentials").column("host_id").execute();

  // No cascade from hosts: a host with allocations is not empty and cannot be deleted.
  await db.schema
    .createTable("host_allocations")
    .addColumn("server_id", "integer", (c) => c.primaryKey())
    .addColumn("host_id", "integer", (c) => c.notNull().references("hosts.id"))
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("memory_mb", "bigint", (c) => c.notNull())
    .addColumn("disk_gb", "bigint", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("host_allocations_host").on("host_allocations").column("host_id").execute();
}
