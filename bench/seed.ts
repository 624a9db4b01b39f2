import type { Db } from "../src/db/database.ts";
import { hashToken } from "../src/domain/api-token.ts";

export const BENCH_TOKEN = "bench-owner-token-0123456789abcdef";

/**
 * Seeds `total` servers spread over ten accounts straight into the database (the first account has
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
  const mine: number[] = [];
  const batch = 400;
  for (let start = 0; start < total; start += batch) {
    const rows = Array.from({ length: Math.min(batch, total - start) }, (_, k) => {
      const n = start + k;
      return {
        account_id: accounts[n % 10] as number,
        name: `bench-${n}`,
        hostname: `bench-${n}.example.com`,
        status: n % 2 === 0 ? ("active" as const) : ("stopped" as const),
        plan_id: 1,
        os_id: 5,
        location_id: (n % 3) + 1,
        ssh_key_id: null,
        ssh_public_key: null,
        backups_enabled: 0,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        billed_until: new Date(Date.now() + 3_600_000).toISOString(),
      };
    });
    await db.transaction().execute(async (tx) => {
      const ids = await tx
        .insertInto("servers")
        .values(rows)
        .returning(["id", "account_id", "status"])
        .execute();
      await tx
        .insertInto("sim_machines")
        .values(
          ids.map((s) => ({
            id: String(s.id),
            power: s.status === "active" ? "running" : "stopped",
            vcpus: 2,
            memory_mb: 4096,
            storage_gb: 80,
            boot_count: 1,
            started_at: s.status === "active" ? now : null,
            cpu_ns_before: 0,
            net_bytes_before: 0,
            created_at: now,
          })),
        )
        .execute();
      for (const s of ids) if (s.account_id === first) mine.push(s.id);
    });
  }
  return mine;
}
