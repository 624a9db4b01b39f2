import type { Repositories } from "../db/repositories/repositories.ts";
import { monthOf } from "../domain/ledger.ts";
import { hourCharges, type ServerHour } from "./hour-charges.ts";
import { noticeLowBalance } from "./low-balance-notice.ts";

export type { ServerHour } from "./hour-charges.ts";

/**
 * Charges the server's hour starting at `hourStart` (and its backup surcharge and bandwidth, hour-charges.ts). Runs
 * in the caller's transaction; the entries' keys make a second charge of the hour impossible, and the month's
 * figures move only with a new entry. Returns whether the hour was new. The billing cycle charges many servers'
 * hours at once (charge-server-hours.ts); this is the one of a create.
 */
export async function chargeServerHour(tx: Repositories, hour: ServerHour): Promise<boolean> {
  const sofar = hour.newServer
    ? undefined
    : await tx.ledger.serverMonth(hour.serverId, monthOf(hour.hourStart));
  const charges = hourCharges(hour, sofar);
  const { added, account: afterUsage } = await tx.ledger.append(charges.usage);
  if (!added) return false;
  let account = afterUsage;
  for (const entry of charges.extras) {
    const charged = await tx.ledger.append(entry);
    if (entry.kind === "backup") account = charged.account ?? account;
  }
  await tx.ledger.addToMonth(charges.month);
  if (account) await noticeLowBalance(tx, account, charges.noticedMinor, hour.lowBalanceMinor, hour.now);
  return true;
}
