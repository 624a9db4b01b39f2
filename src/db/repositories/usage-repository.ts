import type { Db } from "../database.ts";
import type { ServerUsageRow } from "../schema.ts";

export class UsageRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async find(serverId: number): Promise<ServerUsageRow | undefined> {
    return this.#db
      .selectFrom("server_usage")
      .selectAll()
      .where("server_id", "=", serverId)
      .executeTakeFirst();
  }

  async save(usage: ServerUsageRow): Promise<void> {
    const { server_id, ...rest } = usage;
    await this.#db
      .insertInto("server_usage")
      .values(usage)
      .onConflict((oc) => oc.column("server_id").doUpdateSet(rest))
      .execute();
  }

  async delete(serverId: number): Promise<void> {
    await this.#db.deleteFrom("server_usage").where("server_id", "=", serverId).execute();
  }
}
