import type { StoredServerStatus } from "../../domain/server-status.ts";
import type { Db } from "../database.ts";

/** A server whose daily backup is due. */
export interface DueBackup {
  id: number;
  account_id: number;
  os_id: number;
  plan_id: number;
  status: StoredServerStatus;
  backup_next_at: string;
}

/** The daily backup schedule: each server with backups on has the time of its next backup (servers.backup_next_at). */
export class BackupRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Live servers whose backup is due by `now`, the longest overdue first (index servers_backup_due). */
  async due(now: string, limit: number): Promise<DueBackup[]> {
    return this.#db
      .selectFrom("servers")
      .select(["id", "account_id", "os_id", "plan_id", "status", "backup_next_at"])
      .where("backup_next_at", "is not", null)
      .where("backup_next_at", "<=", now)
      .where("deleted_at", "is", null)
      .orderBy("backup_next_at")
      .orderBy("id")
      .limit(limit)
      .$narrowType<{ backup_next_at: string }>()
      .execute();
  }

  /**
   * Moves the server's next backup on from `from` to `next`, by compare-and-swap: of many processes that read
   * the same due time, one moves it, and only that one queues the day's backup. Whether this call moved it.
   */
  async advance(serverId: number, from: string, next: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("servers")
      .set({ backup_next_at: next })
      .where("id", "=", serverId)
      .where("backup_next_at", "=", from)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
