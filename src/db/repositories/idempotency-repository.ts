import type { Db } from "../database.ts";
import type { IdempotencyKeyRow } from "../schema.ts";

export class IdempotencyRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Claims the key for a first request; false when a request already holds it. */
  async claim(accountId: number, key: string, requestHash: string, now: string): Promise<boolean> {
    const result = await this.#db
      .insertInto("idempotency_keys")
      .values({ account_id: accountId, key, request_hash: requestHash, state: "started", created_at: now })
      .onConflict((oc) => oc.columns(["account_id", "key"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async find(accountId: number, key: string): Promise<IdempotencyKeyRow | undefined> {
    return this.#db
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("key", "=", key)
      .executeTakeFirst();
  }

  /** Records, in the work's own transaction, what the work created. */
  async attach(accountId: number, key: string, serverId: number, actionId: number): Promise<void> {
    await this.#db
      .updateTable("idempotency_keys")
      .set({ server_id: serverId, action_id: actionId })
      .where("account_id", "=", accountId)
      .where("key", "=", key)
      .execute();
  }

  async complete(
    accountId: number,
    key: string,
    status: number,
    body: string,
    headers: string,
  ): Promise<void> {
    await this.#db
      .updateTable("idempotency_keys")
      .set({ state: "done", status_code: status, response_body: body, response_headers: headers })
      .where("account_id", "=", accountId)
      .where("key", "=", key)
      .execute();
  }

  /** Lets the key be used again: the first request failed in a way worth retrying, or it expired. */
  async release(accountId: number, key: string, createdBefore?: string): Promise<void> {
    let query = this.#db
      .deleteFrom("idempotency_keys")
      .where("account_id", "=", accountId)
      .where("key", "=", key);
    if (createdBefore !== undefined) query = query.where("created_at", "<", createdBefore);
    await query.execute();
  }

  /** Forgets every key created before `createdBefore`: the expired ones. */
  async forgetBefore(createdBefore: string): Promise<void> {
    await this.#db.deleteFrom("idempotency_keys").where("created_at", "<", createdBefore).execute();
  }

  /** Takes over a key whose first request died before its work committed. */
  async restart(accountId: number, key: string, seenCreatedAt: string, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("idempotency_keys")
      .set({ created_at: now })
      .where("account_id", "=", accountId)
      .where("key", "=", key)
      .where("state", "=", "started")
      .where("action_id", "is", null)
      .where("created_at", "=", seenCreatedAt)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
