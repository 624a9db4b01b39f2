import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { PreparedQueries } from "../../src/db/prepared-queries.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

describe("queries compiled once and run with new values", () => {
  let dir: string;
  let url: string;
  let database: OpenDatabase;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-prepared-"));
    url = await freshDatabaseUrl(dir);
    database = await openDatabase(url);
  });
  after(async () => {
    await database.close();
    await dropDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  });

  it("binds each call's values and keeps the constants the query was built with", async () => {
    const prepared = new PreparedQueries();
    let builds = 0;
    const plansOver = (minimumVcpus: number) =>
      prepared.all(
        database.db,
        "plans.over",
        (p) => {
          builds++;
          return database.db
            .selectFrom("plans")
            .select("id")
            .where("vcpus", ">=", p<number>("minimumVcpus"))
            .where("id", ">", 0)
            .orderBy("id");
        },
        { minimumVcpus },
      );
    const all = await database.db.selectFrom("plans").select(["id", "vcpus"]).orderBy("id").execute();
    for (const minimum of [1, 4, 1000]) {
      const expected = all.filter((plan) => plan.vcpus >= minimum).map((plan) => plan.id);
      assert.deepEqual(
        (await plansOver(minimum)).map((row) => row.id),
        expected,
      );
    }
    assert.equal(builds, 1, "the query is built and compiled on its first run only");
  });

  it("runs statements inside a transaction and reports the rows they changed", async () => {
    const prepared = new PreparedQueries();
    const rename = (id: number, name: string) =>
      database.db.transaction().execute((tx) =>
        prepared.run(
          tx,
          "plans.rename",
          (p) =>
            tx
              .updateTable("plans")
              .set({ name: p<string>("name") })
              .where("id", "=", p<number>("id")),
          { id, name },
        ),
      );
    assert.equal(await rename(1, "renamed"), 1);
    assert.equal(await rename(999_999, "none"), 0);
    const plan = await database.db.selectFrom("plans").select("name").where("id", "=", 1).executeTakeFirst();
    assert.equal(plan?.name, "renamed");
  });

  it("refuses to run without a value for every named parameter", async () => {
    const prepared = new PreparedQueries();
    await assert.rejects(
      prepared.all(
        database.db,
        "plans.byId",
        (p) => database.db.selectFrom("plans").select("id").where("id", "=", p<number>("id")),
        {},
      ),
      /no value for id/,
    );
  });
});
