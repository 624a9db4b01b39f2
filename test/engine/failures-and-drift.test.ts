import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { SimMachineStore } from "../../src/drivers/sim/sim-machine-store.ts";
import { refundCharges } from "../../src/engine/refund-charges.ts";
import { eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("the engine when the hypervisor fails or drifts", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_MAX_ATTEMPTS: "3" });
  });
  after(() => t.close());
  beforeEach(() => t.driver.faults.clear());

  const operations = (serverId: number) =>
    t.app.services.repos.db
      .selectFrom("operations")
      .select(["kind", "status", "attempts", "error_code"])
      .where("server_id", "=", serverId)
      .orderBy("id")
      .execute()
      .then((rows) => rows.map((r) => ({ ...r })));

  const addressesHeld = async (serverId: number) =>
    (await t.app.services.repos.addresses.heldBy(serverId)).map((a) => a.address);

  it("retries a transient failure with backoff and then succeeds", async () => {
    t.driver.faults.inject("create", { transient: 2 });
    const { body } = await t.owner.post("/api/v1/servers/", SAMPLE_CREATE);
    await waitForStatus(t.owner, body.id, "active");
    assert.deepEqual(await operations(body.id), [
      { kind: "create", status: "succeeded", attempts: 3, error_code: null },
    ]);
  });

  it("ends the server in error when a step can never succeed, returns its addresses and refunds its charge once", async () => {
    const user = await t.newAccount("10.00");
    const balance = async () => (await user.get("/api/v1/account/")).body.balance;
    t.driver.faults.inject("create", { permanent: true });
    const { status, body } = await user.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(status, 201);
    const detail = await waitForStatus(user, body.id, "error");
    assert.equal(detail.ip_address, null);
    assert.deepEqual(await addressesHeld(body.id), []);
    assert.deepEqual(await operations(body.id), [
      { kind: "create", status: "failed", attempts: 1, error_code: "sim_fault" },
    ]);
    assert.equal(await balance(), "10.00", "a server that never ran costs nothing");
    const refunds = () =>
      t.app.repos.db
        .selectFrom("refunds")
        .select(["account_id", "amount_minor", "reason"])
        .where("server_id", "=", body.id)
        .execute()
        .then((rows) => rows.map((r) => ({ ...r, amount_minor: Number(r.amount_minor) })));
    const [refund] = await refunds();
    assert.equal(refund?.account_id, user.accountId);
    assert.equal(refund?.reason, "create_failed");
    const plan = (await user.get("/api/v1/plans/")).body.results.find((p: { id: number }) => p.id === 1);
    assert.equal(
      refund?.amount_minor,
      Math.round(Number(plan.price_hourly) * 100),
      "the first hour, charged at create",
    );
    // The operation's end committed a second time (as a retried settlement would) refunds nothing more.
    const [op] = await t.app.repos.db
      .selectFrom("operations")
      .selectAll()
      .where("server_id", "=", body.id)
      .execute();
    assert.ok(op);
    await t.app.repos.transaction((tx) => refundCharges(tx, op, new Date().toISOString()));
    assert.equal((await refunds()).length, 1);
    assert.equal(await balance(), "10.00");
    assert.equal((await t.app.engine.billing.runOnce()).charged, 0, "a server in error is not billed");
    assert.equal(await balance(), "10.00");
    const start = await user.post(`/api/v1/servers/${body.id}/start/`);
    assert.equal(start.status, 400);
    assert.equal(start.body.error.code, "server_in_error");
  });

  it("gives up after the configured number of attempts of a transient failure", async () => {
    const { body } = await t.owner.post("/api/v1/servers/", SAMPLE_CREATE);
    await waitForStatus(t.owner, body.id, "active");
    t.driver.faults.inject("reboot", { transient: "always" });
    assert.equal((await t.owner.post(`/api/v1/servers/${body.id}/reboot/`)).status, 200);
    await waitForStatus(t.owner, body.id, "error");
    const reboot = (await operations(body.id)).at(-1);
    assert.deepEqual(reboot, { kind: "reboot", status: "failed", attempts: 3, error_code: "sim_fault" });
  });

  it("a server deleted while provisioning is never left behind: no machine, no addresses", async () => {
    const slow = await startTestApp({ VPS_SIM_DELAY_MS: "300" });
    try {
      const { body } = await slow.owner.post("/api/v1/servers/", SAMPLE_CREATE);
      // Delete while the create operation is running inside the driver.
      await eventually(async () => {
        const [op] = await slow.app.services.repos.operations.unfinishedFor(body.id);
        return op?.status === "running" ? true : undefined;
      });
      assert.equal((await slow.owner.delete(`/api/v1/servers/${body.id}/`)).status, 204);
      assert.equal((await slow.owner.get(`/api/v1/servers/${body.id}/`)).status, 404);
      await eventually(async () => {
        const ops = await slow.app.services.repos.operations.unfinishedFor(body.id);
        return ops.length === 0 ? true : undefined;
      });
      assert.equal(await slow.driver.info(String(body.id)), "missing");
      assert.deepEqual(await slow.app.services.repos.addresses.heldBy(body.id), []);
    } finally {
      await slow.close();
    }
  });

  it("marks an active server whose machine died as stopped, and a vanished machine as error", async () => {
    const a = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "dies" });
    const b = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "vanishes" });
    await waitForStatus(t.owner, a.body.id, "active");
    await waitForStatus(t.owner, b.body.id, "active");
    await t.driver.stop(String(a.body.id));
    await new SimMachineStore(t.database.db).delete(String(b.body.id));
    await t.app.engine.powerSync.syncOnce();
    assert.equal((await t.owner.get(`/api/v1/servers/${a.body.id}/`)).body.status, "stopped");
    assert.equal((await t.owner.get(`/api/v1/servers/${b.body.id}/`)).body.status, "error");
  });

  it("leaves the servers of other hosts alone: this process's driver does not see their machines", async () => {
    const { body } = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "elsewhere" });
    await waitForStatus(t.owner, body.id, "active");
    const other = await t.admin.post("/api/v1/admin/hosts/", { name: "hv-other", location: "eu-central" });
    assert.equal(other.status, 201);
    await t.app.services.repos.servers.setHost(body.id, other.body.host.id);
    await new SimMachineStore(t.database.db).delete(String(body.id));
    await t.app.engine.powerSync.syncOnce();
    assert.equal((await t.owner.get(`/api/v1/servers/${body.id}/`)).body.status, "active");
  });

  it("does not let a stale power reading override an operation that ran since", async () => {
    const { body } = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "raced" });
    await waitForStatus(t.owner, body.id, "active");
    // The power sync lists the server as active, then its reading of the machine is slow to arrive.
    const read = Promise.withResolvers<void>();
    const answer = Promise.withResolvers<void>();
    const asked = Promise.withResolvers<void>();
    const info = t.driver.info.bind(t.driver);
    t.driver.info = async (id: string) => {
      if (id !== String(body.id)) return info(id);
      asked.resolve();
      await read.promise;
      const state = await info(id);
      await answer.promise;
      return state;
    };
    try {
      const sync = t.app.engine.powerSync.syncOnce();
      await asked.promise;
      await t.owner.post(`/api/v1/servers/${body.id}/stop/`);
      await waitForStatus(t.owner, body.id, "stopped");
      read.resolve(); // it reads "stopped"...
      await new Promise((r) => setTimeout(r, 20));
      await t.owner.post(`/api/v1/servers/${body.id}/start/`);
      await waitForStatus(t.owner, body.id, "active");
      answer.resolve(); // ...and answers only once the server is running again
      await sync;
      assert.equal((await t.owner.get(`/api/v1/servers/${body.id}/`)).body.status, "active");
    } finally {
      t.driver.info = info;
    }
  });

  it("reports usage within the plan's limits once the server runs", async () => {
    const { body } = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "busy" });
    await waitForStatus(t.owner, body.id, "active");
    await new Promise((r) => setTimeout(r, 50));
    await t.app.engine.powerSync.syncOnce();
    const { resource_usage: usage, plan } = (await t.owner.get(`/api/v1/servers/${body.id}/`)).body;
    assert.ok(usage.cpu_percent > 0 && usage.cpu_percent <= 100, `cpu_percent ${usage.cpu_percent}`);
    assert.ok(usage.memory_used > 0 && usage.memory_used <= plan.memory, `memory_used ${usage.memory_used}`);
    assert.ok(usage.disk_used > 0 && usage.disk_used <= plan.storage, `disk_used ${usage.disk_used}`);
    assert.ok(usage.bandwidth_used >= 0 && usage.bandwidth_used <= plan.bandwidth);
  });
});

describe("address pools", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("hands out unique addresses, refuses a create when the pool is empty without charging or creating anything, and reuses returned ones", async () => {
    await t.admin.post("/api/v1/admin/locations/", { code: "tiny", name: "Tiny", country: "NL" });
    assert.equal(
      (await t.admin.post("/api/v1/admin/locations/tiny/addresses/", { cidr: "198.18.0.0/30" })).status,
      201,
    );
    await t.admin.post("/api/v1/admin/plans/", {
      name: "Tiny VPS",
      vcpus: 1,
      memory: 512,
      storage: 10,
      bandwidth: 100,
      price_hourly: "0.01",
      price_monthly: "2.00",
      locations: ["tiny"],
    });
    // The new location's embedded host comes with the next heartbeat; this one is not left to the timer.
    await t.app.engine.embeddedHosts?.beat();
    const plans = (await t.owner.get("/api/v1/plans/")).body.results;
    const planId = plans.find((p: { name: string }) => p.name === "Tiny VPS").id;
    const create = () =>
      t.owner.post("/api/v1/servers/", { name: "tiny", plan_id: planId, os_id: 3, location: "tiny" });

    const first = await create();
    const second = await create();
    const a = await waitForStatus(t.owner, first.body.id, "active");
    const b = await waitForStatus(t.owner, second.body.id, "active");
    assert.deepEqual([a.ip_address, b.ip_address].sort(), ["198.18.0.1", "198.18.0.2"]);

    const balance = (await t.owner.get("/api/v1/account/")).body.balance;
    const listed = (await t.owner.get("/api/v1/servers/")).body.count;
    const operationsBefore = await t.app.repos.db
      .selectFrom("operations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    const third = await create();
    assert.equal(third.status, 409);
    assert.equal(third.body.error.code, "no_address_available");
    assert.equal((await t.owner.get("/api/v1/account/")).body.balance, balance, "nothing is charged");
    assert.equal((await t.owner.get("/api/v1/servers/")).body.count, listed, "no server is made");
    const operationsAfter = await t.app.repos.db
      .selectFrom("operations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    assert.equal(Number(operationsAfter.n), Number(operationsBefore.n), "no operation is queued");

    await t.owner.delete(`/api/v1/servers/${first.body.id}/`);
    await eventually(async () =>
      (await t.app.services.repos.addresses.heldBy(first.body.id)).length ? undefined : true,
    );
    const fourth = await create();
    const d = await waitForStatus(t.owner, fourth.body.id, "active");
    assert.equal(d.ip_address, a.ip_address);
  });
});
