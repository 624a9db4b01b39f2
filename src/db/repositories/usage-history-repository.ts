import { sql } from "kysely";
import { HOUR_S, type UsageBucket } from "../../domain/usage-history.ts";
import type { Db } from "../database.ts";
import type { UsageMinuteRow } from "../schema.ts";

/** Rows per insert: ten parameters each, well inside both dialects' limits. */
const SAVE_BATCH = 500;

/** The usage history's minutes and hours (see domain/usage-history.ts). */
export class UsageHistoryRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Folds samples into their minutes, one statement per few hundred servers. A sample no newer than the minute's
   * newest (a repeat) is ignored, so writing the same samples twice changes nothing.
   */
  async record(minutes: readonly UsageMinuteRow[]): Promise<void> {
    for (let i = 0; i < minutes.length; i += SAVE_BATCH) {
      await this.#db
        .insertInto("usage_minutes")
        .values(minutes.slice(i, i + SAVE_BATCH))
        .onConflict((oc) =>
          oc
            .columns(["server_id", "at"])
            .doUpdateSet((eb) => ({
              samples: sql`usage_minutes.samples + excluded.samples`,
              cpu_sum: sql`usage_minutes.cpu_sum + excluded.cpu_sum`,
              memory_sum: sql`usage_minutes.memory_sum + excluded.memory_sum`,
              disk_max: sql`case when excluded.disk_max > usage_minutes.disk_max then excluded.disk_max else usage_minutes.disk_max end`,
              net_bytes: sql`usage_minutes.net_bytes + excluded.net_bytes`,
              net_in_bytes: sql`usage_minutes.net_in_bytes + excluded.net_in_bytes`,
              net_out_bytes: sql`usage_minutes.net_out_bytes + excluded.net_out_bytes`,
              last_sample_ms: eb.ref("excluded.last_sample_ms"),
            }))
            .where("usage_minutes.last_sample_ms", "<", (eb) => eb.ref("excluded.last_sample_ms")),
        )
        .execute();
    }
  }

  /**
   * Sets every server's hours in [from, to) to the sum of their minutes: a rerun, or another process running it
   * at once, writes the same rows again rather than adding to them.
   */
  async rollUpHours(from: number, to: number): Promise<number> {
    const hour = sql<number>`at - at % ${sql.lit(HOUR_S)}`;
    const result = await this.#db
      .insertInto("usage_hours")
      .columns([
        "server_id",
        "at",
        "samples",
        "cpu_sum",
        "memory_sum",
        "disk_max",
        "net_bytes",
        "net_in_bytes",
        "net_out_bytes",
      ])
      .expression((eb) =>
        eb
          .selectFrom("usage_minutes")
          .select((s) => [
            "server_id",
            hour.as("hour"),
            s.fn.sum("samples").as("samples"),
            s.fn.sum("cpu_sum").as("cpu_sum"),
            s.fn.sum("memory_sum").as("memory_sum"),
            s.fn.max("disk_max").as("disk_max"),
            s.fn.sum("net_bytes").as("net_bytes"),
            s.fn.sum("net_in_bytes").as("net_in_bytes"),
            s.fn.sum("net_out_bytes").as("net_out_bytes"),
          ])
          .where("at", ">=", from)
          .where("at", "<", to)
          .groupBy(["server_id", hour]),
      )
      .onConflict((oc) =>
        oc.columns(["server_id", "at"]).doUpdateSet((eb) => ({
          samples: eb.ref("excluded.samples"),
          cpu_sum: eb.ref("excluded.cpu_sum"),
          memory_sum: eb.ref("excluded.memory_sum"),
          disk_max: eb.ref("excluded.disk_max"),
          net_bytes: eb.ref("excluded.net_bytes"),
          net_in_bytes: eb.ref("excluded.net_in_bytes"),
          net_out_bytes: eb.ref("excluded.net_out_bytes"),
        })),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }

  /** A server's minutes or hours in [from, to), oldest first. */
  async series(
    serverId: number,
    resolution: "minute" | "hour",
    from: number,
    to: number,
  ): Promise<UsageBucket[]> {
    const rows = await this.#db
      .selectFrom(resolution === "minute" ? "usage_minutes" : "usage_hours")
      .select([
        "at",
        "samples",
        "cpu_sum",
        "memory_sum",
        "disk_max",
        "net_bytes",
        "net_in_bytes",
        "net_out_bytes",
      ])
      .where("server_id", "=", serverId)
      .where("at", ">=", from)
      .where("at", "<", to)
      .orderBy("at")
      .execute();
    return rows.map((r) => ({
      at: Number(r.at),
      samples: Number(r.samples),
      cpuSum: Number(r.cpu_sum),
      memorySum: Number(r.memory_sum),
      diskMax: Number(r.disk_max),
      netBytes: Number(r.net_bytes),
      netInBytes: Number(r.net_in_bytes),
      netOutBytes: Number(r.net_out_bytes),
    }));
  }

  /** Drops the minutes before `minute` and the hours before `hour`; how many rows went. */
  async prune(minute: number, hour: number): Promise<number> {
    const minutes = await this.#db.deleteFrom("usage_minutes").where("at", "<", minute).executeTakeFirst();
    const hours = await this.#db.deleteFrom("usage_hours").where("at", "<", hour).executeTakeFirst();
    return Number(minutes.numDeletedRows) + Number(hours.numDeletedRows);
  }

  async delete(serverId: number): Promise<void> {
    await this.#db.deleteFrom("usage_minutes").where("server_id", "=", serverId).execute();
    await this.#db.deleteFrom("usage_hours").where("server_id", "=", serverId).execute();
  }
}
