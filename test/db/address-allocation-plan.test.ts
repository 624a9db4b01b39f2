import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CompiledQuery, Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { Database } from "../../src/db/schema.ts";
import { POSTGRES_SKIP, requirePostgres } from "../support/process-cluster.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

// A create takes its location's first free address inside its transaction. PostgreSQL walked the whole
// table in id order to find it, past every address of the locations whose pools were added earlier and every
// address taken: a create in a location with a large pool added last read tens of thousands of rows.
describe("an address is allocated through the index of free addresses (PostgreSQL)", {
  skip: POSTGRES_SKIP,
}, () => {
  let url: string;
  let database: OpenDatabase;
  let db: Kysely<Database>;
  const seen: CompiledQuery[] = [];
  before(async () => {
    requirePostgres();
    url = await freshDatabaseUrl("");
    database = await openDatabase(url, 1);
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
      log: (event) => {
        if (event.level === "query") seen.push(event.query);
      },
    });
    // A location whose pool of 20,000 addresses comes after the seeded ones, some of them taken.
    const location = await db
      .insertInto("locations")
      .values({ code: "big", name: "Big", country: "US" })
      .returning("id")
      .executeTakeFirstOrThrow();
    await sql`insert into ip_addresses (location_id, family, address)
      select ${location.id}, 4, '10.0.' || (n / 256) || '.' || (n % 256) from generate_series(0, 19999) n`.execute(
      db,
    );
    await sql`analyze ip_addresses`.execute(db);
  });
  after(async () => {
    await db?.destroy();
    await database?.close();
    if (url) await dropDatabase(url);
  });

  it("reads the free addresses of the location, not the table in id order", async () => {
    const location = await db
      .selectFrom("locations")
      .select("id")
      .where("code", "=", "big")
      .executeTakeFirstOrThrow();
    seen.length = 0;
    const address = await new Repositories(db).addresses.allocate(
      1,
      location.id,
      4,
      new Date().toISOString(),
    );
    assert.equal(address, "10.0.0.0", "the location's first free address");
    const update = seen.find((q) => q.sql.startsWith('update "ip_addresses"'));
    assert.ok(update, "the allocation's statement");
    // The statement prepared with its parameters, and explained with the values it was run with.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`prepare allocation as ${update.sql}`);
      const args = update.parameters.map((p) => client.escapeLiteral(String(p)));
      const plan = (await client.query(`explain execute allocation(${args.join(", ")})`)).rows
        .map((row: { "QUERY PLAN": string }) => row["QUERY PLAN"])
        .join("\n");
      assert.match(
        plan,
        /Index Cond: \(\(location_id = .*\) AND \(family = .*\) AND \(server_id IS NULL\)\)/,
        plan,
      );
      assert.doesNotMatch(plan, /Filter: .*location_id/, plan);
    } finally {
      await client.end();
    }
  });
});
