import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("hourly billing and suspension", () => {
  // Each test has a service of its own, whose clock it moves: hours go by for every server at once.
  let t: TestApp;
  let clock: SettableClock;
  beforeEach(async () => {
    clock = new SettableClock();
    t = await startTestApp({}, clock);
  });
  afterEach(() => t.close());

  const balance = async (api: { get(path: string): Promise<{ body: { balance: string } }> }) =>
    (await api.get("/api/v1/account/")).body.balance;

  /** Lets `hours` go by. */
  const age = (hours: number) => clock.advance(hours * 3_600_000);

  it("charges the first hour at create and each next hour once when it begins", async () => {
    const api = await t.newAccount("1.00");
    const { body } = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(await balance(api), "0.97", "Standard VPS costs 0.03 an hour");
    await waitForStatus(api, body.id, "active");

    assert.deepEqual(
      await t.app.engine.billing.runOnce(),
      { charged: 0, suspended: 0 },
      "nothing is due within the paid hour",
    );
    age(3);
    const [first, second] = await Promise.all([
      t.app.engine.billing.runOnce(),
      t.app.engine.billing.runOnce(),
    ]);
    assert.equal(first.charged + second.charged, 3, "three hours gone by are charged once each");
    assert.equal(await balance(api), "0.88");
  });

  it("suspends the servers of an account in debt, stops charging them, and gives them back when credit arrives", async () => {
    const api = await t.newAccount("0.06");
    const running = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "running" });
    const idle = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "idle" });
    await waitForStatus(api, running.body.id, "active");
    await waitForStatus(api, idle.body.id, "active");
    await api.post(`/api/v1/servers/${idle.body.id}/stop/`);
    await waitForStatus(api, idle.body.id, "stopped");
    assert.equal(await balance(api), "0.00");

    age(1);
    assert.deepEqual(await t.app.engine.billing.runOnce(), { charged: 2, suspended: 2 });
    assert.equal(await balance(api), "-0.06");
    await waitForStatus(api, running.body.id, "suspended");
    await waitForStatus(api, idle.body.id, "suspended");
    await eventually(async () =>
      (await t.driver.info(String(running.body.id))) === "stopped" ? true : undefined,
    );

    const start = await api.post(`/api/v1/servers/${running.body.id}/start/`);
    assert.equal(start.status, 400);
    assert.equal(start.body.error.code, "server_suspended");
    const suspendedList = await api.get("/api/v1/servers/?status=suspended");
    assert.equal(suspendedList.body.count, 2);

    age(5);
    assert.equal((await t.app.engine.billing.runOnce()).charged, 0, "suspended servers are not charged");

    const account = (await api.get("/api/v1/account/")).body;
    await t.admin.post(`/api/v1/admin/accounts/${account.id}/credit/`, { amount: "5.00" });
    assert.equal((await api.get(`/api/v1/servers/${running.body.id}/`)).body.status, "stopped");
    assert.equal((await api.get(`/api/v1/servers/${idle.body.id}/`)).body.status, "stopped");
    assert.equal((await api.post(`/api/v1/servers/${running.body.id}/start/`)).status, 200);
    await waitForStatus(api, running.body.id, "active");
    assert.equal(
      (await t.app.engine.billing.runOnce()).charged,
      2,
      "billing resumes from the moment of the credit",
    );
    assert.equal(await balance(api), "4.88");
  });

  it("refuses credit that would take a balance past its bound", async () => {
    const api = await t.newAccount("999999999.00");
    const account = (await api.get("/api/v1/account/")).body;
    const res = await t.admin.post(`/api/v1/admin/accounts/${account.id}/credit/`, { amount: "1000.00" });
    assert.equal(res.status, 400);
    assert.ok(res.body.error.fields.amount);
    assert.equal(await balance(api), "999999999.00");
  });
});
