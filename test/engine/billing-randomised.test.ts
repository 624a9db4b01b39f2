import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, it } from "node:test";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { backupCap, monthOf, nextMonth } from "../../src/domain/ledger.ts";
import { billingCycleOn } from "../support/billing-cycle-on.ts";
import { type Client, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { SeededRandom, testSeed } from "../support/seeded-random.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SEED = testSeed(20_300_101);
const BACKUP_PERCENT = 20;
const MAX_LIVE_SERVERS = 4;
const CHILD = join(import.meta.dirname, "..", "support", "billing-cycle-process.ts");
const cents = (money: string) => Math.round(Number(money) * 100);

/** A billing cycle run by a separate process at the time `now`, killed with SIGKILL after `killAfterMs`. */
async function cycleKilledMidway(
  databaseUrl: string,
  now: Date,
  killAfterMs: number,
  alongside: () => Promise<unknown>,
): Promise<{ finished: boolean }> {
  const child: ChildProcess = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      VPS_TEST_NOW: now.toISOString(),
      VPS_BACKUP_PRICE_PERCENT: String(BACKUP_PERCENT),
      VPS_TEST_SNAPSHOT_MINOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  let finished = false;
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        if (line === "running") resolve();
        else finished = true;
      });
      child.on("exit", () => reject(new Error(`the billing process ended before its cycle: ${stderr}`)));
    });
    // The other processes' cycles race it while it is killed.
    const others = alongside();
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    child.kill("SIGKILL");
    await exited;
    await others;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
  return { finished };
}

describe("the ledger under random months of use", () => {
  // The service on a settable clock from midnight of the 2nd of next month (UTC); on PostgreSQL two more billing
  // processes (their own connections) run each cycle with it, and a spawned one is killed in the middle of some.
  let t: TestApp;
  let clock: SettableClock;
  let others: OpenDatabase[] = [];
  let startMs: number;
  beforeEach(async () => {
    clock = new SettableClock();
    const now = new Date();
    startMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 2);
    clock.advance(startMs - now.getTime());
    t = await startTestApp(
      {
        VPS_BACKUP_PRICE_PERCENT: String(BACKUP_PERCENT),
        VPS_SNAPSHOT_PRICE_GB_MONTH: "0.01",
        // Cycles run when the test runs them, after its clock moved, never while it moves it.
        VPS_BILLING_INTERVAL_MS: "86400000",
      },
      clock,
    );
    others = [];
  });
  afterEach(async () => {
    for (const database of others) await database.close();
    await t.close();
  });

  it("keeps balances equal to their ledgers, each hour charged once, months within their caps and statements that add up", async () => {
    const random = new SeededRandom(SEED);
    try {
      await randomMonths(random);
    } catch (err) {
      throw new Error(`seed ${SEED} (VPS_TEST_SEED=${SEED} replays this run): ${(err as Error).message}`, {
        cause: err,
      });
    }
  });

  async function randomMonths(random: SeededRandom): Promise<void> {
    const postgres = t.database.dialect === "postgres";
    const cycles = [t.app.engine.billing];
    if (postgres) {
      for (let n = 0; n < 2; n++) {
        const database = await openDatabase(t.database.url, 4);
        others.push(database);
        cycles.push(
          billingCycleOn(database.db, clock, {
            backupPricePercent: BACKUP_PERCENT,
            snapshotPriceMinorPerGbMonth: 1,
          }),
        );
      }
    }
    const runCycles = () => Promise.all(cycles.map((cycle) => cycle.runOnce()));

    // Plans whose monthly price is reached within days, so caps bind, beside two of the catalogue's.
    const planIds = [1, 2];
    for (const [hourly, monthly] of [
      ["0.50", "20.00"],
      ["1.00", "45.00"],
    ]) {
      const plan = await t.admin.post("/api/v1/admin/plans/", {
        name: `Capped at ${monthly}`,
        vcpus: 1,
        memory: 1024,
        storage: 80,
        bandwidth: 100,
        price_hourly: hourly,
        price_monthly: monthly,
        locations: ["us-west"],
      });
      assert.equal(plan.status, 201);
      planIds.push(plan.body.id);
    }
    const accounts: (Client & { accountId: number })[] = [];
    for (let n = 0; n < 3; n++) accounts.push(await t.newAccount("60.00"));
    const servers: { id: number; api: Client }[] = [];

    const answered = (what: string, res: { status: number; text: string }) => {
      assert.ok(res.status < 500, `${what}: ${res.status} ${res.text}`);
      return res.status < 300;
    };
    const settle = async (api: Client, what: string, res: { status: number; text: string; body: Json }) => {
      if (!answered(what, res) || !res.body?.action_id) return;
      const done = await api.get(`/api/v1/actions/${res.body.action_id}/?wait=30`);
      assert.notEqual(done.body?.status, "running", `${what}: its action did not end`);
    };
    const liveServer = async () => {
      const { id, api } = random.pick(servers);
      const res = await api.get(`/api/v1/servers/${id}/`);
      return res.status === 200 ? { id, api, server: res.body } : undefined;
    };

    const act = async () => {
      const choice = random.int(0, 7);
      if (choice === 0 || servers.length === 0) {
        if (servers.length >= MAX_LIVE_SERVERS) return;
        const api = random.pick(accounts);
        const res = await api.post("/api/v1/servers/", {
          ...SAMPLE_CREATE,
          name: `chaos-${servers.length}-${random.int(0, 1e6)}`,
          plan_id: random.pick(planIds),
          backups_enabled: random.chance(0.5),
        });
        await settle(api, "create", res);
        if (res.status === 201) servers.push({ id: res.body.id, api });
        return;
      }
      if (choice === 1) {
        const api = random.pick(accounts);
        const amount = `${random.int(5, 80)}.${random.int(10, 99)}`;
        answered("top-up", await t.admin.post(`/api/v1/admin/accounts/${api.accountId}/credit/`, { amount }));
        return;
      }
      const live = await liveServer();
      if (!live) return;
      const { id, api, server } = live;
      const path = `/api/v1/servers/${id}/`;
      if (choice === 2) {
        const action = server.status === "active" ? "stop" : "start";
        await settle(api, action, await api.post(`${path}${action}/`));
      } else if (choice === 3) {
        if (server.status === "active") await settle(api, "stop", await api.post(`${path}stop/`));
        const plan = random.pick(planIds.filter((p) => p !== server.plan_id));
        await settle(api, "resize", await api.post(`${path}resize/`, { plan_id: plan }));
      } else if (choice === 4) {
        answered("backups", await api.patch(path, { backups_enabled: !server.backups_enabled }));
      } else if (choice === 5) {
        await settle(api, "snapshot", await api.post(`${path}create_image/`, { name: `snap-${id}` }));
      } else if (choice === 6) {
        answered("delete", await api.delete(path));
        servers.splice(
          servers.findIndex((s) => s.id === id),
          1,
        );
      }
      // 7: nothing happens this time.
    };

    // About three calendar months: the first walked in steps of hours, the second passed with no process running
    // (its statements closed when one runs again), the third walked, ending on the 2nd of the fourth.
    const start = new Date(startMs);
    const monthAt = (n: number) => Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + n, 1);
    const outageFrom = monthAt(0) + 20 * DAY;
    const end = monthAt(3) + DAY;
    let outage = false;
    let kills = 0;
    let killedMidway = 0;
    while (clock.now().getTime() < end) {
      for (let n = random.int(1, 2); n > 0; n--) await act();
      let step = random.int(1, 30) * HOUR + random.int(0, 59) * 60_000;
      if (!outage && clock.now().getTime() + step > outageFrom) {
        outage = true;
        step = monthAt(2) + 2 * DAY + random.int(0, 12) * HOUR - clock.now().getTime();
      }
      clock.advance(Math.min(step, end - clock.now().getTime()));
      // The hosts' heartbeat as it would have come meanwhile: a jump of the clock must not make them look down.
      await t.app.engine.embeddedHosts?.beat();
      // A real billing process killed mid-cycle: always after the outage, when it has a month of hours to charge.
      if (postgres && (step > 5 * DAY || random.chance(0.08))) {
        const run = await cycleKilledMidway(t.database.url, clock.now(), random.int(20, 300), runCycles);
        kills++;
        if (!run.finished) killedMidway++;
      } else {
        await runCycles();
      }
    }
    await runCycles();
    if (postgres) {
      assert.ok(
        kills > 0 && killedMidway > 0,
        `killed ${kills} billing processes, ${killedMidway} mid-cycle`,
      );
    }

    await checkLedger();
    for (const api of accounts)
      await checkStatements(
        api,
        [0, 1, 2].map((n) => monthOf(new Date(monthAt(n)).toISOString())),
      );
  }

  /** Balances, keys, hours and caps, read from the database. */
  async function checkLedger(): Promise<void> {
    const db = t.database.db;
    assert.deepEqual(
      await t.app.services.repos.ledger.mismatchedAccounts(100),
      [],
      "balances are their ledgers' sums",
    );
    const entries = await db.selectFrom("ledger_entries").selectAll().execute();
    assert.equal(new Set(entries.map((e) => e.key)).size, entries.length, "no key twice");
    const hours = new Map<string, number>();
    for (const e of entries.filter((e) => e.kind === "usage")) {
      const hour = `${e.server_id}@${Date.parse(e.period_start ?? "")}`;
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
    }
    assert.deepEqual(
      [...hours].filter(([, n]) => n > 1),
      [],
      "no server's hour charged twice",
    );
    const plans = new Map(
      (await db.selectFrom("plans").select(["id", "price_monthly_minor"]).execute()).map((p) => [
        p.id,
        p.price_monthly_minor,
      ]),
    );
    const months = new Map<string, { cap: number; usage: number; backups: number }>();
    for (const e of entries.filter((e) => e.kind === "usage" || e.kind === "backup")) {
      const key = `${e.server_id} in ${monthOf(e.period_start ?? "")}`;
      const month = months.get(key) ?? { cap: 0, usage: 0, backups: 0 };
      month.cap = Math.max(month.cap, plans.get(e.plan_id ?? 0) ?? 0);
      if (e.kind === "usage") month.usage -= Number(e.amount_minor);
      else month.backups -= Number(e.amount_minor);
      months.set(key, month);
    }
    const over = [...months].filter(
      ([, m]) => m.usage > m.cap || m.backups > backupCap(m.cap, BACKUP_PERCENT),
    );
    assert.deepEqual(over, [], "no server's month costs more than its dearest plan's monthly price");
    assert.ok(
      [...months.values()].some((m) => m.usage === m.cap),
      "some server reached its cap (else the run proved nothing of caps)",
    );
    assert.ok(
      entries.some((e) => e.kind === "usage" && Number(e.amount_minor) === 0),
      "hours past a cap were recorded at zero",
    );
  }

  /** The account's statements: one for each month, lines adding up, each closing the next opening. */
  async function checkStatements(api: Client & { accountId: number }, months: string[]): Promise<void> {
    const listed = (await api.get("/api/v1/account/statements/?page_size=50")).body;
    const statements = [...listed.results].reverse();
    assert.deepEqual(
      statements.map((s: { month: string }) => s.month),
      months,
      `account ${api.accountId}: a statement for each month`,
    );
    let opening = 0;
    for (const s of statements) {
      const lines = s.lines.reduce((sum: number, l: { amount: string }) => sum + cents(l.amount), 0);
      assert.equal(lines, cents(s.total), `${s.month}: its lines add up to its total`);
      assert.equal(cents(s.opening_balance), opening, `${s.month}: it opens where the month before closed`);
      assert.equal(
        cents(s.closing_balance),
        cents(s.opening_balance) + cents(s.total),
        `${s.month}: closing`,
      );
      opening = cents(s.closing_balance);
    }
    // The month after the last statement is still open: the balance is the last closing and what came since.
    const since = `${nextMonth(months.at(-1) ?? "")}-01T00:00:00Z`;
    const open = (await api.get(`/api/v1/account/transactions/?page_size=500&since=${since}`)).body;
    assert.ok(open.count <= 500, "one page holds them");
    const balance = cents((await api.get("/api/v1/account/")).body.balance);
    assert.equal(
      balance,
      opening + open.results.reduce((sum: number, e: { amount: string }) => sum + cents(e.amount), 0),
      "the balance is the last closing plus what was recorded since",
    );
  }
});
