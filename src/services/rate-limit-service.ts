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

/**
 * Per-token budgets in fixed windows, one for reads and one for writes, counted in the database so that every
 * process serving a token sees one count. A request that waits (`?wait=`) costs one read however long it waits.
 */
export class RateLimitService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #limits: RateLimits;
  #cleanedWindow = "";

  constructor(repos: Repositories, clock: Clock, limits: RateLimits) {
    this.#repos = repos;
    this.#clock = clock;
    this.#limits = limits;
  }

  async check(tokenId: number, budget: Budget): Promise<RateLimitDecision | null> {
    const limit = budget === "read" ? this.#limits.reads : this.#limits.writes;
    if (limit === 0) return null;
    const now = this.#clock.now().getTime();
    const { windowMs } = this.#limits;
    const start = Math.floor(now / windowMs) * windowMs;
    const windowStart = new Date(start).toISOString();
    const count = await this.#repos.rateLimits.hit(tokenId, budget, windowStart);
    if (this.#cleanedWindow !== windowStart) {
      // Once per window and process, forget the windows before the last one.
      this.#cleanedWindow = windowStart;
      await this.#repos.rateLimits.forgetBefore(new Date(start - windowMs).toISOString());
    }
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.max(1, Math.ceil((start + windowMs - now) / 1000)),
    };
  }
}
