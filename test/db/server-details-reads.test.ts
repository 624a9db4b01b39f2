import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { insertServers } from "../support/insert-servers.ts";
import { suiteDatabase } from "../support/test-database.ts";

// Details asked for at the same moment are one statement on PostgreSQL: every read must still get its own answer.
describe("server details read at once", () => {
  const suite = suiteDatabase();
  let repos: Repositories;
  const accounts: number[] = [];
  let servers: { id: number; account_id: number }[];
  let deleted: { id: number; account_id: number };

  before(async () => {
    const { db } = suite.database;
    repos = new Repositories(db);
    for (const email of ["a@example.com", "b@example.com", "c@example.com"]) {
      const row = await db
        .insertInto("accounts")
        .values({ email, balance_minor: 0, currency: "USD", created_at: "now", updated_at: "now" })
        .returning("id")
        .executeTakeFirstOrThrow();
      accounts.push(row.id);
    }
    const inserted = await insertServers(db, 30, (n) => accounts[n % accounts.length] ?? 0, "read");
    const last = inserted.pop();
    assert.ok(last);
    deleted = last;
    await db.updateTable("servers").set({ deleted_at: "now" }).where("id", "=", deleted.id).execute();
    servers = inserted;
  });

  it("answers each account with its own server, and nothing for another's, a deleted or a missing one", async () => {
    const other = (accountId: number) => accounts[(accounts.indexOf(accountId) + 1) % accounts.length] ?? 0;
    // More reads than one statement takes, each server asked for twice, all in the same turn.
    const reads = [
      ...servers.flatMap((s) => [
        { accountId: s.account_id, id: s.id, owned: true },
        { accountId: other(s.account_id), id: s.id, owned: false },
        { accountId: s.account_id, id: s.id, owned: true },
      ]),
      { accountId: deleted.account_id, id: deleted.id, owned: false },
      { accountId: accounts[0] ?? 0, id: 987_654, owned: false },
      { accountId: accounts[0] ?? 0, id: 2 ** 31, owned: false },
      { accountId: 2 ** 40, id: servers[0]?.id ?? 0, owned: false },
    ];
    const answers = await Promise.all(reads.map((r) => repos.servers.findDetails(r.accountId, r.id)));
    for (const [i, read] of reads.entries()) {
      const answer = answers[i];
      const what = `account ${read.accountId}, server ${read.id}`;
      if (!read.owned) {
        assert.equal(answer, undefined, what);
        continue;
      }
      assert.equal(answer?.id, read.id, what);
      assert.equal(answer?.account_id, read.accountId, what);
      assert.equal(answer?.name, `read-${servers.findIndex((s) => s.id === read.id)}`, what);
    }
  });

  it("reads a change committed before the read was asked for", async () => {
    const [first, second] = servers;
    assert.ok(first && second);
    await suite.database.db
      .updateTable("servers")
      .set({ status: "stopping" })
      .where("id", "=", first.id)
      .execute();
    const [one, two] = await Promise.all([
      repos.servers.findDetails(first.account_id, first.id),
      repos.servers.findDetails(second.account_id, second.id),
    ]);
    assert.equal(one?.status, "stopping");
    assert.equal(two?.id, second.id);
  });
});
