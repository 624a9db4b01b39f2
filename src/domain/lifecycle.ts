import { InvalidState } from "./errors.ts";
import { SERVER_STATUSES, type ServerStatus, type StoredServerStatus } from "./server-status.ts";

// The one table of a server's lifecycle: every kind of operation, where it may start, the status it holds
// the server in while it runs, and where it leaves the server when it ends. Requests, the engine and the
// API all read it.

export const OPERATION_KINDS = [
  "create",
  "start",
  "stop",
  "reboot",
  "delete",
  "suspend",
  "migrate_out",
  "migrate_in",
  "cleanup",
  "snapshot",
  "backup",
  "rebuild",
  "resize",
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
/** How an operation ends: done, or failed for good, or cancelled because its server was deleted meanwhile. */
export type OperationEnd = Exclude<OperationStatus, "pending" | "running">;

export interface KindLifecycle {
  /** The statuses of a live server from which it is queued; none for create, whose server is new. */
  from: readonly StoredServerStatus[];
  /** The status the server holds while the operation is queued and runs. */
  transitional: StoredServerStatus;
  /** Where success leaves the server; the transitional status itself means the status stays as it is. */
  settled: StoredServerStatus;
  /** Where failure for good leaves the server; likewise. */
  failed: StoredServerStatus;
  /** What the request that queued it answers. */
  message: string;
  /** Whether the machine runs once it has succeeded (its usage is sampled at once). */
  comesUp: boolean;
  /**
   * Where the server is put back when the operation gives up waiting for its down host (`host_unavailable`);
   * `migration`: the migration it is a step of is abandoned, and its own rules put the server back as it was on
   * its source; null: it never gives up (a delete or a clean-up waits for the host, where the machine or the copy
   * may still be).
   */
  revert: StoredServerStatus | "migration" | null;
  /** What a customer's actions call it; null: never shown to customers (the provider's housekeeping). */
  command: CustomerCommand | null;
}

/** The commands of a customer's actions: a migration's steps, on two hosts, show as one `migrate`. */
export const CUSTOMER_COMMANDS = [
  "create",
  "start",
  "stop",
  "reboot",
  "delete",
  "suspend",
  "migrate",
  "create_image",
  "backup",
  "rebuild",
  "resize",
] as const;
export type CustomerCommand = (typeof CUSTOMER_COMMANDS)[number];

export const LIFECYCLE = {
  create: {
    from: [],
    transitional: "provisioning",
    settled: "active",
    failed: "error",
    message: "Server is being provisioned. This may take 2-5 minutes.",
    comesUp: true,
    revert: "error",
    command: "create",
  },
  start: {
    from: ["stopped"],
    transitional: "starting",
    settled: "active",
    failed: "error",
    message: "Server is starting",
    comesUp: true,
    revert: "stopped",
    command: "start",
  },
  stop: {
    from: ["active"],
    transitional: "stopping",
    settled: "stopped",
    failed: "error",
    message: "Server is stopping",
    comesUp: false,
    revert: "active",
    command: "stop",
  },
  reboot: {
    from: ["active"],
    transitional: "rebooting",
    settled: "active",
    failed: "error",
    message: "Server is rebooting",
    comesUp: true,
    revert: "active",
    command: "reboot",
  },
  // The server leaves the API when the delete is queued; the operation only destroys its machine.
  delete: {
    from: SERVER_STATUSES,
    transitional: "deleting",
    settled: "deleting",
    failed: "deleting",
    message: "Server is being deleted",
    comesUp: false,
    revert: null,
    command: "delete",
  },
  // Billing suspends the servers of an account in debt; only a running one needs its machine powered off.
  suspend: {
    from: ["active", "stopped"],
    transitional: "suspended",
    settled: "suspended",
    failed: "suspended",
    message: "Server is suspended",
    comesUp: false,
    revert: "suspended",
    command: "suspend",
  },
  // A cold migration (docs/fleet.md, "Drain and cold migration"): its three steps settle through the migration's
  // own rules (engine/migration-settlement.ts), which read where the server came from; the table holds what a
  // request sees. The server is `stopping` while its machine is stopped and its disk made ready, and while the
  // disk is copied unless it ran: then `starting` until it runs on the target. A step whose host stays down
  // abandons the migration: the server never left its source, whose disk the copy only read.
  migrate_out: {
    from: ["active", "stopped", "suspended"],
    transitional: "stopping",
    settled: "stopping",
    failed: "stopping",
    message: "Server is being migrated to another host",
    comesUp: false,
    revert: "migration",
    command: "migrate",
  },
  migrate_in: {
    from: [],
    transitional: "starting",
    settled: "starting",
    failed: "starting",
    message: "Server is being migrated to another host",
    comesUp: false,
    revert: "migration",
    command: "migrate",
  },
  // Destroys a copy left behind by a migration, on the host named by the operation; the server is elsewhere.
  // Never given up, like a delete: the copy may still be there. Not the customer's: it may run after the
  // server's delete, on a host that is no longer the server's.
  cleanup: {
    from: [],
    transitional: "active",
    settled: "active",
    failed: "active",
    message: "A migrated server's old copy is being destroyed",
    comesUp: false,
    revert: null,
    command: null,
  },
  // A copy of the disk into the image store, running or stopped: the server keeps its status (the table's
  // statuses are unused, as for a clean-up), and the operations of a server run one at a time, so a power action
  // asked for meanwhile waits for the copy. Host down: the image fails, the server is as it was.
  snapshot: {
    from: ["active", "stopped"],
    transitional: "active",
    settled: "active",
    failed: "active",
    message: "An image of the server is being made",
    comesUp: false,
    revert: "active",
    command: "create_image",
  },
  // The daily backup (or one asked for): a snapshot that is the server's, kept while backups are on.
  backup: {
    from: ["active", "stopped"],
    transitional: "active",
    settled: "active",
    failed: "active",
    message: "The server is being backed up",
    comesUp: false,
    revert: "active",
    command: "backup",
  },
  // The disk replaced by an image's or a fresh OS's, same id and addresses; the server runs at the end.
  rebuild: {
    from: ["active", "stopped"],
    transitional: "provisioning",
    settled: "active",
    failed: "error",
    message: "Server is being rebuilt",
    comesUp: true,
    revert: "stopped",
    command: "rebuild",
  },
  // Another plan for a stopped server: its disk only grows; it stays stopped.
  resize: {
    from: ["stopped"],
    transitional: "stopped",
    settled: "stopped",
    failed: "stopped",
    message: "Server is being resized",
    comesUp: false,
    revert: "stopped",
    command: "resize",
  },
} as const satisfies Record<OperationKind, KindLifecycle>;

/** What a resize answers when its host lacks room: its action is the migration's, which names the plan. */
export const RESIZE_BY_MIGRATION_MESSAGE =
  "Server is being migrated to a host with room for its new plan, then resized";

/** The kinds that give up waiting for a down host: every one with a status to put back. */
export const GIVING_UP_KINDS: readonly OperationKind[] = OPERATION_KINDS.filter(
  (kind) => LIFECYCLE[kind].revert !== null,
);

/** The kinds a customer never sees among the actions. */
export const HIDDEN_KINDS: readonly OperationKind[] = OPERATION_KINDS.filter(
  (kind) => LIFECYCLE[kind].command === null,
);

export type PowerAction = "start" | "stop" | "reboot";

/** A power action's one starting status and the transitional status it moves the server to. */
export function powerTransition(action: PowerAction): {
  from: ServerStatus;
  to: ServerStatus;
  message: string;
} {
  const { from, transitional, message } = LIFECYCLE[action];
  return { from: from[0], to: transitional, message };
}

/** Statuses of a server whose machine an operation is changing: create and the power actions. */
const BUSY: ReadonlySet<StoredServerStatus> = new Set(
  (["create", "start", "stop", "reboot"] as const).map((kind) => LIFECYCLE[kind].transitional),
);

/** Why `action` cannot run on a server that is in `status`: the contract's 400, with a code naming the reason. */
export function rejectPowerAction(action: PowerAction, status: StoredServerStatus): InvalidState {
  const blocked = rejectBlocked(status);
  if (blocked) return blocked;
  if (action === "start") {
    return new InvalidState("server_already_running", "Server is already running.", status);
  }
  return new InvalidState("server_not_running", "Server is not running.", status);
}

/**
 * Why a `create_image`, `backup`, `rebuild` (from `active` or `stopped`) or `resize` (from `stopped`) cannot run on
 * a server in `status`: the power actions' codes for a suspended, failed or busy server, and for a resize of a
 * running one `server_not_stopped`.
 */
export function rejectDiskAction(
  status: StoredServerStatus,
  action: "create_image" | "backup" | "rebuild" | "resize" = "create_image",
): InvalidState {
  const blocked = rejectBlocked(status);
  if (blocked) return blocked;
  if (action === "resize" && status === "active") {
    return new InvalidState("server_not_stopped", "Stop the server before resizing it.", status);
  }
  return serverBusy(status);
}

function serverBusy(status: StoredServerStatus): InvalidState {
  return new InvalidState(
    "server_busy",
    `Server is busy (${status}); try again when it has finished.`,
    status,
  );
}

/** A suspended, failed or busy server, which no customer action but delete may touch. */
function rejectBlocked(status: StoredServerStatus): InvalidState | undefined {
  if (status === "suspended") {
    return new InvalidState(
      "server_suspended",
      "Server is suspended; add credit to the account first.",
      status,
    );
  }
  if (status === "error") {
    return new InvalidState(
      "server_in_error",
      "Server is in an error state; delete it or contact support.",
      status,
    );
  }
  return BUSY.has(status) ? serverBusy(status) : undefined;
}
