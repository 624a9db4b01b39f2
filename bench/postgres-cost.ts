// What a stretch of load cost PostgreSQL, for one database: its counters in pg_stat_database, the CPU of the
// backends connected to it (read from /proc, so only when PostgreSQL runs on this machine), and the costliest
// statements when pg_stat_statements is loaded (it is not required).
import pg from "pg";
import { cpuSeconds } from "./harness.ts";

const COUNTERS = [
  "xact_commit",
  "xact_rollback",
  "blks_read",
  "blks_hit",
  "tup_returned",
  "tup_fetched",
  "tup_inserted",
  "tup_updated",
  "tup_deleted",
] as const;
type Counter = (typeof COUNTERS)[number];

export interface PostgresSnapshot {
  counters: Record<Counter, number>;
  /** CPU seconds of each backend of the database, by pid. */
  backends: Map<number, number>;
  statements: Map<string, { calls: number; ms: number }> | undefined;
}

export async function postgresSnapshot(databaseUrl: string): Promise<PostgresSnapshot> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("select pg_stat_force_next_flush()").catch(() => undefined);
    await client.query("select pg_stat_clear_snapshot()");
    const row = (
      await client.query(
        `select ${COUNTERS.join(", ")} from pg_stat_database where datname = current_database()`,
      )
    ).rows[0] as Record<Counter, string>;
    const counters = Object.fromEntries(COUNTERS.map((c) => [c, Number(row[c])])) as Record<Counter, number>;
    const pids = (
      await client.query(
        "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
      )
    ).rows.map((r: { pid: number }) => r.pid);
    const backends = new Map<number, number>();
    for (const pid of pids) {
      try {
        backends.set(pid, cpuSeconds(pid));
      } catch {
        // Not on this machine, or gone.
      }
    }
    const statements = await client
      .query(
        `select query, calls, total_exec_time from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())`,
      )
      .then(
        (r) =>
          new Map(
            r.rows.map((s: { query: string; calls: string; total_exec_time: number }) => [
              s.query,
              { calls: Number(s.calls), ms: Number(s.total_exec_time) },
            ]),
          ),
      )
      .catch(() => undefined);
    return { counters, backends, statements };
  } finally {
    await client.end();
  }
}

/** What happened between two snapshots: counters, the backends' CPU seconds, the top statements by time. */
export function postgresCost(
  before: PostgresSnapshot,
  after: PostgresSnapshot,
): { counters: Record<Counter, number>; backendCpuSeconds: number | undefined; top: string[] } {
  const counters = Object.fromEntries(
    COUNTERS.map((c) => [c, after.counters[c] - before.counters[c]]),
  ) as Record<Counter, number>;
  let cpu = 0;
  let seen = 0;
  for (const [pid, seconds] of after.backends) {
    const earlier = before.backends.get(pid);
    if (earlier === undefined) continue;
    cpu += seconds - earlier;
    seen++;
  }
  const top = after.statements
    ? [...after.statements]
        .map(([query, s]) => {
          const b = before.statements?.get(query) ?? { calls: 0, ms: 0 };
          return { query, calls: s.calls - b.calls, ms: s.ms - b.ms };
        })
        .filter((s) => s.calls > 0)
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 8)
        .map((s) => `${s.ms.toFixed(0)} ms, ${s.calls} calls: ${s.query.replace(/\s+/g, " ").slice(0, 140)}`)
    : [];
  return { counters, backendCpuSeconds: seen > 0 ? cpu : undefined, top };
}
