import type { ColumnDefinitionBuilder, Kysely } from "kysely";
import { blocksHolding } from "../../domain/ip-range.ts";
import { dialectName } from "../dialect-name.ts";

// The CIDR blocks the pools were added as, beside their addresses: a webhook may reach no address of the provider's
// own ranges, assigned or not (network and broadcast addresses too). Pools added before this file kept only their
// addresses: each run of consecutive ones is recorded as the smallest block that holds it.
// A delivery asked for again is a new delivery of the same message: `redelivery_of` names the first delivery of
// it, whose id (webhook-id) and time (the payload's timestamp) it is sent with.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectName(db) === "postgres";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable("address_blocks")
    .addColumn("id", postgres ? "serial" : "integer", id)
    .addColumn("location_id", "integer", (c) => c.notNull())
    .addColumn("family", "integer", (c) => c.notNull())
    .addColumn("cidr", "text", (c) => c.notNull().unique())
    .execute();
  await db.schema.alterTable("webhook_deliveries").addColumn("redelivery_of", "integer").execute();
  await db.schema.alterTable("webhook_deliveries").addColumn("message_created_at", "text").execute();
  const pools = await db.selectFrom("ip_addresses").select(["location_id", "family"]).distinct().execute();
  for (const pool of pools) {
    const rows = await db
      .selectFrom("ip_addresses")
      .select("address")
      .where("location_id", "=", pool.location_id)
      .where("family", "=", pool.family)
      .execute();
    const family = Number(pool.family) === 6 ? 6 : 4;
    const blocks = blocksHolding(
      family,
      rows.map((r) => String(r.address)),
    );
    for (let i = 0; i < blocks.length; i += 500) {
      await db
        .insertInto("address_blocks")
        .values(blocks.slice(i, i + 500).map((cidr) => ({ location_id: pool.location_id, family, cidr })))
        .onConflict((oc) => oc.column("cidr").doNothing())
        .execute();
    }
  }
}
