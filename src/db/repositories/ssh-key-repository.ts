import type { Insertable } from "kysely";
import type { Db } from "../database.ts";
import type { SshKeyRow, SshKeysTable } from "../schema.ts";

export class SshKeyRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async list(accountId: number): Promise<SshKeyRow[]> {
    return this.#db
      .selectFrom("ssh_keys")
      .selectAll()
      .where("account_id", "=", accountId)
      .orderBy("id")
      .execute();
  }

  async find(accountId: number, id: number): Promise<SshKeyRow | undefined> {
    return this.#db
      .selectFrom("ssh_keys")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
  }

  async findByFingerprint(accountId: number, fingerprint: string): Promise<SshKeyRow | undefined> {
    return this.#db
      .selectFrom("ssh_keys")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("fingerprint", "=", fingerprint)
      .executeTakeFirst();
  }

  async insert(key: Insertable<SshKeysTable>): Promise<SshKeyRow> {
    return this.#db.insertInto("ssh_keys").values(key).returningAll().executeTakeFirstOrThrow();
  }

  async rename(accountId: number, id: number, name: string): Promise<SshKeyRow | undefined> {
    return this.#db
      .updateTable("ssh_keys")
      .set({ name })
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
  }

  /** Servers keep their own copy of the key they were built with; only the reference is cleared. */
  async delete(accountId: number, id: number): Promise<boolean> {
    await this.#db
      .updateTable("servers")
      .set({ ssh_key_id: null })
      .where("account_id", "=", accountId)
      .where("ssh_key_id", "=", id)
      .execute();
    const result = await this.#db
      .deleteFrom("ssh_keys")
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
