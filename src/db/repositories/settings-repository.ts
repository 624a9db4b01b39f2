import type { Db } from "../database.ts";

export class SettingsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", key)
      .executeTakeFirst();
    return row?.value;
  }

  /** Stores the value unless the key has one; returns whether this call stored it. */
  async setIfAbsent(key: string, value: string): Promise<boolean> {
    const result = await this.#db
      .insertInto("settings")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async set(key: string, value: string): Promise<void> {
    await this.#db
      .insertInto("settings")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
      .execute();
  }

  /**
   * Moves a value forward: stores it unless the key holds a larger one, compared as text (so values are numbers
   * of one length, such as unix seconds). Another process's larger value is never put back.
   */
  async raise(key: string, value: string): Promise<void> {
    if (await this.setIfAbsent(key, value)) return;
    await this.#db
      .updateTable("settings")
      .set({ value })
      .where("key", "=", key)
      .where("value", "<", value)
      .execute();
  }
}
