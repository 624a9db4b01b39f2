import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { up } from "../../src/db/migrations/0030-webhook-reach-and-redelivery.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { suiteDatabase } from "../support/test-database.ts";

describe("migration 0030: the pools' blocks", () => {
  const suite = suiteDatabase();

  it("records the blocks that hold the pools added before it, from their addresses", async () => {
    const { db } = suite.database;
    // The database as it was before 0030: the catalogue's pools (x.10 to x.250 of each /24), and a /29 added later.
    await sql`drop table address_blocks`.execute(db);
    for (const column of ["redelivery_of", "message_created_at"])
      await sql`alter table webhook_deliveries drop column ${sql.ref(column)}`.execute(db);
    for (const n of [1, 2, 3, 4, 5, 6])
      await sql`insert into ip_addresses (location_id, family, address) values (2, 4, ${`45.77.10.${n}`})`.execute(
        db,
      );

    await up(db);

    const blocks = await new Repositories(db).addresses.blocks();
    assert.deepEqual(blocks.sort(), [
      "192.0.2.0/24",
      "198.51.100.0/24",
      "2001:db8:1::/120",
      "2001:db8:2::/120",
      "2001:db8:3::/120",
      "203.0.113.0/24",
      "45.77.10.0/29",
    ]);
  });
});
