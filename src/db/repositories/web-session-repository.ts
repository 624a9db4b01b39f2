import type { Db } from "../database.ts";
import type { WebSessionRow } from "../schema.ts";

export class WebSessionRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insert(row: WebSessionRow): Promise<void> {
    await this.#db.insertInto("web_sessions").values(row).execute();
  }

  /** The session, unless it has expired or been idle since before `idleSince`. */
  async findLive(idHash: string, now: string, idleSince: string): Promise<WebSessionRow | undefined> {
    return this.#db
      .selectFrom("web_sessions")
      .selectAll()
      .where("id_hash", "=", idHash)
      .where("expires_at", ">", now)
      .where("last_seen_at", ">", idleSince)
      .executeTakeFirst();
  }

  async touch(idHash: string, now: string): Promise<void> {
    await this.#db
      .updateTable("web_sessions")
      .set({ last_seen_at: now })
      .where("id_hash", "=", idHash)
      .execute();
  }

  async listLive(accountId: number, now: string, idleSince: string): Promise<WebSessionRow[]> {
    return this.#db
      .selectFrom("web_sessions")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("expires_at", ">", now)
      .where("last_seen_at", ">", idleSince)
      .orderBy("last_seen_at", "desc")
      .execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.#db.deleteFrom("web_sessions").where("id_hash", "=", idHash).execute();
  }

  async deleteForAccount(accountId: number): Promise<void> {
    await this.#db.deleteFrom("web_sessions").where("account_id", "=", accountId).execute();
  }

  async deleteDead(now: string, idleSince: string): Promise<void> {
    await this.#db
      .deleteFrom("web_sessions")
      .where((eb) => eb.or([eb("expires_at", "<=", now), eb("last_seen_at", "<=", idleSince)]))
      .execute();
  }
}
