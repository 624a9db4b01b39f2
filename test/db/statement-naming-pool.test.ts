import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { POSTGRES_SKIP, requirePostgres } from "../support/process-cluster.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

describe("PostgreSQL statements prepared once per connection", { skip: POSTGRES_SKIP }, () => {
  let url: string;
  let database: OpenDatabase;
  before(async () => {
    requirePostgres();
    url = await freshDatabaseUrl("");
    database = await openDatabase(url, 1);
  });
  after(async () => {
    await database?.close();
    if (url) await dropDatabase(url);
  });

  it("names each query text once and binds new values to it", async () => {
    await database.db.transaction().execute(async (tx) => {
      for (const id of [1, 2, 3, 1]) {
        const plan = await tx.selectFrom("plans").select("id").where("id", "=", id).executeTakeFirst();
        assert.equal(plan?.id, id);
      }
      const prepared = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements`.execute(tx);
      const lookups = prepared.rows.filter((row) => row.statement.startsWith('select "id" from "plans"'));
      assert.equal(lookups.length, 1, "one prepared statement for the four lookups");
      assert.ok(
        !prepared.rows.some((row) => /create table|alter table/i.test(row.statement)),
        "nothing from the migrations is kept prepared",
      );
    });
  });
});
