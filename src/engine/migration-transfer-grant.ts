import type { Repositories } from "../db/repositories/repositories.ts";
import { hashToken } from "../domain/api-token.ts";
import { generateTransferToken } from "../domain/host-secrets.ts";
import type { OperationError, TransferGrant } from "./host-link.ts";

/**
 * A fresh single-use transfer token for the server's running migration, handed to its target with the claimed
 * migrate_in: only its digest is stored, and issuing it voids the one an earlier attempt held.
 */
export async function transferGrant(
  repos: Repositories,
  serverId: number,
): Promise<TransferGrant | OperationError> {
  const migration = await repos.migrations.running(serverId);
  if (!migration || migration.checksum === null || migration.disk_bytes === null) {
    return { code: "migration_missing", message: "the server has no migration with a disk ready" };
  }
  const source = await repos.hosts.findById(migration.source_host_id);
  if (!source?.transfer_url) {
    return { code: "transfer_unavailable", message: "the source host serves no disks" };
  }
  const token = generateTransferToken();
  await repos.migrations.issueToken(migration.id, hashToken(token), new Date().toISOString());
  return {
    url: `${source.transfer_url}/transfers/${serverId}`,
    token,
    size: Number(migration.disk_bytes),
    sha256: migration.checksum,
    start: migration.was_running === 1,
  };
}
