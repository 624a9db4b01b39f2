import type { OperationRow } from "../../db/schema.ts";
import { LIFECYCLE, type OperationStatus } from "../../domain/lifecycle.ts";
import { apiTimestamp } from "./present-server.ts";

/** Operation statuses as actions show them: still going, done, or not done. */
const STATUS: Record<OperationStatus, "running" | "success" | "error"> = {
  pending: "running",
  running: "running",
  succeeded: "success",
  failed: "error",
  cancelled: "error",
};

export function presentAction(op: OperationRow) {
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
    // Coarse on purpose: drivers report no finer progress. Queued 0, under way 50, ended 100.
    progress: status !== "running" ? 100 : op.status === "running" ? 50 : 0,
    started_at: apiTimestamp(op.created_at),
    finished_at: op.finished_at ? apiTimestamp(op.finished_at) : null,
    error,
    server_id: op.server_id,
    attempts: op.attempts,
  };
}
