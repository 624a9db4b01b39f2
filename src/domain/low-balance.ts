/**
 * An account's low-balance threshold: its own when it set one, else the operator's default
 * (VPS_LOW_BALANCE_THRESHOLD). A charge that takes the balance below it sends webhooks' `balance.low`.
 */
export function lowBalanceThreshold(ownMinor: number | null, defaultMinor: number): number {
  return ownMinor ?? defaultMinor;
}

/**
 * What an account is warned of: `exhausted` at zero or below (below zero the billing cycle suspends its servers,
 * at zero the next charge does), `low` below its threshold, else nothing.
 */
export function balanceAlert(balanceMinor: number, thresholdMinor: number): "exhausted" | "low" | undefined {
  if (balanceMinor <= 0) return "exhausted";
  return balanceMinor < thresholdMinor ? "low" : undefined;
}
