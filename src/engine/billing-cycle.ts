import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import { hourAfter } from "../domain/billing.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { LIFECYCLE } from "../domain/lifecycle.ts";
import { PeriodicTask } from "./periodic-task.ts";
import type { WorkNotifier } from "./work-notifier.ts";

export interface BillingCycleOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  notifier: WorkNotifier;
  intervalMs: number;
  maxAttempts: number;
}

/**
 * Hourly billing. Each server is paid an hour ahead (the first hour at create); when its paid time runs out
 * the cycle charges the next hour of its plan's hourly price, even past zero. An account whose balance that
 * took below zero has its servers suspended: stopped ones at once, running ones through a `suspend` operation
 * that powers the machine off. Suspended servers are not charged; credit that brings the balance back above
 * zero makes them `stopped` again.
 */
export class BillingCycle {
  readonly #o: BillingCycleOptions;
  readonly #periodic: PeriodicTask;

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
    const charged = await this.#chargeDueHours();
    let suspended = 0;
    for (const accountId of await this.#o.repos.billing.accountsToSuspend()) {
      suspended += await this.#suspend(accountId);
    }
    if (suspended > 0) this.#o.notifier.wake();
    return { charged, suspended };
  }

  async #chargeDueHours(): Promise<number> {
    const { repos, clock } = this.#o;
    let charged = 0;
    for (;;) {
      const now = isoAt(clock);
      const due = await repos.billing.due(now, 500);
      if (due.length === 0) return charged;
      for (const server of due) {
        const next = hourAfter(server.billed_until);
        // The hour and the charge commit together; the compare-and-swap makes a second charge impossible.
        const done = await repos.transaction(async (tx) => {
          if (!(await tx.billing.advance(server.id, server.billed_until, next))) return false;
          await tx.accounts.addCredit(server.account_id, -server.price_hourly_minor, now);
          return true;
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
