import { sql } from "kysely";
import type { Db } from "../database.ts";

export class RateLimitRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Counts one request in the window and returns the window's count so far, in one atomic statement. */
  async hit(tokenId: number, budget: string, windowStart: string): Promise<number> {
    const row = await this.#db
      .insertInto("rate_limits")
      .values({ token_id: tokenId, budget, window_start: windowStart, count: 1 })
      .onConflict((oc) =>
        oc.columns(["token_id", "budget", "window_start"]).doUpdateSet({ count: sql`rate_limits.count + 1` }),
      )
      .returning("count")
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async forgetBefore(windowStart: string): Promise<void> {
    await this.#db.deleteFrom("rate_limits").where("window_start", "<", windowStart).execute();
  }
}
