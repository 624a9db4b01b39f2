import type { Insertable } from "kysely";
import type { Db } from "../database.ts";
import type { ImageConsistency, ImageRow, ImagesTable, ImageType } from "../schema.ts";

export interface ImageFilter {
  type?: ImageType;
  serverId?: number;
}

/** What the store recorded of a complete image. */
export interface StoredImage {
  sizeBytes: number;
  sha256: string;
  consistency: ImageConsistency;
}

/** Backups and snapshots (migration 0018). A deleted image keeps its row, with `deleted_at`, until its bytes are swept. */
export class ImageRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insert(image: Insertable<ImagesTable>): Promise<ImageRow> {
    return this.#db.insertInto("images").values(image).returningAll().executeTakeFirstOrThrow();
  }

  async findById(id: number): Promise<ImageRow | undefined> {
    return this.#db.selectFrom("images").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** The account's image, unless deleted: another account's is not found. */
  async findForAccount(accountId: number, id: number): Promise<ImageRow | undefined> {
    return this.#db
      .selectFrom("images")
      .selectAll()
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
  }

  async list(accountId: number, filter: ImageFilter, limit: number, offset: number): Promise<ImageRow[]> {
    return this.#filtered(accountId, filter)
      .selectAll()
      .orderBy("id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async count(accountId: number, filter: ImageFilter): Promise<number> {
    const row = await this.#filtered(accountId, filter)
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The action that makes the image. */
  async setOperation(id: number, operationId: number): Promise<void> {
    await this.#db.updateTable("images").set({ operation_id: operationId }).where("id", "=", id).execute();
  }

  /** The account's snapshots that count against its limit: available or being made. */
  async countSnapshots(accountId: number): Promise<number> {
    const row = await this.#db
      .selectFrom("images")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("account_id", "=", accountId)
      .where("type", "=", "snapshot")
      .where("status", "<>", "failed")
      .where("deleted_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The image's bytes are complete in the store: it can be restored. Only a `creating` image becomes available. */
  async markAvailable(id: number, stored: StoredImage, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("images")
      .set({
        status: "available",
        size_bytes: stored.sizeBytes,
        sha256: stored.sha256,
        consistency: stored.consistency,
        completed_at: now,
      })
      .where("id", "=", id)
      .where("status", "=", "creating")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markFailed(id: number, errorCode: string, now: string): Promise<void> {
    await this.#db
      .updateTable("images")
      .set({ status: "failed", error_code: errorCode, completed_at: now })
      .where("id", "=", id)
      .where("status", "=", "creating")
      .execute();
  }

  /** Hides the image from the API; its bytes are removed from the store afterwards. False when there was none. */
  async markDeleted(id: number, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("images")
      .set({ deleted_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * The server's available backups beyond the newest `keep` marked deleted, in the caller's transaction: the store
   * keys whose bytes are to be removed.
   */
  async evictBackups(serverId: number, keep: number, now: string): Promise<string[]> {
    const old = await this.#db
      .selectFrom("images")
      .select(["id", "store_key"])
      .where("server_id", "=", serverId)
      .where("type", "=", "backup")
      .where("status", "=", "available")
      .where("deleted_at", "is", null)
      .orderBy("id", "desc")
      .limit(1_000_000)
      .offset(keep)
      .execute();
    return this.#markEachDeleted(old, now);
  }

  /** Every backup of the server, made or being made, marked deleted: the store keys whose bytes are to be removed. */
  async deleteBackupsOf(serverId: number, now: string): Promise<string[]> {
    const all = await this.#db
      .selectFrom("images")
      .select(["id", "store_key"])
      .where("server_id", "=", serverId)
      .where("type", "=", "backup")
      .where("deleted_at", "is", null)
      .execute();
    return this.#markEachDeleted(all, now);
  }

  /** Servers with more than `keep` available backups (after the setting was lowered, say). */
  async serversOverKeep(keep: number, limit: number): Promise<number[]> {
    const rows = await this.#db
      .selectFrom("images")
      .select("server_id")
      .where("type", "=", "backup")
      .where("status", "=", "available")
      .where("deleted_at", "is", null)
      .where("server_id", "is not", null)
      .groupBy("server_id")
      .having((eb) => eb.fn.countAll(), ">", keep)
      .limit(limit)
      .execute();
    return rows.map((row) => row.server_id as number);
  }

  /** Deleted or failed images whose bytes may still be in the store (index images_unpurged). */
  async unpurged(limit: number): Promise<{ id: number; store_key: string }[]> {
    return this.#db
      .selectFrom("images")
      .select(["id", "store_key"])
      .where("purged_at", "is", null)
      .where((eb) => eb.or([eb("deleted_at", "is not", null), eb("status", "=", "failed")]))
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  /** The image's bytes are gone from the store. */
  async markPurged(storeKey: string, now: string): Promise<void> {
    await this.#db
      .updateTable("images")
      .set({ purged_at: now })
      .where("store_key", "=", storeKey)
      .where("purged_at", "is", null)
      .where((eb) => eb.or([eb("deleted_at", "is not", null), eb("status", "=", "failed")]))
      .execute();
  }

  /** Of these store keys, those whose image still wants its bytes (not purged); the others are strays. */
  async keptKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom("images")
      .select("store_key")
      .where("store_key", "in", [...keys])
      .where("purged_at", "is", null)
      .execute();
    return new Set(rows.map((row) => row.store_key));
  }

  async #markEachDeleted(rows: readonly { id: number; store_key: string }[], now: string): Promise<string[]> {
    if (rows.length === 0) return [];
    await this.#db
      .updateTable("images")
      .set({ deleted_at: now })
      .where(
        "id",
        "in",
        rows.map((row) => row.id),
      )
      .where("deleted_at", "is", null)
      .execute();
    return rows.map((row) => row.store_key);
  }

  #filtered(accountId: number, filter: ImageFilter) {
    return this.#db
      .selectFrom("images")
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .$if(filter.type !== undefined, (q) => q.where("type", "=", filter.type as ImageType))
      .$if(filter.serverId !== undefined, (q) => q.where("server_id", "=", filter.serverId as number));
  }
}
