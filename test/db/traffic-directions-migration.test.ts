import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { up } from "../../src/db/migrations/0026-traffic-directions.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { recordUsage } from "../../src/engine/power-observation.ts";
import { suiteDatabase } from "../support/test-database.ts";

describe("migration 0026: traffic in each direction", () => {
  const suite = suiteDatabase();

  it("keeps a month's bandwidth counted before it, and counts none of a running machine's traffic again", async () => {
    const { db } = suite.database;
    // The database as it was before 0026: one counter of both directions.
    for (const column of [
      "bandwidth_in_bytes",
      "bandwidth_out_bytes",
      "last_net_in_bytes",
      "last_net_out_bytes",
    ])
      await sql`alter table server_usage drop column ${sql.ref(column)}`.execute(db);
    for (const table of ["usage_minutes", "usage_hours"])
      for (const column of ["net_in_bytes", "net_out_bytes"])
        await sql`alter table ${sql.table(table)} drop column ${sql.ref(column)}`.execute(db);
    for (const column of ["net_in_before", "net_out_before"])
      await sql`alter table sim_machines drop column ${sql.ref(column)}`.execute(db);
    const now = new Date();
    const period = now.toISOString().slice(0, 7);
    await sql`insert into server_usage (server_id, cpu_percent, memory_used, disk_used, period, bandwidth_bytes,
      last_cpu_ns, last_net_bytes, sampled_at)
      values (77, 0, 100, 1, ${period}, 9000000000, 0, 9000000000, ${now.toISOString()})`.execute(db);

    await up(db);

    const repos = new Repositories(db);
    const clock = { now: () => new Date(now.getTime() + 10_000) };
    // The machine's counters since its boot: 3 GB received and 6 GB sent, already in the 9 GB of the month.
    const stats = { cpuTimeNs: 0, memoryUsedMb: 100, diskUsedGb: 1, netInBytes: 3e9, netOutBytes: 6e9 };
    await recordUsage(repos, clock, { id: 77, plan_id: 1 }, stats);
    const first = await repos.usage.find(77);
    assert.deepEqual(
      [first?.bandwidth_bytes, first?.bandwidth_in_bytes, first?.bandwidth_out_bytes].map(Number),
      [9e9, 0, 0],
    );
    // 1 GB more each way from then on: 1 GB in and out this month, 9 GB billable as before (more than either).
    await recordUsage(repos, clock, { id: 77, plan_id: 1 }, { ...stats, netInBytes: 4e9, netOutBytes: 7e9 });
    const second = await repos.usage.find(77);
    assert.deepEqual(
      [second?.bandwidth_bytes, second?.bandwidth_in_bytes, second?.bandwidth_out_bytes].map(Number),
      [9e9, 1e9, 1e9],
    );
  });
});
