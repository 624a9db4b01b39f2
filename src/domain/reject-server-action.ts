import { InvalidState } from "./errors.ts";
import type { StoredServerStatus } from "./server-status.ts";

/**
 * Why a backup or a resize cannot be taken by a server in `status`: suspended, in error, busy with another change,
 * or (a resize) not stopped.
 */
export function rejectServerAction(action: "backup" | "resize", status: StoredServerStatus): InvalidState {
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
  if (action === "resize" && status === "active") {
    return new InvalidState("server_not_stopped", "Stop the server before resizing it.", status);
  }
  return new InvalidState(
    "server_busy",
    `Server is busy (${status}); try again when it has finished.`,
    status,
  );
}
