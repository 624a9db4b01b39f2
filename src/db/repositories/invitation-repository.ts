import type { Db } from "../database.ts";

export class InvitationRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insert(tokenHash: string, accountId: number, now: string, expiresAt: string): Promise<void> {
    await this.#db
      .insertInto("account_invitations")
      .values({ token_hash: tokenHash, account_id: accountId, created_at: now, expires_at: expiresAt })
      .execute();
  }

  /** The account of an unused, unexpired invitation, without using it. */
  async findOpen(tokenHash: string, now: string): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom("account_invitations")
      .select("account_id")
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return row?.account_id;
  }

  /** Marks the invitation used and returns its account; undefined when it was used, expired or unknown. */
  async use(tokenHash: string, now: string): Promise<number | undefined> {
    const row = await this.#db
      .updateTable("account_invitations")
      .set({ used_at: now })
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .returning("account_id")
      .executeTakeFirst();
    return row?.account_id;
  }
}
