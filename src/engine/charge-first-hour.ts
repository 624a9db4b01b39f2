import type { Repositories } from "../db/repositories/repositories.ts";
import { hourCharges, type ServerHour } from "./hour-charges.ts";
import { noticeLowBalance } from "./low-balance-notice.ts";

/**
 * A create's first hour (with backups, their surcharge) in two steps, in the caller's transaction: its entries and
 * its month are written now, rows that only this new server's create writes; the returned step moves the balance,
 * which the create runs last, so that the account's row, which every create and charge of the account locks, is
 * held from that UPDATE to the commit and no longer. The balance moves by the entries written (their keys are the
 * new server's, so all of them). A new server has no month yet: its charges are the hour's alone.
 */
export async function chargeFirstHour(tx: Repositories, hour: ServerHour): Promise<() => Promise<void>> {
  const charges = hourCharges(hour, undefined);
  const entries = [charges.usage, ...charges.extras];
  const written = await tx.ledger.appendMany(entries);
  await tx.ledger.addToMonth(charges.month);
  return async () => {
    const amount = entries.filter((e) => written.has(e.key)).reduce((sum, e) => sum + e.amount_minor, 0);
    const [account] = await tx.ledger.moveBalances(new Map([[hour.accountId, amount]]), hour.now);
    if (account) await noticeLowBalance(tx, account, charges.noticedMinor, hour.lowBalanceMinor, hour.now);
  };
}
