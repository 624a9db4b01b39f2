import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pino } from "pino";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { Clock } from "../../src/domain/clock.ts";
import type { OperationKind } from "../../src/domain/lifecycle.ts";
import type { StoredServerStatus } from "../../src/domain/server-status.ts";
import { chargeFirstHour } from "../../src/engine/charge-first-hour.ts";
import type { ClaimedOperation } from "../../src/engine/host-link.ts";
import { LocalHostLink } from "../../src/engine/local-host-link.ts";
import { hostAndAccount } from "../support/host-and-account.ts";
import { serverValues } from "../support/server-values.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { suiteDatabase } from "../support/test-database.ts";

/** A clock that stands still until moved, so the times the link computes are known exactly. */
class StillClock implements Clock {
  #ms = Date.now();
  now(): Date {
    return new Date(this.#ms);
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
  at(offsetMs: number): string {
    return new Date(this.#ms + offsetMs).toISOString();
  }
}

// The host link's contract as a host agent will see it: what a claim hands over, which results are taken, and
// how the control plane answers a failed attempt. Every call here is one an agent will make over HTTP.
describe("the local host link", () => {
  const suite = suiteDatabase();
  const LEASE_MS = 30_000;
  const RETRY_BASE_MS = 1_000;
  let repos: Repositories;
  let accountId: number;
  let hostId: number;
  before(async () => {
    repos = new Repositories(suite.database.db);
    ({ hostId, accountId } = await hostAndAccount(repos, "sim-link", "host@example.com"));
  });

  /** A link with a clock of its own; its backoff jitter is none, so the retry times are known. */
  function link(clock: Clock = new SettableClock(), hosts: readonly number[] = [hostId]): LocalHostLink {
    return new LocalHostLink({
      repos,
      clock,
      log: pino({ level: "silent" }),
      leaseMs: LEASE_MS,
      retryBaseMs: RETRY_BASE_MS,
      hosts: () => hosts,
      random: () => 0.5,
    });
  }

  /** A server in the operation's transitional status, holding an IPv4 address, with the operation queued. */
  async function queued(
    kind: OperationKind,
    status: StoredServerStatus,
    maxAttempts = 5,
  ): Promise<{ serverId: number; opId: number; ipv4: string }> {
    const now = new Date(Date.now() - 1_000).toISOString();
    const serverId = await repos.servers.insert(
      serverValues({
        account_id: accountId,
        name: `server-${kind}`,
        hostname: "web-1.example.com",
        status,
        ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContract host@example.com",
        created_at: now,
        billed_until: new Date(Date.parse(now) + 3_600_000).toISOString(),
        host_id: hostId,
      }),
    );
    const ipv4 = await repos.addresses.allocate(serverId, 1, 4, now);
    assert.ok(ipv4);
    const opId = await repos.operations.insert({ serverId, accountId, kind, maxAttempts, now });
    return { serverId, opId, ipv4 };
  }

  async function claimOne(l: LocalHostLink, opId: number): Promise<ClaimedOperation> {
    const op = (await l.claim(100, 0)).find((o) => o.id === opId);
    assert.ok(op, `operation ${opId} is claimed`);
    return op;
  }

  const operation = (id: number) =>
    repos.db.selectFrom("operations").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const server = async (id: number) => {
    const row = await repos.servers.findById(id);
    assert.ok(row);
    return row;
  };
  const balance = async () => (await repos.accounts.findById(accountId))?.balance_minor;

  it("hands over a create with its machine spec: plan sizes, image, hostname, SSH key and addresses", async () => {
    const { serverId, opId, ipv4 } = await queued("create", "provisioning");
    const l = link();
    const op = await claimOne(l, opId);
    const [plan, os] = await Promise.all([repos.catalogue.findPlan(1), repos.catalogue.findOs(3)]);
    assert.ok(plan && os);
    assert.deepEqual(JSON.parse(JSON.stringify(op)), op, "plain data, as it will cross HTTP");
    assert.deepEqual(
      { ...op, leaseExpiresAt: typeof op.leaseExpiresAt },
      {
        id: opId,
        kind: "create",
        serverId,
        attempt: 1,
        maxAttempts: 5,
        owner: l.owner,
        leaseExpiresAt: "string",
        serverDeleted: false,
        spec: {
          id: String(serverId),
          hostname: "web-1.example.com",
          vcpus: plan.vcpus,
          memoryMb: plan.memory_mb,
          storageGb: plan.storage_gb,
          image: os.image,
          sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContract host@example.com",
          ipv4,
          ipv6: null,
        },
        unrunnable: null,
        transfer: null,
        image: null,
      },
    );
    assert.deepEqual(await l.succeed(op, { ssh: null }), { recorded: true, status: "succeeded" });
    const settled = await server(serverId);
    assert.equal(settled.status, "active");
    assert.deepEqual(
      [settled.ssh_host, settled.ssh_port],
      [ipv4, 22],
      "no endpoint reported: its own address",
    );
  });

  it("marks an operation whose server was deleted meanwhile, and cancels it", async () => {
    const { serverId, opId } = await queued("start", "starting");
    await repos.db
      .updateTable("servers")
      .set({ deleted_at: new Date().toISOString() })
      .where("id", "=", serverId)
      .execute();
    const l = link();
    const op = await claimOne(l, opId);
    assert.equal(op.serverDeleted, true);
    assert.equal(op.spec, null);
    assert.deepEqual(await l.succeed(op, {}), { recorded: true, status: "cancelled" });
    assert.equal((await operation(opId)).status, "cancelled");
  });

  it("refuses the result of a lease taken over by another host, and changes nothing", async () => {
    const { serverId, opId } = await queued("create", "provisioning");
    const firstHost = link();
    const first = await claimOne(firstHost, opId);
    // The first holder goes silent past its lease; another claims the operation.
    const later = new SettableClock();
    later.advance(LEASE_MS + 1_000);
    const second = await claimOne(link(later), opId);
    const before = await operation(opId);

    assert.equal(await firstHost.extend(first), false);
    assert.deepEqual(await firstHost.succeed(first, { ssh: { host: "203.0.113.9", port: 2222 } }), {
      recorded: false,
    });
    const error = { code: "sim_fault", message: "the hypervisor said no" };
    assert.deepEqual(await firstHost.fail(first, error, true), { recorded: false });
    assert.deepEqual(await firstHost.fail(first, error, false), { recorded: false });
    assert.deepEqual(await operation(opId), before, "the operation is as the second holder claimed it");
    const untouched = await server(serverId);
    assert.equal(untouched.status, "provisioning");
    assert.equal(untouched.ssh_host, null);
    assert.equal(second.attempt, 2);
  });

  it("refuses the result of an earlier lease of the same holder", async () => {
    const { serverId, opId } = await queued("stop", "stopping");
    const clock = new SettableClock();
    const l = link(clock);
    const stale = await claimOne(l, opId);
    // The same holder's lease ran out and it claimed the operation again: only the new attempt may end it.
    clock.advance(LEASE_MS + 1_000);
    const current = await claimOne(l, opId);
    assert.deepEqual(await l.succeed(stale, {}), { recorded: false });
    assert.equal((await server(serverId)).status, "stopping");
    assert.deepEqual(await l.succeed(current, {}), { recorded: true, status: "succeeded" });
    assert.equal((await server(serverId)).status, "stopped");
  });

  it("retries a failed attempt with growing backoff until the last, then ends the create in error with its charge refunded", async () => {
    const { serverId, opId } = await queued("create", "provisioning", 3);
    const plan = await repos.catalogue.findPlan(1);
    assert.ok(plan);
    const clock = new StillClock();
    const l = link(clock);
    const error = { code: "sim_fault", message: "the hypervisor said no" };
    const creditBefore = Number(await balance());
    // The hour a create pays for at once, through the ledger as the create's transaction writes it.
    const created = (await server(serverId)).created_at;
    await repos.transaction(async (tx) => {
      const moveBalance = await chargeFirstHour(tx, {
        serverId,
        accountId,
        currency: "USD",
        planId: plan.id,
        priceHourlyMinor: plan.price_hourly_minor,
        priceMonthlyMinor: plan.price_monthly_minor,
        backupsEnabled: false,
        backupPricePercent: 0,
        bandwidthGb: plan.bandwidth_gb,
        bandwidthPriceMinorPerGb: 0,
        trafficBytes: null,
        hourStart: created,
        lowBalanceMinor: 0,
        now: created,
      });
      await moveBalance();
    });
    assert.equal(Number(await balance()), creditBefore - plan.price_hourly_minor);

    for (const [attempt, backoffMs] of [
      [1, RETRY_BASE_MS],
      [2, 2 * RETRY_BASE_MS],
    ] as const) {
      const op = await claimOne(l, opId);
      assert.equal(op.attempt, attempt);
      const recorded = await l.fail(op, error, false);
      assert.deepEqual(recorded, { recorded: true, status: "pending", retryAt: clock.at(backoffMs) });
      const waiting = await operation(opId);
      assert.deepEqual(
        [waiting.status, waiting.lease_owner, waiting.error_code],
        ["pending", null, "sim_fault"],
      );
      assert.equal((await server(serverId)).status, "provisioning", "still being created");
      const early = await l.claim(100, 0);
      assert.ok(!early.some((o) => o.id === opId), "not due before its backoff");
      clock.advance(backoffMs);
    }

    const last = await claimOne(l, opId);
    assert.equal(last.attempt, 3);
    assert.deepEqual(await l.fail(last, error, false), { recorded: true, status: "failed" });
    const failed = await operation(opId);
    assert.deepEqual([failed.status, failed.attempts, failed.error_code], ["failed", 3, "sim_fault"]);
    const ended = await server(serverId);
    assert.equal(ended.status, "error");
    assert.deepEqual(await repos.addresses.heldBy(serverId), [], "its addresses go back to the pool");
    assert.equal(Number(await balance()), creditBefore, "the hour charged at create is given back");
    const refunds = await repos.db
      .selectFrom("refunds")
      .selectAll()
      .where("server_id", "=", serverId)
      .execute();
    assert.equal(refunds.length, 1);
    assert.equal(refunds[0]?.reason, "create_failed");
  });

  it("ends a permanent failure at once, whatever attempts are left", async () => {
    const { serverId, opId } = await queued("reboot", "rebooting");
    const op = await claimOne(link(), opId);
    assert.deepEqual(await link().fail(op, { code: "sim_fault", message: "gone" }, true), {
      recorded: true,
      status: "failed",
    });
    assert.equal((await operation(opId)).attempts, 1);
    assert.equal((await server(serverId)).status, "error");
  });

  it("claims only the operations of servers on the hosts it serves, and none when it serves no host", async () => {
    const { serverId, opId } = await queued("start", "starting");
    const elsewhere = (await repos.hosts.createEmbedded("sim-elsewhere", 1, new Date().toISOString()))?.id;
    assert.ok(elsewhere);
    await repos.servers.setHost(serverId, elsewhere);
    assert.ok(!(await link().claim(100, 0)).some((op) => op.id === opId), "not this host's");
    assert.deepEqual(await link(new SettableClock(), []).claim(100, 0), []);
    assert.equal((await operation(opId)).status, "pending");
    const op = await claimOne(link(new SettableClock(), [elsewhere]), opId);
    assert.equal(op.serverId, serverId);
  });
});
