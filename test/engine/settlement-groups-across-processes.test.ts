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
import { SeededRandom, testSeed } from "../support/seeded-random.ts";
import { serverValues } from "../support/server-values.ts";
import { suiteDatabase } from "../support/test-database.ts";
import { WatchedRepositories } from "../support/watched-repositories.ts";

const SERVERS = 24;
const ROUNDS = 15;

// PostgreSQL's row locks: on SQLite one writer commits at a time, and two pools in one process would block each other.
describe("grouped settlements of two processes on one database", { skip: POSTGRES_SKIP }, () => {
  const suite = suiteDatabase();
  let second: OpenDatabase;
  let setup: Repositories;
  let processA: WatchedRepositories;
  let processB: WatchedRepositories;
  let hostId: number;
  const servers: { id: number; accountId: number }[] = [];

  before(async () => {
    requirePostgres();
    second = await openDatabase(suite.database.url);
    setup = new Repositories(suite.database.db);
    processA = new WatchedRepositories(suite.database.db);
    processB = new WatchedRepositories(second.db);
    const first = await hostAndAccount(setup, "sim-settle", "settle-a@example.com");
    hostId = first.hostId;
    const { id: otherAccount } = await setup.db
      .insertInto("accounts")
      .values({
        email: "settle-b@example.com",
        balance_minor: 0,
        currency: "USD",
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    // Two accounts over two locations, half running and half stopped: every group's ends share count rows.
    for (let n = 0; n < SERVERS; n++) {
      const accountId = n % 4 < 2 ? first.accountId : otherAccount;
      const id = await setup.servers.insert(
        serverValues({
          account_id: accountId,
          name: `settle-${n}`,
          status: n % 2 === 0 ? "active" : "stopped",
          location_id: (n % 3 === 0 ? 1 : 2) as number,
          created_at: now,
          host_id: hostId,
        }),
      );
      servers.push({ id, accountId });
    }
  });
  after(() => second?.close());

  /** Every server stopped or started, as a power request does: its status moved and its operation queued. */
  async function powerRequests(chosen: readonly { id: number; accountId: number }[]): Promise<void> {
    const now = new Date().toISOString();
    for (const { id, accountId } of chosen) {
      const server = await setup.servers.findById(id);
      const kind = server?.status === "active" ? "stop" : "start";
      await setup.transaction(async (tx) => {
        assert.ok(
          await tx.servers.swapStatus(
            id,
            kind === "stop" ? "active" : "stopped",
            kind === "stop" ? "stopping" : "starting",
            now,
          ),
        );
        await tx.operations.insert({ serverId: id, accountId, kind, maxAttempts: 5, now });
      });
    }
  }

  /**
   * One process's worker ending its operations through its own queue (three groups at once), in the order given:
   * most ends leave their swap to the queue and are written together as plain ends, as the worker's are; every fifth swaps in its own writes, with its
   * account's balance among what it writes, as a failed create's end does.
   */
  function settleAll(repos: Repositories, ops: OperationRow[]): Promise<boolean[]> {
    const queue = new SettlementQueue(repos, true, 64, 3);
    const now = new Date().toISOString();
    return Promise.all(
      ops.map((op, i) => {
        const swap =
          op.kind === "stop"
            ? ({ from: "stopping", to: "stopped" } as const)
            : ({ from: "starting", to: "active" } as const);
        const ended = {
          id: op.id,
          serverId: op.server_id,
          owner: op.lease_owner ?? "",
          attempt: op.attempts,
        };
        const own = i % 5 === 4;
        const settlement = { status: "succeeded", swap: own ? swap : undefined } as const;
        return queue.settle(
          (tx) => writeSettlement(tx, ended, settlement, now),
          own
            ? { serverId: op.server_id, account: true }
            : // The others as the worker's link hands them: plain ends, written together.
              { serverId: op.server_id, swap: { ...swap, now }, plain: plainEndOf(ended, settlement, now) },
        );
      }),
    );
  }

  it("never deadlock, end every operation once, and keep the counts exact", async () => {
    const random = new SeededRandom(testSeed(16));
    const leaseUntil = () => new Date(Date.now() + 60_000).toISOString();
    let ended = 0;
    let requested = servers.filter(() => random.next() < 0.75);
    await powerRequests(requested);
    for (let round = 0; round < ROUNDS; round++) {
      const now = new Date().toISOString();
      const claimed = await setup.operations.claim("worker", [hostId], now, leaseUntil(), SERVERS);
      assert.equal(claimed.length, requested.length);
      // Which process ends each at random, their ends arriving in opposite orders; meanwhile the other servers
      // are stopped or started, as power requests of a third process.
      const toA = claimed.filter(() => random.next() < 0.5);
      const toB = claimed.filter((op) => !toA.includes(op));
      toA.sort((a, b) => a.server_id - b.server_id);
      toB.sort((a, b) => b.server_id - a.server_id);
      const busy = new Set(claimed.map((op) => op.server_id));
      requested = servers.filter((s) => !busy.has(s.id));
      const [writtenA, writtenB] = await Promise.all([
        settleAll(processA, toA),
        settleAll(processB, toB),
        powerRequests(requested),
      ]);
      assert.ok(
        [...writtenA, ...writtenB].every((written) => written),
        `round ${round}: every end written`,
      );
      ended += claimed.length;
    }
    const last = await setup.operations.claim(
      "worker",
      [hostId],
      new Date().toISOString(),
      leaseUntil(),
      SERVERS,
    );
    assert.ok((await settleAll(processA, last)).every((written) => written));
    ended += last.length;

    assert.deepEqual([...processA.failures, ...processB.failures], [], "no group failed");
    const ops = await setup.db.selectFrom("operations").select(["status", "finished_at"]).execute();
    assert.equal(ops.length, ended);
    assert.ok(ops.every((op) => op.status === "succeeded" && op.finished_at !== null));

    await assertCountsMatchServers(setup.db);
    const statuses = await setup.db.selectFrom("servers").select("status").execute();
    assert.ok(
      statuses.every((s) => s.status === "active" || s.status === "stopped"),
      "every server settled",
    );
  });
});
