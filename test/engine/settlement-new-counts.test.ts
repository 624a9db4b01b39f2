import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { OperationRow } from "../../src/db/schema.ts";
import { plainEndOf, writeSettlement } from "../../src/engine/operation-settlement.ts";
import { SettlementQueue } from "../../src/engine/settlement-queue.ts";
import { assertCountsMatchServers } from "../support/counts-match-servers.ts";
import { hostAndAccount } from "../support/host-and-account.ts";
import { POSTGRES_SKIP, requirePostgres } from "../support/process-cluster.ts";
import { serverValues } from "../support/server-values.ts";
import { suiteDatabase } from "../support/test-database.ts";
import { WatchedRepositories } from "../support/watched-repositories.ts";

// An account's first stops end together: the count row of (account, `stopped`, location) is not there yet, and
// the first ends to reach it insert it. A group of ends in one process and ends committed alone in another must
// not wait on each other in a cycle over that insert.
describe("ends that make a status's count row", { skip: POSTGRES_SKIP }, () => {
  const suite = suiteDatabase();
  let second: OpenDatabase;
  let setup: Repositories;
  let grouped: WatchedRepositories;
  let alone: WatchedRepositories;
  let hostId: number;

  before(async () => {
    requirePostgres();
    second = await openDatabase(suite.database.url);
    setup = new Repositories(suite.database.db);
    grouped = new WatchedRepositories(suite.database.db);
    alone = new WatchedRepositories(second.db);
    ({ hostId } = await hostAndAccount(setup, "sim-new-counts", "new-counts@example.com"));
  });
  after(() => second?.close());

  /** A new account's running servers in location 1, each being stopped: its operation queued and claimed. */
  async function stopsOfNewAccount(count: number): Promise<OperationRow[]> {
    const now = new Date().toISOString();
    const { id: accountId } = await setup.db
      .insertInto("accounts")
      .values({
        email: "first-stops@example.com",
        balance_minor: 0,
        currency: "USD",
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (let n = 0; n < count; n++) {
      const id = await setup.servers.insert(
        serverValues({
          account_id: accountId,
          name: `first-stop-${n}`,
          status: "active",
          created_at: now,
          host_id: hostId,
        }),
      );
      await setup.transaction(async (tx) => {
        assert.ok(await tx.servers.swapStatus(id, "active", "stopping", now));
        await tx.operations.insert({ serverId: id, accountId, kind: "stop", maxAttempts: 5, now });
      });
    }
    const leaseUntil = new Date(Date.now() + 60_000).toISOString();
    return setup.operations.claim("worker", [hostId], now, leaseUntil, count);
  }

  /** The end of a stop as the worker's link hands it to its queue: its swap deferred, a plain end. */
  function stopEnd(queue: SettlementQueue, op: OperationRow): Promise<boolean> {
    const now = new Date().toISOString();
    const ended = { id: op.id, serverId: op.server_id, owner: op.lease_owner ?? "", attempt: op.attempts };
    const settlement = { status: "succeeded" } as const;
    return queue.settle((tx) => writeSettlement(tx, ended, settlement, now), {
      serverId: op.server_id,
      swap: { from: "stopping", to: "stopped", now },
      plain: plainEndOf(ended, settlement, now),
    });
  }

  it("never deadlock, and count every stopped server", async () => {
    const [first, second, third, fourth] = (await stopsOfNewAccount(4)) as [
      OperationRow,
      OperationRow,
      OperationRow,
      OperationRow,
    ];
    const queue = new SettlementQueue(grouped, true, 64, 1);
    const gate = () => {
      let open = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      return { open, opened };
    };
    // A lone end under way, so that the next ones wait for it and commit as one group.
    const lone = gate();
    const ends = [queue.settle(() => lone.opened.then(() => true))];
    // A group that takes the account's count rows first (one of its ends writes the account, as a refund does),
    // then holds them in its writes while the other process's end comes.
    const held = gate();
    const holding = gate();
    ends.push(
      queue.settle(
        async (tx) => {
          holding.open();
          await held.opened;
          return writeSettlement(
            tx,
            { id: first.id, serverId: first.server_id, owner: "worker", attempt: first.attempts },
            { status: "succeeded", swap: { from: "stopping", to: "stopped" } },
            new Date().toISOString(),
          );
        },
        { serverId: first.server_id, account: true },
      ),
      stopEnd(queue, second),
    );
    lone.open();
    await holding.opened;
    // The other process's end, alone: its swap makes the `stopped` row and then waits for the `stopping` one.
    const theirs = stopEnd(new SettlementQueue(alone, false), third);
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.open();
    const written = await Promise.all([...ends, theirs, stopEnd(queue, fourth)]);
    assert.ok(written.every(Boolean), "every end written");
    assert.deepEqual([...grouped.failures, ...alone.failures], [], "no transaction failed");

    await assertCountsMatchServers(setup.db);
  });
});
