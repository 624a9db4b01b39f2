import { sql } from "kysely";
import type { Db } from "../database.ts";

export class RateLimitRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Counts `requests` in the window and returns the window's count so far, in one atomic statement. */
  async hit(tokenId: number, budget: string, windowStart: string, requests: number): Promise<number> {
    const row = await this.#db
      .insertInto("rate_limits")
      .values({ token_id: tokenId, budget, window_start: windowStart, count: requests })
      .onConflict((oc) =>
        oc
          .columns(["token_id", "budget", "window_start"])
          .doUpdateSet({ count: sql`rate_limits.count + ${requests}` }),
      )
      .returning("count")
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async forgetBefore(windowStart: string): Promise<void> {
    await this.#db.deleteFrom("rate_limits").where("window_start", "<", windowStart).execute();
  }

  /** Counts one failed authentication from `address` in the window; returns the window's count, atomically. */
  async countFailure(address: string, windowStart: string): Promise<number> {
    const row = await this.#db
      .insertInto("auth_failures")
      .values({ address, window_start: windowStart, count: 1 })
      .onConflict((oc) =>
        oc.columns(["address", "window_start"]).doUpdateSet({ count: sql`auth_failures.count + 1` }),
      )
      .returning("count")
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async forgetFailuresBefore(windowStart: string): Promise<void> {
    await this.#db.deleteFrom("auth_failures").where("window_start", "<", windowStart).execute();
  }
}
