import type { Db } from "../src/db/database.ts";
import { hashToken } from "../src/domain/api-token.ts";
import { insertServers } from "../test/support/insert-servers.ts";

export const BENCH_TOKEN = "bench-owner-token-0123456789abcdef";

/**
 * Seeds `total` servers spread over ten accounts straight into the database (the first account, bench-0, has
 * BENCH_TOKEN and holds a tenth of them), half active and half stopped, over the three locations, each with
 * a sim machine in the matching power state. Returns the ids of the bench account's servers.
 */
export async function seedServers(db: Db, total: number): Promise<number[]> {
  const now = new Date().toISOString();
  const accounts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const row = await db
      .insertInto("accounts")
      .values({
        email: `bench-${i}@example.com`,
        balance_minor: 1e9,
        currency: "USD",
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    accounts.push(row.id);
  }
  const first = accounts[0] as number;
  await db
    .insertInto("api_tokens")
    .values({ account_id: first, token_hash: hashToken(BENCH_TOKEN), name: "bench", created_at: now })
    .execute();
  const seeded = await insertServers(db, total, (n) => accounts[n % 10] as number);
  return seeded.filter((s) => s.account_id === first).map((s) => s.id);
}
