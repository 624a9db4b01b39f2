import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

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
    const serverId = await repos.servers.insert({
      account_id: 1,
      name: "orphan",
      hostname: null,
      status: "provisioning",
      plan_id: 1,
      os_id: 3,
      location_id: 1,
      ssh_key_id: null,
      ssh_public_key: null,
      backups_enabled: 0,
      created_at: iso(0),
      updated_at: iso(0),
      deleted_at: null,
      billed_until: iso(3_600_000),
    });
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
