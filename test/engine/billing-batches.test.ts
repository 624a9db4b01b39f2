import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { billingCycleOn } from "../support/billing-cycle-on.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const HOUR = 3_600_000;
const PER_ACCOUNT = 70;

describe("the billing cycle's batches: many servers' hours in one transaction", () => {
  // A service on a settable clock from midnight of the 2nd of next month (UTC); on PostgreSQL two more processes'
  // cycles (their own connections) race it.
  let t: TestApp;
  let clock: SettableClock;
  let others: OpenDatabase[] = [];
  beforeEach(async () => {
    clock = new SettableClock();
    const now = new Date();
    clock.advance(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 2) - now.getTime());
    t = await startTestApp({ VPS_BACKUP_PRICE_PERCENT: "20", VPS_BILLING_INTERVAL_MS: "86400000" }, clock);
    others = [];
  });
  afterEach(async () => {
    for (const database of others) await database.close();
    await t.close();
  });

  it("charges each hour of hundreds of servers of several accounts once, balances equal to their ledgers, when processes' cycles race", async () => {
    // Three accounts, each with one server made through the API and copies of it written straight into the
    // database, in turns, so that every batch of the cycle holds servers of all three, their ids interleaved.
    const accounts = [
      await t.newAccount("500.00"),
      await t.newAccount("500.00"),
      await t.newAccount("500.00"),
    ];
    const db = t.database.db;
    const models = [];
    for (const [n, api] of accounts.entries()) {
      const res = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: n !== 1 });
      assert.equal(res.status, 201);
      models.push(
        await db.selectFrom("servers").selectAll().where("id", "=", res.body.id).executeTakeFirstOrThrow(),
      );
    }
    for (let copy = 0; copy < PER_ACCOUNT - 1; copy++) {
      for (const { id: _, ...model } of models) {
        await db
          .insertInto("servers")
          .values({ ...model, name: `${model.name}-${copy}` })
          .execute();
      }
    }
    const servers = await db.selectFrom("servers").select(["id", "billed_until"]).execute();
    assert.equal(servers.length, 3 * PER_ACCOUNT);

    const cycles = [t.app.engine.billing];
    if (t.database.dialect === "postgres") {
      for (let n = 0; n < 2; n++) {
        const database = await openDatabase(t.database.url, 4);
        others.push(database);
        cycles.push(
          billingCycleOn(database.db, clock, { backupPricePercent: 20, snapshotPriceMinorPerGbMonth: 0 }),
        );
      }
    }
    let charged = 0;
    for (let round = 0; round < 2; round++) {
      clock.advance(3 * HOUR);
      const runs = await Promise.all([...cycles, ...cycles].map((cycle) => cycle.runOnce()));
      charged += runs.reduce((sum, run) => sum + run.charged, 0);
    }
    assert.equal(charged, 6 * servers.length, "six hours of each server, each charged by one cycle");

    const usage = await db
      .selectFrom("ledger_entries")
      .select(["server_id", "period_start"])
      .where("kind", "=", "usage")
      .execute();
    const hours = new Map<number, Set<string>>();
    for (const entry of usage) {
      const of = hours.get(entry.server_id ?? 0) ?? new Set();
      of.add(entry.period_start ?? "");
      hours.set(entry.server_id ?? 0, of);
    }
    assert.equal(
      usage.length,
      6 * servers.length + 3,
      "the hour of each create and six more of every server",
    );
    for (const { id, billed_until } of servers) {
      const made = models.some((m) => m.id === id);
      assert.equal(hours.get(id)?.size ?? 0, made ? 7 : 6, `server ${id}: each hour once`);
      const after = await db
        .selectFrom("servers")
        .select("billed_until")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      assert.equal(Date.parse(after.billed_until ?? "") - Date.parse(billed_until ?? ""), 6 * HOUR);
    }
    assert.deepEqual(
      await t.app.services.repos.ledger.mismatchedAccounts(10),
      [],
      "balances are their ledgers' sums",
    );
    const backups = await db.selectFrom("ledger_entries").select("id").where("kind", "=", "backup").execute();
    assert.equal(
      backups.length,
      2 * (6 * PER_ACCOUNT + 1),
      "the backup surcharges of the two accounts with backups, each hour once",
    );
    for (const api of accounts) {
      const months = await db
        .selectFrom("server_months")
        .select(["hours"])
        .where("account_id", "=", api.accountId)
        .execute();
      assert.equal(months.length, PER_ACCOUNT);
      assert.equal(
        months.reduce((sum, m) => sum + Number(m.hours), 0),
        6 * PER_ACCOUNT + 1,
        "the months count each hour once",
      );
    }
  });
});
