import type { Db } from "../database.ts";
import type { PreparedQueries } from "../prepared-queries.ts";
import type { ServerUsageRow } from "../schema.ts";

const USAGE_COLUMNS: (keyof ServerUsageRow)[] = [
  "server_id",
  "cpu_percent",
  "memory_used",
  "disk_used",
  "period",
  "bandwidth_bytes",
  "bandwidth_in_bytes",
  "bandwidth_out_bytes",
  "last_cpu_ns",
  "last_net_bytes",
  "last_net_in_bytes",
  "last_net_out_bytes",
  "sampled_at",
];

/** Ids per `in (…)` list. */
const BATCH = 1000;
/** Rows per insert: thirteen parameters each, well inside both dialects' limits. */
const SAVE_BATCH = 500;

export class UsageRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
  }

  async find(serverId: number): Promise<ServerUsageRow | undefined> {
    return this.#prepared.first(
      this.#db,
      "usage.find",
      (p) => this.#db.selectFrom("server_usage").selectAll().where("server_id", "=", p<number>("serverId")),
      { serverId },
    );
  }

  async save(usage: ServerUsageRow): Promise<void> {
    await this.#prepared.run(
      this.#db,
      "usage.save",
      (p) => {
        const row = Object.fromEntries(USAGE_COLUMNS.map((column) => [column, p(column)])) as ServerUsageRow;
        const { server_id: _, ...rest } = row;
        return this.#db
          .insertInto("server_usage")
          .values(row)
          .onConflict((oc) => oc.column("server_id").doUpdateSet(rest));
      },
      { ...usage },
    );
  }

  /** The usage rows of these servers, in one query per thousand (a host's report names all its machines). */
  async findMany(serverIds: readonly number[]): Promise<ServerUsageRow[]> {
    const rows: ServerUsageRow[] = [];
    for (let i = 0; i < serverIds.length; i += BATCH) {
      const ids = serverIds.slice(i, i + BATCH);
      rows.push(
        ...(await this.#db.selectFrom("server_usage").selectAll().where("server_id", "in", ids).execute()),
      );
    }
    return rows;
  }

  /** Saves many servers' usage in one statement per few hundred rows: a report's usage costs a round trip, not one per machine. */
  async saveMany(usages: readonly ServerUsageRow[]): Promise<void> {
    const rows = usages.map((u) => Object.fromEntries(USAGE_COLUMNS.map((c) => [c, u[c]])) as ServerUsageRow);
    for (let i = 0; i < rows.length; i += SAVE_BATCH) {
      await this.#db
        .insertInto("server_usage")
        .values(rows.slice(i, i + SAVE_BATCH))
        .onConflict((oc) =>
          oc.column("server_id").doUpdateSet((eb) => ({
            cpu_percent: eb.ref("excluded.cpu_percent"),
            memory_used: eb.ref("excluded.memory_used"),
            disk_used: eb.ref("excluded.disk_used"),
            period: eb.ref("excluded.period"),
            bandwidth_bytes: eb.ref("excluded.bandwidth_bytes"),
            bandwidth_in_bytes: eb.ref("excluded.bandwidth_in_bytes"),
            bandwidth_out_bytes: eb.ref("excluded.bandwidth_out_bytes"),
            last_cpu_ns: eb.ref("excluded.last_cpu_ns"),
            last_net_bytes: eb.ref("excluded.last_net_bytes"),
            last_net_in_bytes: eb.ref("excluded.last_net_in_bytes"),
            last_net_out_bytes: eb.ref("excluded.last_net_out_bytes"),
            sampled_at: eb.ref("excluded.sampled_at"),
          })),
        )
        .execute();
    }
  }

  async delete(serverId: number): Promise<void> {
    await this.#db.deleteFrom("server_usage").where("server_id", "=", serverId).execute();
  }
}
