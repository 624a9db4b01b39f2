import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PreparedQueries } from "../../src/db/prepared-queries.ts";
import { suiteDatabase } from "../support/test-database.ts";

describe("queries compiled once and run with new values", () => {
  const suite = suiteDatabase();

  it("binds each call's values and keeps the constants the query was built with", async () => {
    const prepared = new PreparedQueries();
    let builds = 0;
    const plansOver = (minimumVcpus: number) =>
      prepared.all(
        suite.database.db,
        "plans.over",
        (p) => {
          builds++;
          return suite.database.db
            .selectFrom("plans")
            .select("id")
            .where("vcpus", ">=", p<number>("minimumVcpus"))
            .where("id", ">", 0)
            .orderBy("id");
        },
        { minimumVcpus },
      );
    const all = await suite.database.db.selectFrom("plans").select(["id", "vcpus"]).orderBy("id").execute();
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
      suite.database.db.transaction().execute((tx) =>
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
    const plan = await suite.database.db
      .selectFrom("plans")
      .select("name")
      .where("id", "=", 1)
      .executeTakeFirst();
    assert.equal(plan?.name, "renamed");
  });

  it("refuses to run without a value for every named parameter", async () => {
    const prepared = new PreparedQueries();
    await assert.rejects(
      prepared.all(
        suite.database.db,
        "plans.byId",
        (p) => suite.database.db.selectFrom("plans").select("id").where("id", "=", p<number>("id")),
        {},
      ),
      /no value for id/,
    );
  });

  it("a query run while another caller's transaction is open never reads what that transaction wrote", async () => {
    const prepared = new PreparedQueries();
    const { db } = suite.database;
    const planName = () =>
      prepared.first(
        db,
        "plans.nameById",
        (p) => db.selectFrom("plans").select("name").where("id", "=", p<number>("id")),
        { id: 2 },
      );
    const before = await planName();
    let during: ReturnType<typeof planName> | undefined;
    await assert.rejects(
      db.transaction().execute(async (tx) => {
        await tx.updateTable("plans").set({ name: "never committed" }).where("id", "=", 2).execute();
        during = planName();
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error("rolled back");
      }),
      /rolled back/,
    );
    assert.deepEqual(await during, before);
    assert.deepEqual(await planName(), before);
  });
});
