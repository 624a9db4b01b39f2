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
  "last_cpu_ns",
  "last_net_bytes",
  "sampled_at",
];

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

  async delete(serverId: number): Promise<void> {
    await this.#db.deleteFrom("server_usage").where("server_id", "=", serverId).execute();
  }
}
