import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { openDatabase } from "../../src/db/database.ts";
import { expectError } from "../api/expect-error.ts";
import { billingCycleOn } from "../support/billing-cycle-on.ts";
import { type Client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const HOUR = 3_600_000;
const cents = (money: string) => Math.round(Number(money) * 100);

interface Entry {
  kind: string;
  amount: string;
  server_id: number | null;
  plan_id: number | null;
  period_start: string | null;
  reason: string | null;
}

describe("the ledger: every change of a balance, each hour once, within the monthly cap", () => {
  // Each test has a service of its own on a clock that starts at midnight of the 2nd of next month (UTC), so
  // that its hours stay in one calendar month until it moves them on.
  let t: TestApp;
  let clock: SettableClock;
  let monthStartMs: number;
  beforeEach(async () => {
    clock = new SettableClock();
    const now = new Date();
    monthStartMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    clock.advance(monthStartMs + 24 * HOUR - now.getTime());
    t = await startTestApp({ VPS_BACKUP_PRICE_PERCENT: "20" }, clock);
  });
  afterEach(() => t.close());

  const entries = async (api: Client, query = ""): Promise<Entry[]> => {
    const res = await api.get(`/api/v1/account/transactions/?page_size=500${query}`);
    assert.equal(res.status, 200);
    return res.body.results;
  };
  const balanceAndSum = async (accountId: number) => {
    const { body } = await t.admin.get(`/api/v1/admin/accounts/${accountId}/`);
    return { balance: body.balance as string, ledger: body.ledger_sum as string };
  };

  it("charges an hour once when the cycle runs twice and when two processes' cycles race", async () => {
    const api = await t.newAccount("50.00");
    const { body } = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false });
    // A second process's billing cycle, with its own connections to the same database (PostgreSQL: SQLite is one
    // process's database).
    const other = t.database.dialect === "postgres" ? await openDatabase(t.database.url) : undefined;
    try {
      const cycle = other
        ? billingCycleOn(other.db, clock, { backupPricePercent: 20, snapshotPriceMinorPerGbMonth: 1 })
        : t.app.engine.billing;
      clock.advance(5 * HOUR);
      const runs = await Promise.all([
        t.app.engine.billing.runOnce(),
        cycle.runOnce(),
        t.app.engine.billing.runOnce(),
        cycle.runOnce(),
      ]);
      assert.equal(
        runs.reduce((sum, run) => sum + run.charged, 0),
        5,
      );
      await Promise.all([t.app.engine.billing.runOnce(), cycle.runOnce()]);
    } finally {
      await other?.close();
    }
    const usage = await entries(api, "&kind=usage");
    assert.equal(usage.length, 6, "the hour paid at create and five more");
    assert.equal(new Set(usage.map((e) => e.period_start)).size, 6, "each a different hour");
    assert.ok(usage.every((e) => e.amount === "-0.03" && e.server_id === body.id && e.plan_id === 1));
    const topups = await entries(api, "&kind=topup");
    assert.deepEqual(
      topups.map((e) => e.amount),
      ["50.00"],
    );
    assert.deepEqual(await balanceAndSum(api.accountId), { balance: "49.82", ledger: "49.82" });
  });

  it("charges no more than the plan's monthly price in a month: the hour that reaches it the remainder, later ones zero", async () => {
    const plan = await t.admin.post("/api/v1/admin/plans/", {
      name: "Capped",
      vcpus: 1,
      memory: 1024,
      storage: 80,
      bandwidth: 100,
      price_hourly: "1.00",
      price_monthly: "3.50",
      locations: ["us-west"],
    });
    assert.equal(plan.status, 201);
    const api = await t.newAccount("50.00");
    const { body } = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, plan_id: plan.body.id });
    clock.advance(5 * HOUR);
    await t.app.engine.billing.runOnce();
    const usage = (await entries(api, "&kind=usage")).reverse();
    assert.deepEqual(
      usage.map((e) => e.amount),
      ["-1.00", "-1.00", "-1.00", "-0.50", "0.00", "0.00"],
    );
    // Backups at 20% have their own cap: 20% of the monthly price, 0.70.
    const backups = (await entries(api, "&kind=backup")).reverse();
    assert.deepEqual(
      backups.map((e) => e.amount),
      ["-0.20", "-0.20", "-0.20", "-0.10", "0.00", "0.00"],
    );
    const month = (await api.get("/api/v1/account/usage/")).body;
    assert.equal(month.month, new Date(monthStartMs).toISOString().slice(0, 7));
    // The sim machine's traffic, whatever a sample found of it, is charged at 0 here (bandwidth-billing.test.ts).
    assert.deepEqual(
      month.servers.map(
        ({ bandwidth_used, bandwidth_overage, ...server }: Record<string, unknown>) => server,
      ),
      [
        {
          server_id: body.id,
          name: SAMPLE_CREATE.name,
          deleted: false,
          plan_id: plan.body.id,
          hours: 6,
          amount: "3.50",
          backups: "0.70",
          // Six hours of a 100 GB plan allow 6 × 100 / 672 GB.
          bandwidth_allowance: 0.892,
          bandwidth: "0.00",
          cap: "3.50",
          projected: "4.20",
        },
      ],
    );
    assert.equal(month.total, "4.20");
    assert.deepEqual(await balanceAndSum(api.accountId), { balance: "45.80", ledger: "45.80" });
  });

  it("bills a resized server's new plan from its next hour, and a deleted one no more", async () => {
    const api = await t.newAccount("50.00");
    const { body } = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false });
    await waitForStatus(api, body.id, "active");
    await api.post(`/api/v1/servers/${body.id}/stop/`);
    await waitForStatus(api, body.id, "stopped");
    const resize = await api.post(`/api/v1/servers/${body.id}/resize/`, { plan_id: 2 });
    assert.equal(resize.status, 200);
    const done = await api.get(`/api/v1/actions/${resize.body.action_id}/?wait=30`);
    assert.equal(done.body.status, "success");
    clock.advance(HOUR);
    await t.app.engine.billing.runOnce();
    const usage = (await entries(api, "&kind=usage")).reverse();
    assert.deepEqual(
      usage.map((e) => [e.plan_id, e.amount]),
      [
        [1, "-0.03"],
        [2, "-0.06"],
      ],
      "the hour paid at create stays the old plan's",
    );
    const month = (await api.get("/api/v1/account/usage/")).body;
    assert.equal(month.servers[0].cap, "40.00", "the cap of the month is its dearest plan's monthly price");

    assert.equal((await api.delete(`/api/v1/servers/${body.id}/`)).status, 204);
    clock.advance(3 * HOUR);
    await t.app.engine.billing.runOnce();
    assert.equal((await entries(api, "&kind=usage")).length, 2, "deletion stops billing at the hour begun");
    const after = (await api.get("/api/v1/account/usage/")).body;
    assert.equal(after.servers[0].deleted, true);
    assert.equal(after.servers[0].projected, "0.09", "a deleted server costs what it cost");
  });

  it("closes each month into a statement on the 1st whose lines add up, and shows an account only its own", async () => {
    const plan = await t.admin.post("/api/v1/admin/plans/", {
      name: "Hundred a month",
      vcpus: 1,
      memory: 1024,
      storage: 80,
      bandwidth: 100,
      price_hourly: "1.00",
      price_monthly: "100.00",
      locations: ["us-west"],
    });
    const api = await t.newAccount("500.00");
    const other = await t.newAccount("10.00");
    const { body } = await api.post("/api/v1/servers/", {
      ...SAMPLE_CREATE,
      plan_id: plan.body.id,
      backups_enabled: false,
    });
    await other.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false });
    // Ten days of the month go by, the cycle charging them: the cap is reached after 100 hours.
    clock.advance(240 * HOUR);
    await t.app.engine.billing.runOnce();
    const month = new Date(monthStartMs).toISOString().slice(0, 7);
    // To the 1st of the month after, 00:30: the month is over but not closed until an hour has passed.
    const firstOfNext = Date.UTC(
      new Date(monthStartMs).getUTCFullYear(),
      new Date(monthStartMs).getUTCMonth() + 1,
      1,
    );
    clock.advance(firstOfNext + HOUR / 2 - clock.now().getTime());
    await t.app.engine.billing.runOnce();
    expectError(await api.get(`/api/v1/account/statements/${month}/`), 404, "not_found");
    clock.advance(HOUR);
    await t.app.engine.billing.runOnce();

    const statement = (await api.get(`/api/v1/account/statements/${month}/`)).body;
    assert.equal(statement.opening_balance, "0.00");
    const lineSum = statement.lines.reduce(
      (sum: number, line: { amount: string }) => sum + cents(line.amount),
      0,
    );
    assert.equal(lineSum, cents(statement.total));
    assert.equal(cents(statement.closing_balance), cents(statement.opening_balance) + cents(statement.total));
    const serverLine = statement.lines.find((l: { server_id: number | null }) => l.server_id === body.id);
    assert.equal(serverLine.amount, "-100.00", "a month of its hours costs its monthly price, no more");
    assert.equal(statement.closing_balance, "400.00");
    assert.ok(
      statement.lines.every(
        (l: { server_id: number | null }) => l.server_id === null || l.server_id === body.id,
      ),
    );
    const listed = (await api.get("/api/v1/account/statements/")).body;
    assert.equal(listed.count, 1);
    assert.deepEqual(listed.results[0], statement);

    // Another run closes nothing again: the statement stays what it was.
    clock.advance(HOUR);
    await t.app.engine.billing.runOnce();
    assert.deepEqual((await api.get(`/api/v1/account/statements/${month}/`)).body, statement);

    const theirs = await entries(other);
    assert.ok(
      theirs.every((e) => e.server_id !== body.id),
      "another account's entries are never shown",
    );
    expectError(await api.get("/api/v1/account/statements/2020-13/"), 404, "not_found");
    for (const account of [api, other]) {
      const { balance, ledger } = await balanceAndSum(account.accountId);
      assert.equal(balance, ledger);
    }
  });

  it("closes every month no process ran through, each closing the next one's opening", async () => {
    const api = await t.newAccount("100.00");
    await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false });
    const first = new Date(monthStartMs);
    const months = [0, 1, 2].map((n) =>
      new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + n, 1)).toISOString().slice(0, 7),
    );
    // Nothing runs until the 2nd of the third month: the first two months end unseen.
    const third = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 2, 2);
    clock.advance(third - clock.now().getTime());
    await t.app.engine.billing.runOnce();

    const listed = (await api.get("/api/v1/account/statements/")).body;
    assert.deepEqual(
      listed.results.map((s: { month: string }) => s.month),
      [months[1], months[0]],
    );
    const [second, firstStatement] = listed.results;
    assert.equal(firstStatement.opening_balance, "0.00");
    assert.equal(firstStatement.closing_balance, "99.97", "the top-up and the hour paid at create");
    assert.equal(second.opening_balance, firstStatement.closing_balance);
    assert.equal(second.total, "0.00", "its hours were charged when a process ran again, in the third month");
    assert.equal(second.closing_balance, second.opening_balance);
    // Another process, or this one again, closes nothing twice.
    await t.app.engine.billing.runOnce();
    assert.deepEqual((await api.get("/api/v1/account/statements/")).body, listed);
  });

  it("records the admin's corrections with their reason, and reports revenue per plan and location", async () => {
    const api = await t.newAccount("50.00");
    await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false });
    const path = `/api/v1/admin/accounts/${api.accountId}/credit/`;
    expectError(await t.admin.post(path, { amount: "-5.00" }), 400, "invalid_input");
    expectError(await t.admin.post(path, { amount: "-5.00", kind: "topup" }), 400, "invalid_input");
    const corrected = await t.admin.post(path, { amount: "-5.00", reason: "Duplicate top-up of the 3rd" });
    assert.equal(corrected.status, 200);
    assert.equal(corrected.body.balance, "44.97");
    const [correction] = await entries(api, "&kind=correction");
    assert.equal(correction?.amount, "-5.00");
    assert.equal(correction?.reason, "Duplicate top-up of the 3rd");
    assert.deepEqual(await balanceAndSum(api.accountId), { balance: "44.97", ledger: "44.97" });

    const since = new Date(monthStartMs).toISOString();
    const until = new Date(clock.now().getTime() + HOUR).toISOString();
    const report = await t.admin.get(`/api/v1/admin/reports/revenue/?start=${since}&end=${until}`);
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.results, [
      { plan_id: 1, plan: "Standard VPS", location: "us-west", amount: "0.03", entries: 1 },
    ]);
    assert.equal(report.body.total, "0.03");
    expectError(
      await t.admin.get(`/api/v1/admin/reports/revenue/?start=${until}&end=${since}`),
      400,
      "invalid_input",
    );
    expectError(
      await t.admin.get("/api/v1/admin/reports/revenue/?start=soon&end=later"),
      400,
      "invalid_input",
    );
    expectError(await api.get("/api/v1/account/transactions/?kind=gift"), 400, "invalid_input");
  });
});
