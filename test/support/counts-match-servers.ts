import assert from "node:assert/strict";
import type { Db } from "../../src/db/database.ts";

/** The counts the triggers keep equal the live servers counted by account, status and location. */
export async function assertCountsMatchServers(db: Db): Promise<void> {
  const counted = await db
    .selectFrom("servers")
    .select(["account_id", "status", "location_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("deleted_at", "is", null)
    .groupBy(["account_id", "status", "location_id"])
    .execute();
  const kept = await db
    .selectFrom("server_counts")
    .select(["account_id", "status", "location_id", "n"])
    .where("n", "!=", 0)
    .execute();
  const key = (r: { account_id: number; status: string; location_id: number; n: number | string }) =>
    `${r.account_id}/${r.status}/${r.location_id}=${Number(r.n)}`;
  assert.deepEqual(kept.map(key).sort(), counted.map(key).sort());
}
