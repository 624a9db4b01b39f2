import type { Repositories } from "../db/repositories/repositories.ts";
import { formatMoney } from "../domain/money.ts";

/**
 * Takes a charge from the account's balance, in the caller's transaction; the charge that takes the balance from
 * at or above `lowBalanceMinor` to below it queues webhooks' `balance.low` with it (once per crossing: the next
 * charges start below it already).
 */
export async function chargeAccount(
  tx: Repositories,
  accountId: number,
  amountMinor: number,
  lowBalanceMinor: number,
  now: string,
): Promise<void> {
  const account = await tx.accounts.addCredit(accountId, -amountMinor, now);
  if (!account || amountMinor <= 0) return;
  const before = account.balance_minor + amountMinor;
  if (before < lowBalanceMinor || account.balance_minor >= lowBalanceMinor) return;
  await tx.webhooks.record(
    accountId,
    "balance.low",
    () => ({
      balance: formatMoney(account.balance_minor),
      threshold: formatMoney(lowBalanceMinor),
      currency: account.currency,
    }),
    now,
  );
}
