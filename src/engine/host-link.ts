import type { OperationEnd, OperationKind } from "../domain/lifecycle.ts";
import type { MachineSpec, SshEndpoint } from "../drivers/driver.ts";

// The seam between the worker that drives a host's machines and the control plane that owns the database
// (docs/fleet.md, "The seam: a host link"). Everything that crosses it is plain JSON-able data, so the same
// calls can be made in-process (LocalHostLink) or by a host agent over HTTP.

/** Why an attempt failed, as recorded on the operation. */
export interface OperationError {
  code: string;
  message: string;
}

/** An operation leased to a host, with everything its driver steps need. */
export interface ClaimedOperation {
  id: number;
  kind: OperationKind;
  serverId: number;
  /** This attempt's number, counted by the claim; with `owner`, the lease's identity that fences every call. */
  attempt: number;
  maxAttempts: number;
  /** Who holds the lease. */
  owner: string;
  leaseExpiresAt: string;
  /** The server was deleted while the operation waited: nothing is left to do but (for a delete) destroy. */
  serverDeleted: boolean;
  /** For a create: the machine to make, built on the control-plane side. */
  spec: MachineSpec | null;
  /** Why the operation can never run (a create whose plan, OS or address is gone): it fails for good. */
  unrunnable: OperationError | null;
  /** For a migrate_in: where and how to fetch the disk (its `spec` is the machine to define). */
  transfer?: TransferGrant | null;
  /**
   * For a snapshot or backup: the image to write to the image store. For a create or rebuild from an image: the
   * image to restore (its `spec` is the machine to define). A rebuild without one makes its disk from `spec`'s OS;
   * a resize's `spec` is the machine with its new plan.
   */
  image?: ImageRef | null;
}

/** An image in the image store, as an operation's steps need it. */
export interface ImageRef {
  id: number;
  /** Its key in the image store. */
  key: string;
  /** What the store must hold, for a restore; null for an image being made. */
  size: number | null;
  sha256: string | null;
}

/** What the target of a migration needs to copy the disk from its source. */
export interface TransferGrant {
  /** The source agent's URL of this disk. */
  url: string;
  /** Single-use: the source serves the disk once for it. */
  token: string;
  size: number;
  sha256: string;
  /** The machine ran before the move: start it on the target. */
  start: boolean;
}

/** A disk as a migration's source exported it. */
export interface ExportedDisk {
  size: number;
  sha256: string;
}

/** What the host observed when an operation's steps succeeded. */
export interface Outcome {
  /** Where the driver says the machine's SSH server is reached; null or absent when it has no opinion. */
  ssh?: SshEndpoint | null;
  /** For a migrate_out: the disk made ready for the target. */
  disk?: ExportedDisk | null;
  /** For a snapshot or backup: the image as written to the store. */
  image?: (ExportedDisk & { consistency: "filesystem" | "crash" }) | null;
}

/** How the control plane recorded the end of an attempt. */
export type Recorded =
  | { recorded: true; status: OperationEnd }
  /** Queued to run again, after a backoff. */
  | { recorded: true; status: "pending"; retryAt: string }
  /**
   * The lease is no longer this holder's (taken over, or ended): nothing was changed by this call. `unsure`: an
   * earlier try of the same call may have reached the control plane before the network failed, so the end may
   * be this holder's own.
   */
  | { recorded: false; unsure?: boolean };

export interface HostLink {
  /**
   * Leases up to `limit` due operations of the hosts this link serves; a remote link may wait up to `waitMs` for
   * one, or until `signal` aborts (then it answers none).
   */
  claim(limit: number, waitMs: number, signal?: AbortSignal): Promise<ClaimedOperation[]>;
  /** Renews the lease; false when it was lost and the operation must not go on. */
  extend(op: ClaimedOperation): Promise<boolean>;
  /**
   * Time left, in ms on this process's own clock, to act under the lease as last renewed, less a margin kept to
   * stop a machine in; undefined when the link cannot tell (in-process, the lease and the settlement share one
   * database).
   */
  leaseLeftMs?(op: ClaimedOperation): number | undefined;
  /** The steps succeeded; the control plane settles the server from the lifecycle table. `signal` gives up. */
  succeed(op: ClaimedOperation, outcome: Outcome, signal?: AbortSignal): Promise<Recorded>;
  /** The steps failed; the control plane retries with backoff, or, when `permanent` or out of attempts, settles the failure. */
  fail(op: ClaimedOperation, error: OperationError, permanent: boolean): Promise<Recorded>;
  /** How far the operation's steps are, 0-100, shown on its action; best effort, fenced by the lease like the rest. */
  progress?(op: ClaimedOperation, percent: number): Promise<void>;
  /** Gives back the leases this link still holds (at shutdown), so their operations resume at once elsewhere. */
  release(): Promise<number>;
}
