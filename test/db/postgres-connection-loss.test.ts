import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { POSTGRES_SKIP, requirePostgres } from "../support/process-cluster.ts";
import { dropDatabase, freshDatabaseUrl, POSTGRES_SERVER_URL } from "../support/test-database.ts";

describe("PostgreSQL connections lost while idle", { skip: POSTGRES_SKIP }, () => {
  let url: string;
  let database: OpenDatabase;
  const lost: Error[] = [];
  before(async () => {
    requirePostgres();
    url = await freshDatabaseUrl("");
    database = await openDatabase(url, 2, (err) => lost.push(err));
  });
  after(async () => {
    await database?.close();
    if (url) await dropDatabase(url);
  });

  it("are reported, not fatal, and the next query runs on a new connection", async () => {
    await database.db.selectFrom("plans").select("id").execute();
    // What a server restart or an operator's pg_terminate_backend does to the pool's idle connections.
    const admin = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
    await admin.connect();
    try {
      const name = new URL(url).pathname.slice(1);
      const killed = await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        [name],
      );
      assert.ok(killed.rowCount && killed.rowCount > 0, "the pool had a connection open");
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 50 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lost.length > 0, "the loss was reported");
    const plans = await database.db.selectFrom("plans").select("id").execute();
    assert.ok(plans.length > 0);
  });
});
