// Money is integer minor units (cents) in the database and a decimal string in JSON.

const DECIMAL = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/**
 * The bound of every amount and every balance, in minor units (±1,000,000,000.00): far from what any account
 * holds, and far inside the integers that JavaScript numbers, SQLite and PostgreSQL all keep exact, so no sum
 * of a few of them ever leaves the safe range.
 */
export const MONEY_LIMIT_MINOR = 100_000_000_000;

/** "12.5" -> 1250; null when the text is not a non-negative amount with at most two decimals. */
export function parseMoney(text: string): number | null {
  const match = DECIMAL.exec(text);
  if (!match) return null;
  const whole = Number(match[1]);
  const cents = Number((match[2] ?? "0").padEnd(2, "0"));
  return whole * 100 + cents;
}

/** "-12.5" -> -1250; like parseMoney, with an optional leading minus. */
export function parseSignedMoney(text: string): number | null {
  const negative = text.startsWith("-");
  const minor = parseMoney(negative ? text.slice(1) : text);
  return minor === null ? null : negative ? -minor : minor;
}

/** Whether an amount or a balance is within ±MONEY_LIMIT_MINOR. */
export function withinMoneyLimit(minor: number): boolean {
  return Math.abs(minor) <= MONEY_LIMIT_MINOR;
}

/** 1250 -> "12.50" */
export function formatMoney(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}
