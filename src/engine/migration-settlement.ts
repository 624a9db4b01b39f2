import type { Repositories } from "../db/repositories/repositories.ts";
import type { MigrationRow } from "../db/schema.ts";
import type { OperationKind } from "../domain/lifecycle.ts";
import type { ExportedDisk, OperationError } from "./host-link.ts";

// What the end of each step of a cold migration does, on the control-plane side, in the transaction that ends
// the step's operation (docs/fleet.md, "Drain and cold migration"). The server moves (its host, its allocation)
// only when the copy in succeeded; any other end leaves it whole on its source.

export const MIGRATION_KINDS: ReadonlySet<OperationKind> = new Set(["migrate_out", "migrate_in", "cleanup"]);

export interface MigrationStep {
  kind: OperationKind;
  /** The step succeeded (false: it failed for good, or its server was deleted meanwhile). */
  ok: boolean;
  /** What a migrate_out exported. */
  disk?: ExportedDisk | null;
  /** It gave up waiting for its down host (`host_unavailable`) rather than failing there. */
  hostDown?: boolean;
}

export async function applyMigrationStep(
  tx: Repositories,
  op: { id: number; serverId: number },
  step: MigrationStep,
  now: string,
  error?: OperationError,
): Promise<void> {
  // A clean-up ends nothing: the move it follows ended already. A copy it could not destroy is logged by its worker.
  if (step.kind === "cleanup") return;
  const migration = await tx.migrations.running(op.serverId);
  if (!migration) return;
  if (!step.ok) return abandon(tx, migration, step, now, error);
  if (step.kind === "migrate_out") {
    if (!step.disk) return abandon(tx, migration, step, now, { code: "disk_missing", message: "no disk" });
    await tx.migrations.recordDisk(migration.id, step.disk.size, step.disk.sha256, now);
    if (migration.was_running === 1) await tx.servers.swapStatus(op.serverId, "stopping", "starting", now);
    await queue(tx, op.serverId, "migrate_in", migration.target_host_id, now);
    return;
  }
  // The copy in succeeded: the server now lives on the target, holding the room claimed there.
  await tx.hostAllocations.release(op.serverId, now);
  await tx.hostAllocations.placeClaimed(op.serverId, migration.target_host_id, amountsOf(migration), now);
  await tx.servers.setHost(op.serverId, migration.target_host_id);
  await tx.migrations.end(migration.id, "succeeded", now);
  if (migration.was_running === 1) await tx.servers.swapStatus(op.serverId, "starting", "active", now);
  else await tx.servers.swapStatus(op.serverId, "stopping", migration.prior_status, now);
  await queue(tx, op.serverId, "cleanup", migration.source_host_id, now);
  // A resize made room by moving: the server holds its new plan's room here; the resize follows.
  if (migration.resize_plan_id !== null) {
    await queue(tx, op.serverId, "resize", null, now, migration.resize_plan_id);
  }
}

/**
 * The migration ends without moving the server: the target's room is given back, a copy the target may hold is
 * destroyed there (when it is up: a clean-up never gives up), and the server is put back as it was on its source
 * (started again if it ran).
 */
async function abandon(
  tx: Repositories,
  migration: MigrationRow,
  step: MigrationStep,
  now: string,
  error?: OperationError,
): Promise<void> {
  await tx.migrations.end(migration.id, "failed", now, error);
  await tx.hostAllocations.unclaim(migration.target_host_id, amountsOf(migration), now);
  // Even for a server deleted meanwhile: its delete destroys only the machine on its source.
  if (step.kind === "migrate_in")
    await queue(tx, migration.server_id, "cleanup", migration.target_host_id, now);
  const server = await tx.servers.findById(migration.server_id);
  if (!server || server.deleted_at !== null) return;
  // A source that stayed down cannot start it: shown as it was, its host's reconciliation starts its machine
  // if the migrate_out had stopped it (a start queued there would itself give up and leave it `stopped`).
  const restart = migration.was_running === 1 && !(step.hostDown && step.kind === "migrate_out");
  if (restart) {
    await tx.servers.swapStatus(server.id, "stopping", "starting", now);
    await queue(tx, server.id, "start", null, now);
  } else {
    await tx.servers.swapStatus(server.id, "stopping", migration.prior_status, now);
  }
}

async function queue(
  tx: Repositories,
  serverId: number,
  kind: OperationKind,
  hostId: number | null,
  now: string,
  planId?: number,
): Promise<void> {
  const server = await tx.servers.findById(serverId);
  if (!server) return;
  await tx.operations.insert({
    serverId,
    accountId: server.account_id,
    kind,
    maxAttempts: MIGRATION_STEP_ATTEMPTS,
    now,
    hostId: hostId ?? undefined,
    planId,
  });
}

/** Each step is retried with backoff this many times before it fails for good. */
const MIGRATION_STEP_ATTEMPTS = 5;

function amountsOf(m: MigrationRow) {
  return { vcpus: m.vcpus, memory_mb: Number(m.memory_mb), disk_gb: Number(m.disk_gb) };
}
