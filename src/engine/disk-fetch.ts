import { type DiskImport, DriverError } from "../drivers/driver.ts";
import type { TransferGrant } from "./host-link.ts";

/**
 * Opens the stream of a migrating disk from its source agent with the grant's single-use token. A refusal
 * (the token spent or void) or an unreachable source is transient: the next attempt's claim brings a new token.
 */
export async function fetchDisk(grant: TransferGrant, signal: AbortSignal): Promise<DiskImport> {
  let res: Response;
  try {
    res = await fetch(grant.url, { headers: { Authorization: `Bearer ${grant.token}` }, signal });
  } catch (err) {
    signal.throwIfAborted();
    throw new DriverError("transfer_unreachable", `the source host cannot be reached: ${String(err)}`);
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => "");
    throw new DriverError(
      "transfer_refused",
      `the source host answered ${res.status}: ${text.slice(0, 300)}`,
    );
  }
  return { size: grant.size, sha256: grant.sha256, chunks: res.body };
}
