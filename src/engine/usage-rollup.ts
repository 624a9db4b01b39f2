import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import { floorTo, HOUR_S, MINUTE_S, retainedSince } from "../domain/usage-history.ts";
import { PeriodicTask } from "./periodic-task.ts";

/** Hours rolled up so far (unix seconds): the roll-up starts there, so an hour is read once, not every run. */
const ROLLED_UNTIL = "usage_rolled_until";
/** An hour is rolled up this long after it ends, so a sample of its last minute still being written is in. */
const GRACE_S = MINUTE_S;

export interface UsageRollupOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  intervalMs: number;
}

/**
 * The usage history's upkeep: the minutes of every hour that has ended are rolled up into its hour row, and the
 * minutes older than a day and hours older than 31 days are dropped. Any number of processes may run it: an
 * hour's row is set to the sum of its minutes (an upsert), so a rerun or a second process writes the same row.
 */
export class UsageRollup {
  readonly #o: UsageRollupOptions;
  readonly #periodic: PeriodicTask;

  constructor(options: UsageRollupOptions) {
    this.#o = options;
    this.#periodic = new PeriodicTask("usage roll-up", options.intervalMs, options.log, () => this.runOnce());
  }

  start(): void {
    this.#periodic.start();
  }

  stop(): Promise<void> {
    return this.#periodic.stop();
  }

  async runOnce(): Promise<{ hours: number; pruned: number }> {
    const { repos, clock } = this.#o;
    const nowMs = clock.now().getTime();
    // The hours that have ended (and their grace), from where the runs so far got.
    const until = floorTo(Math.floor(nowMs / 1000) - GRACE_S, HOUR_S);
    const from = Number((await repos.settings.get(ROLLED_UNTIL)) ?? 0);
    let hours = 0;
    if (from < until) {
      hours = await repos.usageHistory.rollUpHours(from, until);
      await repos.settings.raise(ROLLED_UNTIL, String(until));
    }
    // Minutes of hours not rolled up yet stay (the roll-up failing, or no process running for a while), so an
    // hour is never rolled up from part of its minutes.
    const kept = retainedSince(nowMs);
    const pruned = await repos.usageHistory.prune(Math.min(kept.minute, Math.max(from, until)), kept.hour);
    return { hours, pruned };
  }
}
