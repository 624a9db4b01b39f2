import type { FinishedOperation, LeaseHolder } from "../db/repositories/operation-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ImageRow } from "../db/schema.ts";
import { presentAction } from "../domain/action-view.ts";
import { presentImage } from "../domain/image-view.ts";
import { HIDDEN_KINDS, LIFECYCLE, type OperationEnd, type OperationKind } from "../domain/lifecycle.ts";
import type { StoredServerStatus } from "../domain/server-status.ts";
import type { SshEndpoint } from "../drivers/driver.ts";
import type { ClaimedOperation, OperationError, Outcome } from "./host-link.ts";
import { applyMigrationStep, MIGRATION_KINDS, type MigrationStep } from "./migration-settlement.ts";
import { refundCharges } from "./refund-charges.ts";

// What the end of an operation makes of its server, decided on the control-plane side whichever link reports
// the end: the host only says what it observed.

/** What finishing an operation changes, committed in one transaction with the operation's own end. */
export interface Settlement {
  status: OperationEnd;
  /** Compare-and-swap of the server's status, from the transitional status to the settled one. */
  swap?: { from: StoredServerStatus; to: StoredServerStatus };
  /** Where the machine's SSH server is reached now: the endpoint the host reported, else the server's IPv4, port 22. */
  ssh?: { reported: SshEndpoint | null };
  releaseAddresses?: boolean;
  /** Give back what the server was charged: it never ran. */
  refund?: boolean;
  /** A migration's step ended: the migration's own rules move it on, or put the server back on its source. */
  migration?: MigrationStep;
  /** A snapshot or backup ended: its image is available as stored, or (null) failed. */
  imageCopy?: { stored: NonNullable<Outcome["image"]> | null };
  /** A rebuild succeeded: the server's OS is now the one its disk came from. */
  rebuilt?: boolean;
  /** A resize ended: the server takes its new plan (true), or gives back the room claimed for it (false). */
  resized?: boolean;
}

const IMAGE_COPIES: ReadonlySet<OperationKind> = new Set(["snapshot", "backup"]);

type Settled = Pick<ClaimedOperation, "kind" | "serverDeleted">;

/** How an operation whose steps succeeded leaves its server. */
export function successOf(op: Settled, outcome: Outcome): Settlement {
  if (MIGRATION_KINDS.has(op.kind)) {
    // A server deleted meanwhile: the migration is abandoned, and its delete destroys the machine.
    if (op.serverDeleted && op.kind !== "cleanup")
      return { status: "cancelled", migration: { kind: op.kind, ok: false } };
    return {
      status: "succeeded",
      migration: { kind: op.kind, ok: true, disk: outcome.disk ?? null },
      ssh: op.kind === "migrate_in" ? { reported: outcome.ssh ?? null } : undefined,
    };
  }
  if (op.kind === "delete") return { status: "succeeded", releaseAddresses: true };
  if (IMAGE_COPIES.has(op.kind)) {
    // A copy of a server deleted meanwhile was never made: its image fails.
    if (op.serverDeleted) return { status: "cancelled", imageCopy: { stored: null } };
    const stored = outcome.image ?? null;
    return { status: stored ? "succeeded" : "failed", imageCopy: { stored } };
  }
  // A server deleted while this operation waited: the delete operation queued behind it does the rest.
  if (op.serverDeleted) return { status: "cancelled" };
  // The status is `suspended` already; the machine only had to be off.
  if (op.kind === "suspend") return { status: "succeeded" };
  if (op.kind === "resize") return { status: "succeeded", resized: true };
  return {
    status: "succeeded",
    swap: swapTo(op.kind, "settled"),
    ssh: { reported: outcome.ssh ?? null },
    rebuilt: op.kind === "rebuild" || undefined,
  };
}

/** How an operation that can never succeed leaves its server: in its failure status, without the addresses of a machine that never came up. */
export function failureOf(op: Settled): Settlement {
  if (MIGRATION_KINDS.has(op.kind)) return { status: "failed", migration: { kind: op.kind, ok: false } };
  if (IMAGE_COPIES.has(op.kind)) return { status: "failed", imageCopy: { stored: null } };
  const create = op.kind === "create";
  return {
    status: "failed",
    swap: swapTo(op.kind, "failed"),
    releaseAddresses: create,
    refund: create,
    resized: op.kind === "resize" ? false : undefined,
  };
}

/**
 * How an operation that gave up waiting for its down host leaves its server: put back where it came from (the
 * lifecycle's `revert`; a migration's step abandons its migration), a create's charge given back. A create keeps
 * its addresses and room: it may have made the machine before the host went quiet, and only the destroy of its
 * delete frees them.
 */
export function unavailableOf(kind: OperationKind): Settlement {
  const { transitional, revert } = LIFECYCLE[kind];
  // A migration's step: the migration is abandoned, and its rules put the server back on its source.
  if (revert === "migration") return { status: "failed", migration: { kind, ok: false, hostDown: true } };
  const swap = revert === null || revert === transitional ? undefined : { from: transitional, to: revert };
  const imageCopy = IMAGE_COPIES.has(kind) ? { stored: null } : undefined;
  return {
    status: "failed",
    swap,
    refund: kind === "create",
    imageCopy,
    resized: kind === "resize" ? false : undefined,
  };
}

/**
 * Writes the operation's end and its effect on the server, in the caller's transaction, fenced by the lease:
 * false (and nothing written) when `lease` no longer holds the operation.
 */
export async function writeSettlement(
  tx: Repositories,
  op: { id: number; serverId: number } & LeaseHolder,
  settlement: Settlement,
  now: string,
  error?: OperationError,
): Promise<boolean> {
  if (!(await tx.operations.finish(op.id, op, settlement.status, now, error, op.serverId))) return false;
  await applySettlement(tx, op, settlement, now, error);
  return true;
}

/**
 * A plain end: one that changes nothing but its operation, its server's status and its SSH endpoint at the
 * server's own address (a power operation's usual end). A group writes all of its plain ends together.
 */
export interface PlainEnd extends FinishedOperation {
  ownSsh: boolean;
}

/** The end as a plain one, if it is one (a settlement without its swap: the swap is the caller's). */
export function plainEndOf(
  op: { id: number; serverId: number } & LeaseHolder,
  settlement: Settlement,
  now: string,
  error?: OperationError,
): PlainEnd | undefined {
  const { status, ssh } = settlement;
  // Each of these is a write of `applySettlement`'s beyond the plain ones.
  const more =
    settlement.swap ||
    ssh?.reported ||
    settlement.migration ||
    settlement.releaseAddresses ||
    settlement.refund ||
    settlement.imageCopy ||
    settlement.rebuilt ||
    settlement.resized !== undefined;
  if (more) return undefined;
  return {
    id: op.id,
    serverId: op.serverId,
    owner: op.owner,
    attempt: op.attempt,
    status,
    now,
    error,
    ownSsh: ssh !== undefined,
  };
}

/**
 * `writeSettlement` of several plain ends (without their swaps) in one statement per kind of write: the fenced
 * ends, their `action.finished` lookup, their SSH endpoints. Returns the ids of the ends written.
 */
export async function writePlainEnds(tx: Repositories, ends: readonly PlainEnd[]): Promise<Set<number>> {
  const finished = await tx.operations.finishMany(ends);
  const written = ends.filter((end) => finished.has(end.id));
  await tx.webhooks.recordForOperations(written, HIDDEN_KINDS, "action.finished", (id) =>
    actionFinished(tx, id),
  );
  await tx.servers.setSshEndpointsToOwnAddress(
    written.filter((end) => end.ownSsh).map((end) => end.serverId),
  );
  return finished;
}

/** The settlement's effect on the server, once its operation's end is written in the same transaction. */
export async function applySettlement(
  tx: Repositories,
  op: { id: number; serverId: number },
  settlement: Settlement,
  now: string,
  error?: OperationError,
): Promise<void> {
  await recordActionFinished(tx, op.id, now);
  if (settlement.migration) {
    await applyMigrationStep(tx, op, settlement.migration, now, error);
    if (!settlement.migration.ok || !settlement.ssh) return;
    // Moved: the ssh endpoint is the target's, once the migration has put the server there.
  }
  if (settlement.swap)
    await tx.servers.swapStatus(op.serverId, settlement.swap.from, settlement.swap.to, now);
  if (settlement.ssh) {
    // A machine that reports no endpoint is reached at its own address, port 22.
    if (settlement.ssh.reported) await tx.servers.setSshEndpoint(op.serverId, settlement.ssh.reported);
    else await tx.servers.setSshEndpointToOwnAddress(op.serverId);
  }
  if (settlement.releaseAddresses) {
    await tx.addresses.release(op.serverId);
    await tx.hostAllocations.release(op.serverId, now);
    await tx.servers.setSshEndpoint(op.serverId, null);
    await tx.usage.delete(op.serverId);
    await tx.usageHistory.delete(op.serverId);
  }
  if (settlement.refund) await refundCharges(tx, { id: op.id, server_id: op.serverId }, now);
  if (settlement.imageCopy || settlement.rebuilt) await applyImageEnd(tx, op, settlement, now, error);
  if (settlement.resized !== undefined) await settleResize(tx, op, settlement.resized, now);
}

/**
 * Webhooks' `action.finished`, with the action as the API shows it, in the transaction of its end; a migration's
 * steps and other kinds the customer does not see are not told.
 */
async function recordActionFinished(tx: Repositories, operationId: number, now: string): Promise<void> {
  await tx.webhooks.recordForOperation(
    operationId,
    HIDDEN_KINDS,
    "action.finished",
    () => actionFinished(tx, operationId),
    now,
  );
}

/** The body of an operation's `action.finished`: the action as the API shows it, read in the end's transaction. */
async function actionFinished(tx: Repositories, operationId: number): Promise<unknown> {
  const row = await tx.operations.findById(operationId);
  return { action: row ? presentAction(row) : { id: operationId } };
}

/** A copy's image becomes available, or failed; a rebuilt server takes the OS of its new disk. */
async function applyImageEnd(
  tx: Repositories,
  op: { id: number; serverId: number },
  settlement: Settlement,
  now: string,
  error?: OperationError,
): Promise<void> {
  const row = await tx.operations.findById(op.id);
  const image = row?.image_id ? await tx.images.findById(row.image_id) : undefined;
  if (settlement.imageCopy && image) {
    const { stored } = settlement.imageCopy;
    if (stored) {
      await tx.images.markAvailable(
        image.id,
        { sizeBytes: stored.size, sha256: stored.sha256, consistency: stored.consistency },
        now,
      );
      await recordBackupFinished(tx, image, now);
    } else {
      const code = error?.code ?? (settlement.status === "cancelled" ? "server_deleted" : "failed");
      await tx.images.markFailed(image.id, code, now);
      await recordBackupFinished(tx, image, now);
    }
  }
  const osId = row?.os_id ?? image?.os_id;
  if (settlement.rebuilt && osId !== undefined) await tx.servers.setOs(op.serverId, osId);
}

/** Webhooks' `backup.finished`, once a backup (not a snapshot) is available or failed, read back as it now is. */
async function recordBackupFinished(tx: Repositories, image: ImageRow, now: string): Promise<void> {
  if (image.type !== "backup") return;
  await tx.webhooks.record(
    image.account_id,
    "backup.finished",
    async () => ({ image: presentImage((await tx.images.findById(image.id)) ?? image) }),
    now,
  );
}

/**
 * A resize's end: on success the server bills and shows its new plan from now on; otherwise its allocation goes
 * back to its plan's sizes, giving back the room claimed for the new one.
 */
async function settleResize(
  tx: Repositories,
  op: { id: number; serverId: number },
  ok: boolean,
  now: string,
): Promise<void> {
  const planId = (await tx.operations.findById(op.id))?.plan_id ?? null;
  if (ok && planId !== null) return tx.servers.setPlan(op.serverId, planId, now);
  const server = await tx.servers.findById(op.serverId);
  const plan = server && (await tx.catalogue.findPlan(server.plan_id));
  if (!plan) return;
  await tx.hostAllocations.resize(
    op.serverId,
    { vcpus: plan.vcpus, memory_mb: plan.memory_mb, disk_gb: plan.storage_gb },
    now,
  );
}

/** The status change the operation's end makes, from its transitional status; none where the table keeps it. */
function swapTo(kind: OperationKind, end: "settled" | "failed"): Settlement["swap"] {
  const lifecycle = LIFECYCLE[kind];
  const to = lifecycle[end];
  return to === lifecycle.transitional ? undefined : { from: lifecycle.transitional, to };
}
