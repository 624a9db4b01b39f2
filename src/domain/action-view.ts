import { LIFECYCLE, type OperationKind, type OperationStatus } from "./lifecycle.ts";

// An action as customers see it, in the API and in webhooks' `action.finished`.

/** Operation statuses as actions show them: still going, done, or not done. */
const STATUS: Record<OperationStatus, "running" | "success" | "error"> = {
  pending: "running",
  running: "running",
  succeeded: "success",
  failed: "error",
  cancelled: "error",
};

/** RFC 3339 UTC to the second, as the contract's samples show: 2025-01-16T15:30:00Z. */
export function apiTimestamp(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

/** What an action shows of its operation (an operations row has it). */
export interface ActionFacts {
  id: number;
  kind: OperationKind;
  status: OperationStatus;
  progress: number | null;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  finished_at: string | null;
  server_id: number;
  attempts: number;
  image_id: number | null;
}

export function presentAction(op: ActionFacts) {
  const status = STATUS[op.status];
  const error =
    op.status === "cancelled"
      ? { code: "cancelled", message: "The server was deleted before this action ran." }
      : op.status === "failed"
        ? { code: op.error_code ?? "failed", message: op.error_message ?? "The action failed." }
        : null;
  return {
    id: op.id,
    // A migration's steps on two hosts are one `migrate` to the customer; hidden kinds never reach here.
    command: LIFECYCLE[op.kind].command ?? op.kind,
    status,
    progress: progressOf(op),
    started_at: apiTimestamp(op.created_at),
    finished_at: op.finished_at ? apiTimestamp(op.finished_at) : null,
    error,
    server_id: op.server_id,
    attempts: op.attempts,
    image_id: op.image_id,
  };
}

/**
 * What the driver reported, else coarse: queued 0, under way 50. 100 once succeeded; an action that ended in error
 * shows how far it had got, or null when it reported nothing.
 */
function progressOf(op: ActionFacts): number | null {
  if (op.status === "succeeded") return 100;
  if (op.status === "failed" || op.status === "cancelled") return op.progress;
  return op.progress ?? (op.status === "running" ? 50 : 0);
}
