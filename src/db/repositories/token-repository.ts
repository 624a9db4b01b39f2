import type { Db } from "../database.ts";

export interface TokenOwner {
  tokenId: number;
  accountId: number;
  tokenHash: string;
}

export class TokenRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insert(accountId: number, tokenHash: string, name: string, now: string): Promise<number> {
    const row = await this.#db
      .insertInto("api_tokens")
      .values({ account_id: accountId, token_hash: tokenHash, name, created_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async findActiveByHash(tokenHash: string): Promise<TokenOwner | undefined> {
    const row = await this.#db
      .selectFrom("api_tokens")
      .select(["id", "account_id", "token_hash"])
      .where("token_hash", "=", tokenHash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return row && { tokenId: row.id, accountId: row.account_id, tokenHash: row.token_hash };
  }

  async revoke(accountId: number, tokenId: number, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("api_tokens")
      .set({ revoked_at: now })
      .where("id", "=", tokenId)
      .where("account_id", "=", accountId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
