import type { Repositories } from "../db/repositories/repositories.ts";

/**
 * The retention rule: of the server's available backups, those beyond the newest `keep` are marked deleted, in
 * the caller's transaction. Their store keys are returned: the caller removes their bytes once the transaction has
 * committed (`purgeImages`), and the backup scheduler's sweep does it for any a crash left.
 */
export function evictOldBackups(
  tx: Repositories,
  serverId: number,
  keep: number,
  now: string,
): Promise<string[]> {
  return tx.images.evictBackups(serverId, keep, now);
}
