import { sql } from "kysely";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { PreparedQueries } from "../prepared-queries.ts";

/** The PostgreSQL channel on which a revoked token's id is announced, so every process forgets its verdict. */
export const TOKENS_REVOKED_CHANNEL = "vps_tokens_revoked";

export interface TokenOwner {
  tokenId: number;
  accountId: number;
  tokenHash: string;
}

/** What an account may see of one of its tokens: never the token, nor its digest. */
export interface TokenListing {
  id: number;
  name: string;
  created_at: string;
  revoked_at: string | null;
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

  /** The account's tokens, revoked ones too, newest first. */
  async listForAccount(accountId: number): Promise<TokenListing[]> {
    return this.#db
      .selectFrom("api_tokens")
      .select(["id", "name", "created_at", "revoked_at"])
      .where("account_id", "=", accountId)
      .orderBy("id", "desc")
      .execute();
  }

  async find(accountId: number, tokenId: number): Promise<TokenListing | undefined> {
    return this.#db
      .selectFrom("api_tokens")
      .select(["id", "name", "created_at", "revoked_at"])
      .where("account_id", "=", accountId)
      .where("id", "=", tokenId)
      .executeTakeFirst();
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

  /** On PostgreSQL the revoke is announced in the same statement, so the notice goes out exactly when it commits. */
  async revoke(accountId: number, tokenId: number, now: string): Promise<boolean> {
    const revoke = this.#db
      .updateTable("api_tokens")
      .set({ revoked_at: now })
      .where("id", "=", tokenId)
      .where("account_id", "=", accountId)
      .where("revoked_at", "is", null);
    if (dialectName(this.#db) === "postgres") {
      const announced = await this.#db
        .with("revoked", () => revoke.returning("id"))
        .selectFrom("revoked")
        .select(sql<string>`pg_notify(${TOKENS_REVOKED_CHANNEL}, revoked.id::text)`.as("notified"))
        .execute();
      return announced.length > 0;
    }
    const result = await revoke.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
