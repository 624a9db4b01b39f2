import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { recordUsage } from "../../src/engine/power-observation.ts";
import { type Client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const HOUR = 3_600_000;
const GB = 1e9;

describe("bandwidth beyond the allowance: charged with each hour, through the ledger", () => {
  // A clock at midnight of the 2nd of next month (UTC), so that the test's hours stay in one calendar month; a
  // plan of 672 GB a month, whose hours accrue 1 GB of allowance each; traffic at 0.03 a GB.
  let t: TestApp;
  let clock: SettableClock;
  let monthStartMs: number;
  let planId: number;
  beforeEach(async () => {
    clock = new SettableClock();
    const now = new Date();
    monthStartMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    clock.advance(monthStartMs + 24 * HOUR - now.getTime());
    t = await startTestApp({ VPS_BANDWIDTH_PRICE_GB: "0.03" }, clock);
    const plan = await t.admin.post("/api/v1/admin/plans/", {
      name: "Metered",
      vcpus: 1,
      memory: 1024,
      storage: 20,
      bandwidth: 672,
      price_hourly: "0.01",
      price_monthly: "5.00",
      locations: ["us-west"],
    });
    assert.equal(plan.status, 201);
    planId = plan.body.id;
  });
  afterEach(() => t.close());

  /** A server, stopped so that only the counters the test reports count as its traffic. */
  const stoppedServer = async (api: Client): Promise<number> => {
    const { body } = await api.post("/api/v1/servers/", {
      ...SAMPLE_CREATE,
      plan_id: planId,
      backups_enabled: false,
    });
    await waitForStatus(api, body.id, "active");
    assert.equal((await api.post(`/api/v1/servers/${body.id}/stop/`)).status, 200);
    await waitForStatus(api, body.id, "stopped");
    return body.id;
  };
  /** A sample of the machine's counters since boot, as the power sync records them. */
  const traffic = (serverId: number, inGb: number, outGb: number) =>
    recordUsage(
      t.app.repos,
      clock,
      { id: serverId, plan_id: planId },
      {
        cpuTimeNs: 0,
        memoryUsedMb: 100,
        diskUsedGb: 1,
        netInBytes: inGb * GB,
        netOutBytes: outGb * GB,
      },
    );
  /** The next hour begins and the cycle charges it (twice: the second run finds nothing new). */
  const nextHour = async () => {
    clock.advance(HOUR);
    const first = await t.app.engine.billing.runOnce();
    const second = await t.app.engine.billing.runOnce();
    assert.deepEqual([first.charged, second.charged], [1, 0]);
  };
  const bandwidthEntries = async (api: Client) => {
    const res = await api.get("/api/v1/account/transactions/?kind=bandwidth&page_size=100");
    assert.equal(res.status, 200);
    return (res.body.results as { amount: string; period_start: string; server_id: number }[]).reverse();
  };
  /** The hours charged so far, from the one paid at create (0). */
  const hours = async (api: Client): Promise<string[]> => {
    const res = await api.get("/api/v1/account/transactions/?kind=usage&page_size=100");
    return (res.body.results as { period_start: string }[]).map((e) => e.period_start).reverse();
  };

  it("charges the larger direction's traffic beyond the accrued allowance, fractions of a cent carried, each hour once", async () => {
    const api = await t.newAccount("10.00");
    const id = await stoppedServer(api);
    // Hour 0 (paid at create) allows 1 GB; each hour charged after it 1 GB more.
    await traffic(id, 0.2, 1.5);
    await nextHour(); // 2 GB allowed, 1.5 GB sent: within it.
    await traffic(id, 5, 3.5);
    await nextHour(); // 3 GB allowed, 5 GB received (more than sent): 2 GB over, 0.06.
    await traffic(id, 5.5, 3.5);
    await nextHour(); // 4 GB allowed, 5.5 used: 1.5 GB over, 0.045, less than already paid: nothing.
    await traffic(id, 7.5, 3.5);
    await nextHour(); // 5 GB allowed, 2.5 over: 0.075, of which 0.06 paid: 0.01 (the half cent carried).
    await traffic(id, 9, 8);
    await nextHour(); // 6 GB allowed, 3 GB over: 0.09, of which 0.07 paid: 0.02.

    const hour = await hours(api);
    assert.deepEqual(
      (await bandwidthEntries(api)).map((e) => [e.period_start, e.amount, e.server_id]),
      [
        [hour[2], "-0.06", id],
        [hour[4], "-0.01", id],
        [hour[5], "-0.02", id],
      ],
    );
    const usage = (await api.get("/api/v1/account/usage/")).body;
    const [server] = usage.servers;
    assert.deepEqual(
      [
        server.hours,
        server.bandwidth_used,
        server.bandwidth_allowance,
        server.bandwidth_overage,
        server.bandwidth,
      ],
      [6, 9, 6, 3, "0.09"],
    );
    assert.equal(usage.total, "0.15", "six hours at 0.01 and 0.09 of bandwidth");
    const { body } = await t.admin.get(`/api/v1/admin/accounts/${api.accountId}/`);
    assert.deepEqual([body.balance, body.ledger_sum], ["9.85", "9.85"]);
  });

  it("charges nothing for traffic within the allowance", async () => {
    const api = await t.newAccount("10.00");
    const id = await stoppedServer(api);
    for (const gb of [1.5, 2.9, 3.9]) {
      await traffic(id, gb, gb / 2);
      await nextHour();
    }
    assert.deepEqual(await bandwidthEntries(api), []);
    const [server] = (await api.get("/api/v1/account/usage/")).body.servers;
    assert.deepEqual(
      [server.bandwidth_used, server.bandwidth_allowance, server.bandwidth_overage, server.bandwidth],
      [3.9, 4, 0, "0.00"],
    );
  });

  it("settles the traffic once, against the allowance of every hour, when the cycle catches up hours it missed", async () => {
    const api = await t.newAccount("10.00");
    const id = await stoppedServer(api);
    await traffic(id, 0, 5.5);
    clock.advance(3 * HOUR);
    assert.equal((await t.app.engine.billing.runOnce()).charged, 3);
    // Four hours allow 4 GB: 1.5 GB over at 0.03 is 0.045, charged with the hour now is in.
    const hour = await hours(api);
    assert.deepEqual(
      (await bandwidthEntries(api)).map((e) => [e.period_start, e.amount]),
      [[hour[3], "-0.04"]],
    );
  });
});
