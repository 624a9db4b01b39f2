import type { Repositories } from "../db/repositories/repositories.ts";
import { hourAfter } from "../domain/billing.ts";
import { monthOf } from "../domain/ledger.ts";
import { hourCharges, type ServerHour } from "./hour-charges.ts";
import { noticeLowBalance } from "./low-balance-notice.ts";

/**
 * Charges many servers' hours (each server once) in the caller's transaction, in a few statements whatever their
 * number: each server's paid time moved on by compare-and-swap from its `hourStart` (the servers locked in id order),
 * the accounts then locked in id order, so that two processes' batches take their locks in one order and cannot
 * deadlock; the servers' months read at once, the usage entries written at once (their keys decide which hours
 * are new: a second charge of an hour is impossible), then the other entries, the months and the balances of the
 * new hours. An hour whose compare-and-swap lost, or whose usage key was taken, writes nothing more. Answers the
 * ids of the servers whose hour this call charged.
 */
export async function chargeServerHours(
  tx: Repositories,
  hours: readonly ServerHour[],
): Promise<Set<number>> {
  const moved = await tx.billing.advanceMany(
    hours.map((h) => ({ id: h.serverId, paidUntil: h.hourStart, nextPaidUntil: hourAfter(h.hourStart) })),
  );
  const owed = hours.filter((h) => moved.has(h.serverId));
  if (owed.length === 0) return new Set();
  await tx.accounts.lockInOrder([...new Set(owed.map((h) => h.accountId))]);
  const keys = owed.map((h) => ({ serverId: h.serverId, month: monthOf(h.hourStart) }));
  const months = await tx.ledger.serverMonths(keys);
  const charges = owed.map((hour) => ({
    hour,
    charges: hourCharges(hour, months.get(`${hour.serverId} ${monthOf(hour.hourStart)}`)),
  }));
  const written = await tx.ledger.appendMany(charges.map((c) => c.charges.usage));
  const fresh = charges.filter((c) => written.has(c.charges.usage.key));
  const first = fresh[0];
  if (!first) return new Set();
  const extras = fresh.flatMap((c) => c.charges.extras);
  const extrasWritten = await tx.ledger.appendMany(extras);
  await tx.ledger.addToMonths(fresh.map((c) => c.charges.month));

  // Each account's balance moves by what was written for it; `balance.low` once for an account the batch took
  // across the threshold, as the hours' own charges one by one would have.
  const amounts = new Map<number, number>();
  for (const entry of [...fresh.map((c) => c.charges.usage), ...extras]) {
    if (entry.kind !== "usage" && !extrasWritten.has(entry.key)) continue;
    amounts.set(entry.account_id, (amounts.get(entry.account_id) ?? 0) + Number(entry.amount_minor));
  }
  const { now, lowBalanceMinor } = first.hour;
  for (const account of await tx.ledger.moveBalances(amounts, now)) {
    await noticeLowBalance(tx, account, -(amounts.get(account.id) ?? 0), lowBalanceMinor, now);
  }
  return new Set(fresh.map((c) => c.hour.serverId));
}
