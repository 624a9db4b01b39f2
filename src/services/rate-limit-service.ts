import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";

export type Budget = "read" | "write";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends and the budget is whole again. */
  resetSeconds: number;
}

export interface RateLimits {
  /** Requests per window; 0 turns the budget off. */
  reads: number;
  writes: number;
  windowMs: number;
}

/** How often counts made away from the limit are written to the database. */
export const RATE_LIMIT_FLUSH_MS = 100;

/** This process's view of one token's budget in one window. */
interface Tally {
  tokenId: number;
  budget: Budget;
  windowStart: string;
  /** The window's count in the database when this process last wrote to it (every process's requests). */
  known: number;
  /** Requests this process let through and has not written yet. */
  pending: number;
}

/**
 * Per-token budgets in fixed windows, one for reads and one for writes, counted in the database so that every
 * process serving a token sees one count. A request that waits (`?wait=`) costs one read however long it waits.
 *
 * Writing the count on every request made rate limiting the costliest part of a read, so while a budget is far
 * from spent a process counts in memory and writes its counts every RATE_LIMIT_FLUSH_MS or every
 * `margin / 4` requests, whichever comes first. The margin is the last tenth of the budget (at least 20):
 * within it every request is counted in the database before it is answered. What other processes have not
 * written yet is at most `margin / 4` each, so with up to four processes serving one token the limit is exact;
 * with more, a burst can pass it by at most that much per further process. A process that dies loses at
 * most its unwritten counts.
 */
export class RateLimitService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #limits: RateLimits;
  readonly #tallies = new Map<string, Tally>();
  #cleanedWindow = "";
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(repos: Repositories, clock: Clock, limits: RateLimits) {
    this.#repos = repos;
    this.#clock = clock;
    this.#limits = limits;
  }

  /** Whether requests spend this budget at all (a limit of 0 turns it off, and `check` answers null). */
  counts(budget: Budget): boolean {
    return (budget === "read" ? this.#limits.reads : this.#limits.writes) !== 0;
  }

  async check(tokenId: number, budget: Budget): Promise<RateLimitDecision | null> {
    const limit = budget === "read" ? this.#limits.reads : this.#limits.writes;
    if (limit === 0) return null;
    const now = this.#clock.now().getTime();
    const { windowMs } = this.#limits;
    const start = Math.floor(now / windowMs) * windowMs;
    const windowStart = new Date(start).toISOString();
    if (this.#cleanedWindow !== windowStart) {
      // Once per window and process, forget the windows before the last one.
      this.#cleanedWindow = windowStart;
      await this.flush();
      for (const [key, tally] of this.#tallies)
        if (tally.windowStart !== windowStart) this.#tallies.delete(key);
      await this.#repos.rateLimits.forgetBefore(new Date(start - windowMs).toISOString());
    }
    const key = `${tokenId}:${budget}:${windowStart}`;
    let tally = this.#tallies.get(key);
    let count: number;
    const margin = Math.max(20, Math.ceil(limit / 10));
    const chunk = Math.floor(margin / 4);
    if (tally && tally.known + tally.pending + 1 <= limit - margin && tally.pending + 1 < chunk) {
      tally.pending++;
      count = tally.known + tally.pending;
      this.#scheduleFlush();
    } else {
      // A token's first request here, a full chunk, or a request near the limit: counted in the database
      // (with the ones not written yet) before the answer.
      if (!tally) {
        tally = { tokenId, budget, windowStart, known: 0, pending: 0 };
        this.#tallies.set(key, tally);
      }
      count = await this.#write(tally, 1);
    }
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.max(1, Math.ceil((start + windowMs - now) / 1000)),
    };
  }

  /** Writes the counts this process has not written yet; called on a timer and before the process stops. */
  async flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const tally of this.#tallies.values()) {
      // An unreachable database keeps the counts for the next flush.
      if (tally.pending > 0) await this.#write(tally, 0).catch(() => undefined);
    }
  }

  /** Writes the tally's unwritten counts and `more` in one statement; returns the window's count. */
  async #write(tally: Tally, more: number): Promise<number> {
    const unwritten = tally.pending;
    tally.pending = 0;
    try {
      const count = await this.#repos.rateLimits.hit(
        tally.tokenId,
        tally.budget,
        tally.windowStart,
        unwritten + more,
      );
      tally.known = Math.max(tally.known, count);
      return count;
    } catch (err) {
      tally.pending += unwritten;
      throw err;
    }
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => void this.flush(), RATE_LIMIT_FLUSH_MS);
    this.#flushTimer.unref();
  }
}
