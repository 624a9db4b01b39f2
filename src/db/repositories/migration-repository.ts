import type { Insertable } from "kysely";
import type { Db } from "../database.ts";
import type { MigrationRow, MigrationsTable } from "../schema.ts";

/** Cold migrations of servers between hosts (migration 0016): at most one running per server. */
export class MigrationRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insert(migration: Insertable<MigrationsTable>): Promise<MigrationRow> {
    return this.#db.insertInto("migrations").values(migration).returningAll().executeTakeFirstOrThrow();
  }

  async findById(id: number): Promise<MigrationRow | undefined> {
    return this.#db.selectFrom("migrations").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** The server's running migration, if any. */
  async running(serverId: number): Promise<MigrationRow | undefined> {
    return this.#db
      .selectFrom("migrations")
      .selectAll()
      .where("server_id", "=", serverId)
      .where("state", "=", "running")
      .executeTakeFirst();
  }

  /** What the source exported: the size and checksum the target verifies. */
  async recordDisk(id: number, bytes: number, checksum: string, now: string): Promise<void> {
    await this.#db
      .updateTable("migrations")
      .set({ disk_bytes: bytes, checksum, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  /** A new single-use transfer token (its digest) for the next copy; the one before it is void. */
  async issueToken(id: number, tokenHash: string, now: string): Promise<void> {
    await this.#db
      .updateTable("migrations")
      .set({ transfer_token_hash: tokenHash, transfer_token_used_at: null, updated_at: now })
      .where("id", "=", id)
      .where("state", "=", "running")
      .execute();
  }

  /**
   * Spends the transfer token of the server's running migration from `sourceHostId`: one conditional UPDATE, so
   * of two uses of one token only one passes. The migration, or undefined for an unknown, spent or void token.
   */
  async spendToken(
    serverId: number,
    sourceHostId: number,
    tokenHash: string,
    now: string,
  ): Promise<MigrationRow | undefined> {
    return this.#db
      .updateTable("migrations")
      .set({ transfer_token_used_at: now, updated_at: now })
      .where("server_id", "=", serverId)
      .where("source_host_id", "=", sourceHostId)
      .where("state", "=", "running")
      .where("transfer_token_hash", "=", tokenHash)
      .where("transfer_token_used_at", "is", null)
      .returningAll()
      .executeTakeFirst();
  }

  /** Ends a running migration; false when it had ended already. */
  async end(
    id: number,
    state: "succeeded" | "failed",
    now: string,
    error?: { code: string; message: string },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable("migrations")
      .set({
        state,
        transfer_token_hash: null,
        finished_at: now,
        updated_at: now,
        error_code: error?.code ?? null,
        error_message: error?.message ?? null,
      })
      .where("id", "=", id)
      .where("state", "=", "running")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The running migrations out of a host. */
  async runningFrom(hostId: number): Promise<MigrationRow[]> {
    return this.#db
      .selectFrom("migrations")
      .selectAll()
      .where("source_host_id", "=", hostId)
      .where("state", "=", "running")
      .execute();
  }
}
