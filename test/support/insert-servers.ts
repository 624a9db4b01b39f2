import type { Db } from "../../src/db/database.ts";

/**
 * `total` servers straight into the database, the n-th (named `<prefix>-<n>`, ids in n's order) for the account
 * `owner(n)`: half active and half stopped, over the three locations, each with a sim machine in the matching
 * power state. Much faster than creating them through the API; no operation, address or host is involved.
 */
export async function insertServers(
  db: Db,
  total: number,
  owner: (n: number) => number,
  prefix = "bench",
): Promise<{ id: number; account_id: number }[]> {
  const now = new Date().toISOString();
  const seeded: { id: number; account_id: number }[] = [];
  const batch = 400;
  for (let start = 0; start < total; start += batch) {
    const rows = Array.from({ length: Math.min(batch, total - start) }, (_, k) => {
      const n = start + k;
      return {
        account_id: owner(n),
        name: `${prefix}-${n}`,
        hostname: `${prefix}-${n}.example.com`,
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
      for (const s of ids) seeded.push({ id: s.id, account_id: s.account_id });
    });
  }
  return seeded;
}
