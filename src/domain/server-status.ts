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
