import type { Db } from "../database.ts";
import type { ConsoleTicketRow } from "../schema.ts";

/** Console tickets and grants (migration 0020): issued with their digest, spent once by deleting them. */
export class ConsoleTicketRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Stores a new one and sweeps those expired by `now`, so the table holds only live ones. */
  async issue(row: ConsoleTicketRow, now: string): Promise<void> {
    await this.#db.deleteFrom("console_tickets").where("expires_at", "<=", now).execute();
    await this.#db.insertInto("console_tickets").values(row).execute();
  }

  /**
   * Spends a ticket or grant: one DELETE, so of two uses only one gets the row. An expired one is spent too
   * but answered undefined, like an unknown one.
   */
  async spend(
    kind: ConsoleTicketRow["kind"],
    tokenHash: string,
    now: string,
  ): Promise<ConsoleTicketRow | undefined> {
    const row = await this.#db
      .deleteFrom("console_tickets")
      .where("token_hash", "=", tokenHash)
      .where("kind", "=", kind)
      .returningAll()
      .executeTakeFirst();
    return row && row.expires_at > now ? row : undefined;
  }
}
