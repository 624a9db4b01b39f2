import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import { snapshotHourMinor } from "../domain/backup-prices.ts";
import { trafficToSettle } from "../domain/bandwidth.ts";
import { HOUR_MS, hourAfter } from "../domain/billing.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { ledgerKeys, monthOf, monthStart, nextMonth, previousMonth } from "../domain/ledger.ts";
import { LIFECYCLE } from "../domain/lifecycle.ts";
import { chargeServerHours } from "./charge-server-hours.ts";
import { closeStatements } from "./close-statements.ts";
import { noticeLowBalance } from "./low-balance-notice.ts";
import { PeriodicTask } from "./periodic-task.ts";
import type { WorkNotifier } from "./work-notifier.ts";

/**
 * Servers whose hours one transaction charges: a killed process loses at most this many hours' work (rolled back,
 * charged by the next run), and the accounts they belong to wait at most one such transaction.
 */
const SERVERS_PER_TRANSACTION = 100;

export interface BillingCycleOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  notifier: WorkNotifier;
  intervalMs: number;
  maxAttempts: number;
  /** The backup surcharge, percent of the plan's hourly price. */
  backupPricePercent: number;
  snapshotPriceMinorPerGbMonth: number;
  /** The threshold of webhooks' `balance.low` for an account without its own. */
  lowBalanceMinor: number;
  /** Traffic beyond a server's allowance, minor units per GB (10^9 bytes); 0: not charged. */
  bandwidthPriceMinorPerGb: number;
  /** Hears of each run's end: whether it failed, and how long it took. */
  onRun?: (outcome: "succeeded" | "failed", seconds: number) => void;
}

/**
 * Hourly billing. Each server is paid an hour ahead (the first hour at create); when its paid time runs out
 * the cycle charges the next hour of its plan's hourly price, even past zero. An account whose balance that
 * took below zero has its servers suspended: stopped ones at once, running ones through a `suspend` operation
 * that powers the machine off. Suspended servers are not charged; credit that brings the balance back above
 * zero makes them `stopped` again. A server with backups on is charged the backup surcharge with each hour, and
 * each server its traffic beyond the allowance (hour-charges.ts); each
 * available snapshot is charged its storage for each hour that has ended, fenced by its own `billed_until`.
 */
export class BillingCycle {
  readonly #o: BillingCycleOptions;
  readonly #periodic: PeriodicTask;
  /** The last month whose statements this process found all closed: not looked for again. */
  #closedMonth: string | undefined;

  constructor(options: BillingCycleOptions) {
    this.#o = options;
    this.#periodic = new PeriodicTask("billing cycle", options.intervalMs, options.log, () => this.runOnce());
  }

  start(): void {
    this.#periodic.start();
  }

  stop(): Promise<void> {
    return this.#periodic.stop();
  }

  async runOnce(): Promise<{ charged: number; suspended: number }> {
    const started = performance.now();
    let outcome: "succeeded" | "failed" = "failed";
    try {
      const result = await this.#run();
      outcome = "succeeded";
      return result;
    } finally {
      this.#o.onRun?.(outcome, (performance.now() - started) / 1000);
    }
  }

  async #run(): Promise<{ charged: number; suspended: number }> {
    const charged = await this.#chargeDueHours();
    await this.#chargeSnapshots();
    let suspended = 0;
    for (const accountId of await this.#o.repos.billing.accountsToSuspend()) {
      suspended += await this.#suspend(accountId);
    }
    if (suspended > 0) this.#o.notifier.wake();
    await this.#closeStatements();
    return { charged, suspended };
  }

  /**
   * On the 1st, the month before is closed into statements: an hour after it ended, so that a charge another
   * process recorded as it ended has committed. Every earlier month since the ledger's first charge or top-up is
   * closed too where it was not, so a month through which no process ran still gets its statement.
   */
  async #closeStatements(): Promise<void> {
    const now = this.#o.clock.now();
    let month = previousMonth(monthOf(now.toISOString()));
    if (now.getTime() < Date.parse(monthStart(nextMonth(month))) + HOUR_MS) month = previousMonth(month);
    if (month === this.#closedMonth) return;
    const first = await this.#o.repos.ledger.firstActivity();
    if (first !== undefined) {
      for (let m = monthOf(first); m <= month; m = nextMonth(m)) {
        await closeStatements(this.#o.repos, m, now.toISOString());
      }
    }
    this.#closedMonth = month;
  }

  async #chargeDueHours(): Promise<number> {
    const { repos, clock } = this.#o;
    let charged = 0;
    for (;;) {
      const now = isoAt(clock);
      const due = await repos.billing.due(now, 500);
      if (due.length === 0) return charged;
      for (let from = 0; from < due.length; from += SERVERS_PER_TRANSACTION) {
        const hours = due.slice(from, from + SERVERS_PER_TRANSACTION).map((server) => ({
          serverId: server.id,
          accountId: server.account_id,
          currency: server.currency,
          planId: server.plan_id,
          priceHourlyMinor: server.price_hourly_minor,
          priceMonthlyMinor: server.price_monthly_minor,
          backupsEnabled: server.backups_enabled === 1,
          backupPricePercent: this.#o.backupPricePercent,
          bandwidthGb: server.bandwidth_gb,
          bandwidthPriceMinorPerGb: this.#o.bandwidthPriceMinorPerGb,
          trafficBytes: trafficToSettle(
            server.billed_until,
            now,
            server.usage_period,
            server.bandwidth_bytes,
          ),
          hourStart: server.billed_until,
          lowBalanceMinor: this.#o.lowBalanceMinor,
          now,
        }));
        // The hours and their charges commit together; the compare-and-swap on each server's paid time is the
        // cheap guard against a second charge, the ledger entries' unique keys the guarantee.
        charged += (await repos.transaction((tx) => chargeServerHours(tx, hours))).size;
      }
    }
  }

  /** Snapshot storage, in arrears: each hour of an available snapshot once it has ended, once. */
  async #chargeSnapshots(): Promise<number> {
    const { repos, clock, snapshotPriceMinorPerGbMonth: price } = this.#o;
    let charged = 0;
    for (;;) {
      const now = isoAt(clock);
      const due = await repos.billing.snapshotsDue(
        new Date(clock.now().getTime() - HOUR_MS).toISOString(),
        500,
      );
      if (due.length === 0) return charged;
      for (const image of due) {
        const next = hourAfter(image.paid_from);
        const done = await repos.transaction(async (tx) => {
          if (!(await tx.billing.advanceSnapshot(image.id, image.billed_until, next))) return false;
          const amount = snapshotHourMinor(image.size_bytes, price, image.paid_from);
          if (amount === 0) return true;
          const added = await tx.ledger.append({
            account_id: image.account_id,
            kind: "snapshot",
            amount_minor: -amount,
            currency: image.currency,
            key: ledgerKeys.snapshot(image.id, image.paid_from),
            server_id: image.server_id,
            image_id: image.id,
            period_start: image.paid_from,
            period_end: next,
            description: "Snapshot storage, hour",
            created_at: now,
          });
          if (added.account) await noticeLowBalance(tx, added.account, amount, this.#o.lowBalanceMinor, now);
          return added.added;
        });
        if (done) charged++;
      }
    }
  }

  async #suspend(accountId: number): Promise<number> {
    const { repos, clock, maxAttempts } = this.#o;
    const now = isoAt(clock);
    const suspended = await repos.transaction(async (tx) => {
      let count = 0;
      const { from, transitional } = LIFECYCLE.suspend;
      for (const server of await tx.billing.liveServersIn(accountId, from)) {
        if (!(await tx.servers.swapStatus(server.id, server.status, transitional, now))) continue;
        // A stopped machine is off already; only a running one needs the operation that powers it off.
        if (server.status === "active") {
          await tx.operations.insert({ serverId: server.id, accountId, kind: "suspend", maxAttempts, now });
        }
        count++;
      }
      return count;
    });
    if (suspended > 0)
      this.#o.log.warn(
        { account: accountId, servers: suspended },
        "account out of credit; servers suspended",
      );
    return suspended;
  }
}
