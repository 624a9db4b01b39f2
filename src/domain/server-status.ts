import { InvalidState } from "./errors.ts";

export const SERVER_STATUSES = [
  "provisioning",
  "active",
  "stopping",
  "stopped",
  "starting",
  "rebooting",
  "suspended",
  "error",
] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];
/** Internal status of a server the customer deleted; it is never shown by the API. */
export type StoredServerStatus = ServerStatus | "deleting";

export type PowerAction = "start" | "stop" | "reboot";

/** For each power action: the one status it starts from and the transitional status it moves to. */
export const POWER_TRANSITIONS: Record<
  PowerAction,
  { from: ServerStatus; to: ServerStatus; message: string }
> = {
  start: { from: "stopped", to: "starting", message: "Server is starting" },
  stop: { from: "active", to: "stopping", message: "Server is stopping" },
  reboot: { from: "active", to: "rebooting", message: "Server is rebooting" },
};

/** Where each kind of operation leaves the server when it succeeds. */
export const SETTLED_STATUS = {
  create: "active",
  start: "active",
  stop: "stopped",
  reboot: "active",
} as const satisfies Record<string, ServerStatus>;

const BUSY: ReadonlySet<StoredServerStatus> = new Set(["provisioning", "stopping", "starting", "rebooting"]);

/** Why `action` cannot run on a server that is in `status`: the contract's 400, with a code naming the reason. */
export function rejectPowerAction(action: PowerAction, status: StoredServerStatus): InvalidState {
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
  if (BUSY.has(status)) {
    return new InvalidState(
      "server_busy",
      `Server is busy (${status}); try again when it has finished.`,
      status,
    );
  }
  if (action === "start") {
    return new InvalidState("server_already_running", "Server is already running.", status);
  }
  return new InvalidState("server_not_running", "Server is not running.", status);
}
