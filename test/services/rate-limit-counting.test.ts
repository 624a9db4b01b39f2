import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { Clock } from "../../src/domain/clock.ts";
import { RateLimitService } from "../../src/services/rate-limit-service.ts";
import { suiteDatabase } from "../support/test-database.ts";

const HOUR = 3_600_000;
/** Mid-window, so no test crosses into the next one. */
const clock: Clock = { now: () => new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR / 2) };

describe("counting requests against a budget", () => {
  const suite = suiteDatabase();
  let repos: Repositories;
  before(() => {
    repos = new Repositories(suite.database.db);
  });

  const stored = async (tokenId: number) =>
    Number(
      (
        await suite.database.db
          .selectFrom("rate_limits")
          .select("count")
          .where("token_id", "=", tokenId)
          .executeTakeFirst()
      )?.count ?? 0,
    );

  it("counts in memory far from the limit, writing every chunk and on flush", async () => {
    const limits = new RateLimitService(repos, clock, { reads: 1000, writes: 0, windowMs: HOUR });
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) remaining.push((await limits.check(1, "read"))?.remaining ?? -1);
    assert.deepEqual(remaining, [999, 998, 997, 996, 995, 994, 993, 992, 991, 990]);
    assert.equal(await stored(1), 1, "the first request was written; the next nine are in memory");
    await limits.flush();
    assert.equal(await stored(1), 10);
    // The margin is 100, so at most 25 requests go unwritten.
    for (let i = 0; i < 60; i++) await limits.check(1, "read");
    assert.ok((await stored(1)) >= 70 - 24, `written: ${await stored(1)}`);
  });

  it("counts every request in the database near the limit, exactly across processes", async () => {
    // Three processes serving one token, each with its own service over the one database.
    const processes = [1, 2, 3].map(
      () => new RateLimitService(repos, clock, { reads: 100, writes: 0, windowMs: HOUR }),
    );
    let allowed = 0;
    for (let i = 0; i < 150; i++) {
      const decision = await (processes[i % 3] as RateLimitService).check(2, "read");
      if (decision?.allowed) allowed++;
    }
    assert.equal(allowed, 100, "no more and no fewer than the budget");
    for (const process of processes) await process.flush();
    assert.equal(await stored(2), 150);
  });

  it("turns a budget of 0 off", async () => {
    const limits = new RateLimitService(repos, clock, { reads: 0, writes: 0, windowMs: HOUR });
    assert.equal(await limits.check(3, "read"), null);
  });
});
