import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../../src/config.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { OperationRow } from "../../src/db/schema.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { createDriver } from "../../src/drivers/create-driver.ts";
import type { DriverCall } from "../../src/drivers/driver.ts";
import type { ClaimedOperation, Outcome } from "../../src/engine/host-link.ts";
import { LocalHostLink } from "../../src/engine/local-host-link.ts";
import { OperationRunner } from "../../src/engine/operation-runner.ts";
import { OperationWorker } from "../../src/engine/operation-worker.ts";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import { waitForStatus } from "../support/client.ts";
import { hostAndAccount } from "../support/host-and-account.ts";
import { serverValues } from "../support/server-values.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { suiteDatabase } from "../support/test-database.ts";

/** The real runner, holding each step at its start until the test lets it go on. */
class GatedRunner extends OperationRunner {
  #enter: () => void = () => {};
  readonly entered = new Promise<void>((resolve) => {
    this.#enter = resolve;
  });
  #open: () => void = () => {};
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  open(): void {
    this.#open();
  }
  override async execute(op: ClaimedOperation, call: DriverCall): Promise<Outcome> {
    this.#enter();
    await this.#gate;
    return super.execute(op, call);
  }
}

describe("operation leases", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_POLL_MS: "50" });
  });
  after(() => t.close());

  it("leaves an operation leased by another live worker alone until the lease expires, then resumes it", async () => {
    const { repos } = t.app.services;
    const now = new Date();
    const iso = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();
    // A server whose create operation another worker (on another host) claimed, then went silent.
    const serverId = await repos.servers.insert(
      serverValues({
        account_id: 1,
        name: "orphan",
        status: "provisioning",
        created_at: iso(0),
        billed_until: iso(3_600_000),
        host_id: t.app.engine.embeddedHosts?.ids[0] ?? null,
      }),
    );
    await repos.addresses.allocate(serverId, 1, 4, iso(0));
    const opId = await repos.operations.insert({
      serverId,
      accountId: 1,
      kind: "create",
      maxAttempts: 5,
      now: iso(0),
    });
    await repos.db
      .updateTable("operations")
      .set({
        status: "running",
        attempts: 1,
        lease_owner: "elsewhere:4242:deadbeef",
        lease_expires_at: iso(700),
      })
      .where("id", "=", opId)
      .execute();
    t.app.engine.worker.wake();

    await new Promise((r) => setTimeout(r, 300));
    const during = await repos.operations.unfinishedFor(serverId);
    assert.equal(during[0]?.lease_owner, "elsewhere:4242:deadbeef", "a live lease is not taken over");

    await waitForStatus(t.owner, serverId, "active", 5000);
    const [op] = await repos.db.selectFrom("operations").selectAll().where("id", "=", opId).execute();
    assert.equal(op?.status, "succeeded");
    assert.equal(op?.attempts, 2, "the expired attempt counts");
  });
});

describe("a worker whose lease was taken over", () => {
  const suite = suiteDatabase();
  let repos: Repositories;
  let accountId: number;
  let hostId: number;
  before(async () => {
    repos = new Repositories(suite.database.db);
    ({ hostId, accountId } = await hostAndAccount(repos, "sim-leases", "fenced@example.com"));
  });

  const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

  /** A server being created, holding its address, with its create operation queued. */
  async function queuedCreate(): Promise<{ serverId: number; opId: number }> {
    const now = at(0);
    const serverId = await repos.servers.insert(
      serverValues({
        account_id: accountId,
        name: "contested",
        status: "provisioning",
        created_at: now,
        billed_until: at(3_600_000),
        host_id: hostId,
      }),
    );
    await repos.addresses.allocate(serverId, 1, 4, now);
    const opId = await repos.operations.insert({ serverId, accountId, kind: "create", maxAttempts: 5, now });
    return { serverId, opId };
  }

  const operation = (id: number) =>
    repos.db.selectFrom("operations").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  it("can neither extend nor end the operation once another worker has claimed it", async () => {
    const { opId } = await queuedCreate();
    const [claimedByA] = await repos.operations.claim("worker-a", [hostId], at(0), at(1_000), 10);
    assert.equal(claimedByA?.id, opId);
    // A stalls past its lease; B finds the lease expired and takes the operation over.
    const [claimedByB] = await repos.operations.claim("worker-b", [hostId], at(2_000), at(32_000), 10);
    assert.equal(claimedByB?.id, opId);
    const taken = await operation(opId);

    const leaseOfA = { owner: "worker-a", attempt: claimedByA.attempts };
    assert.equal(await repos.operations.extendLease(opId, leaseOfA, at(60_000)), false);
    assert.equal(
      await repos.operations.finish(opId, leaseOfA, "succeeded", at(3_000), undefined, taken.server_id),
      false,
    );
    assert.deepEqual(await operation(opId), taken, "B's operation is as B claimed it");
  });

  for (const grouped of [false, true]) {
    it(`commits nothing of its step's result${grouped ? " through the grouped settlement queue" : ""}`, async () => {
      const { serverId, opId } = await queuedCreate();
      const config = loadConfig({ DATABASE_URL: suite.database.url, VPS_SIM_DELAY_MS: "0" });
      const runner = new GatedRunner({
        driver: createDriver(config, repos, systemClock),
        store: new DirectoryImageStore(join(tmpdir(), "vps-leases-image-store")),
        shutdownTimeoutMs: 1_000,
      });
      const log = pino({ level: "silent" });
      const link = new LocalHostLink({
        repos,
        clock: systemClock,
        log,
        leaseMs: 60_000,
        retryBaseMs: 20,
        hosts: () => [hostId],
        groupSettlements: grouped,
      });
      const workerA = new OperationWorker({
        link,
        runner,
        clock: systemClock,
        log,
        concurrency: 1,
        leaseMs: 60_000,
        pollMs: 50,
      });
      await workerA.start();
      let taken: OperationRow | undefined;
      try {
        await runner.entered;
        // While A's step runs, its lease runs out (as B sees the time) and B claims the operation.
        const claimedByB = await repos.operations.claim("worker-b", [hostId], at(120_000), at(180_000), 10);
        assert.ok(claimedByB.some((op) => op.id === opId));
        taken = await operation(opId);
      } finally {
        runner.open();
        // Waits for A's step to end and A to try to commit its result.
        await workerA.stop(10_000);
      }
      assert.deepEqual(await operation(opId), taken, "B's operation is as B claimed it");
      const server = await repos.servers.findById(serverId);
      assert.equal(server?.status, "provisioning", "the server is B's to settle");
      assert.equal(server?.ssh_host, null);
    });
  }
});
