import type { Db } from "../database.ts";
import type { PreparedQueries } from "../prepared-queries.ts";

export interface TokenOwner {
  tokenId: number;
  accountId: number;
  tokenHash: string;
}

export class TokenRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
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
    // Every authenticated request runs this: compiled once.
    const row = await this.#prepared.first(
      this.#db,
      "tokens.findActiveByHash",
      (p) =>
        this.#db
          .selectFrom("api_tokens")
          .select(["id", "account_id", "token_hash"])
          .where("token_hash", "=", p<string>("tokenHash"))
          .where("revoked_at", "is", null),
      { tokenHash },
    );
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
