import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pino } from "pino";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { presentAction } from "../../src/domain/action-view.ts";
import { systemClock } from "../../src/domain/clock.ts";
import type { ClaimedOperation } from "../../src/engine/host-link.ts";
import { LocalHostLink } from "../../src/engine/local-host-link.ts";
import { assertCountsMatchServers } from "../support/counts-match-servers.ts";
import { insertServers } from "../support/insert-servers.ts";
import { suiteDatabase } from "../support/test-database.ts";

const SERVERS = 12;

// A burst of power operations' ends, as the worker's link commits them: the first alone, the rest as one group
// whose plain ends are written together. Each must still be fenced by its own lease and end as it would alone.
describe("power operations ending together", () => {
  const suite = suiteDatabase();
  let repos: Repositories;
  let accountId: number;
  let endpointId: number;
  before(async () => {
    repos = new Repositories(suite.database.db);
    const now = new Date().toISOString();
    ({ id: accountId } = await repos.db
      .insertInto("accounts")
      .values({
        email: "burst@example.com",
        balance_minor: 0,
        currency: "USD",
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow());
    endpointId = (
      await repos.webhooks.insertEndpoint({
        account_id: accountId,
        url: "https://hooks.example.com/burst",
        description: null,
        secret_sealed: "sealed",
        events: ",action.finished,",
        enabled: 1,
        disabled_reason: null,
        disabled_at: null,
        failing_since: null,
        created_at: now,
        updated_at: now,
      })
    ).id;
  });

  /** Each server's stop or start as a request queues it, then leased to `owner` as a claim does. */
  async function leased(owner: string): Promise<ClaimedOperation[]> {
    const servers = await insertServers(repos.db, SERVERS, () => accountId, `burst-${owner}`);
    const now = new Date().toISOString();
    const claimed: ClaimedOperation[] = [];
    for (const [n, { id }] of servers.entries()) {
      const kind = n % 2 === 0 ? "stop" : "start";
      await repos.transaction(async (tx) => {
        const from = kind === "stop" ? "active" : "stopped";
        assert.ok(await tx.servers.swapStatus(id, from, kind === "stop" ? "stopping" : "starting", now));
        // Half of them hold an IPv4 address, where their SSH endpoint is.
        if (n % 4 < 2) await tx.addresses.allocate(id, n % 3 === 0 ? 1 : n % 3 === 1 ? 2 : 3, 4, now);
        const opId = await tx.operations.insert({ serverId: id, accountId, kind, maxAttempts: 5, now });
        await tx.db
          .updateTable("operations")
          .set({ status: "running", lease_owner: owner, lease_expires_at: "9999", attempts: 1 })
          .where("id", "=", opId)
          .execute();
        claimed.push({
          id: opId,
          kind,
          serverId: id,
          attempt: 1,
          maxAttempts: 5,
          owner,
          leaseExpiresAt: "9999",
          serverDeleted: false,
          spec: null,
          unrunnable: null,
          transfer: null,
          image: null,
        });
      });
    }
    return claimed;
  }

  function link(): LocalHostLink {
    return new LocalHostLink({
      repos,
      clock: systemClock,
      log: pino({ level: "silent" }),
      leaseMs: 60_000,
      retryBaseMs: 1000,
      hosts: () => [],
      groupSettlements: true,
      settlementsInFlight: 2,
    });
  }

  it("end every operation whose lease holds, each with its status, endpoint and action.finished", async () => {
    const ops = await leased("w1");
    // Two of them were claimed again by another worker after this one's lease ran out: its ends change nothing.
    const taken = new Set([ops[3]?.id, ops[8]?.id]);
    await repos.db
      .updateTable("operations")
      .set({ lease_owner: "w2", attempts: 2 })
      .where("id", "in", [...taken] as number[])
      .execute();
    // One fails for good: its server goes back to where its failure leaves it, with its error kept.
    const failing = ops[5] as ClaimedOperation;

    const ends = link();
    const recorded = await Promise.all(
      ops.map((op) =>
        op === failing
          ? ends.fail(op, { code: "machine_missing", message: "gone" }, true)
          : ends.succeed(op, {}),
      ),
    );
    assert.deepEqual(
      recorded.map((r) => r.recorded),
      ops.map((op) => !taken.has(op.id)),
    );

    for (const op of ops) {
      const row = await repos.operations.findById(op.id);
      const server = await repos.servers.findById(op.serverId);
      const address = await repos.db
        .selectFrom("ip_addresses")
        .select("address")
        .where("server_id", "=", op.serverId)
        .executeTakeFirst();
      const deliveries = await repos.db
        .selectFrom("webhook_deliveries")
        .select("data")
        .where("endpoint_id", "=", endpointId)
        .where("event_type", "=", "action.finished")
        .execute();
      const told = deliveries.filter((d) => JSON.parse(d.data).action.id === op.id);
      if (taken.has(op.id)) {
        assert.equal(row?.status, "running", `operation ${op.id} left to its new holder`);
        assert.equal(row?.lease_owner, "w2");
        assert.equal(server?.status, op.kind === "stop" ? "stopping" : "starting");
        assert.equal(told.length, 0);
        continue;
      }
      if (op === failing) {
        assert.equal(row?.status, "failed");
        assert.equal(row?.error_code, "machine_missing");
        assert.equal(server?.status, "error");
      } else {
        assert.equal(row?.status, "succeeded", `operation ${op.id}`);
        assert.equal(row?.error_code, null);
        assert.equal(server?.status, op.kind === "stop" ? "stopped" : "active");
        assert.equal(server?.ssh_host ?? null, address?.address ?? null, `server ${op.serverId}'s endpoint`);
        assert.equal(server?.ssh_port ?? null, address ? 22 : null);
      }
      assert.equal(row?.lease_owner, null);
      assert.notEqual(row?.finished_at, null);
      assert.equal(told.length, 1, `one action.finished for operation ${op.id}`);
      assert.deepEqual(JSON.parse(told[0]?.data ?? "{}").action, row && presentAction(row));
    }

    await assertCountsMatchServers(repos.db);
  });
});
