import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { SettlementQueue } from "../../src/engine/settlement-queue.ts";
import { suiteDatabase } from "../support/test-database.ts";

/** The real repositories, counting the transactions they open. */
class CountedRepositories extends Repositories {
  transactions = 0;
  override transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    this.transactions++;
    return super.transaction(work);
  }
}

describe("committing the ends of operations", () => {
  const suite = suiteDatabase();
  let repos: CountedRepositories;
  before(() => {
    repos = new CountedRepositories(suite.database.db);
  });

  /** An end that writes a setting, standing for an operation's writes. */
  const write = (key: string) => async (tx: Repositories) => {
    await tx.settings.set(key, "written");
    return true;
  };
  const stored = (key: string) => repos.settings.get(key);

  it("commits the ends that arrive during a commit together, each with its own outcome", async () => {
    const queue = new SettlementQueue(repos, true);
    const before = repos.transactions;
    const outcomes = await Promise.all([
      queue.settle(write("a1")),
      queue.settle(write("a2")),
      queue.settle(async () => false), // a lost lease: writes nothing
      queue.settle(write("a3")),
    ]);
    assert.deepEqual(outcomes, [true, true, false, true]);
    assert.equal(repos.transactions - before, 2, "the first alone, the three that waited for it together");
    for (const key of ["a1", "a2", "a3"]) assert.equal(await stored(key), "written");
  });

  it("keeps the others' writes when one end fails, and reports that one's error", async () => {
    const queue = new SettlementQueue(repos, true);
    const results = await Promise.allSettled([
      queue.settle(write("b1")),
      queue.settle(write("b2")),
      queue.settle(async (tx) => {
        await tx.settings.set("b-broken", "half");
        throw new Error("step failed");
      }),
      queue.settle(write("b3")),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    for (const key of ["b1", "b2", "b3"]) assert.equal(await stored(key), "written");
    assert.equal(await stored("b-broken"), undefined, "the failed end wrote nothing");
  });

  it("commits each end alone when not grouping", async () => {
    const queue = new SettlementQueue(repos, false);
    const before = repos.transactions;
    await Promise.all([queue.settle(write("c1")), queue.settle(write("c2")), queue.settle(write("c3"))]);
    assert.equal(repos.transactions - before, 3);
  });
});
