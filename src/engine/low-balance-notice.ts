import type { Repositories } from "../db/repositories/repositories.ts";
import type { AccountRow } from "../db/schema.ts";
import { lowBalanceThreshold } from "../domain/low-balance.ts";
import { formatMoney } from "../domain/money.ts";

/**
 * Queues webhooks' `balance.low`, in the caller's transaction, when the charge of `chargedMinor` just written took
 * the account's balance (`account`, as it is after the charge) from at or above its threshold to below it: once
 * per crossing, since the next charges start below it already. The threshold is the account's own, read from the
 * row the ledger returned (no query of its own), or `defaultMinor` when it has none.
 */
export async function noticeLowBalance(
  tx: Repositories,
  account: AccountRow,
  chargedMinor: number,
  defaultMinor: number,
  now: string,
): Promise<void> {
  if (chargedMinor <= 0) return;
  const thresholdMinor = lowBalanceThreshold(account.low_balance_threshold_minor, defaultMinor);
  const before = account.balance_minor + chargedMinor;
  if (before < thresholdMinor || account.balance_minor >= thresholdMinor) return;
  await tx.webhooks.record(
    account.id,
    "balance.low",
    () => ({
      balance: formatMoney(account.balance_minor),
      threshold: formatMoney(thresholdMinor),
      currency: account.currency,
    }),
    now,
  );
}
