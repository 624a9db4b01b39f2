// Money is integer minor units (cents) in the database and a decimal string in JSON.

const DECIMAL = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/** "12.5" -> 1250; null when the text is not a non-negative amount with at most two decimals. */
export function parseMoney(text: string): number | null {
  const match = DECIMAL.exec(text);
  if (!match) return null;
  const whole = Number(match[1]);
  const cents = Number((match[2] ?? "0").padEnd(2, "0"));
  return whole * 100 + cents;
}

/** 1250 -> "12.50" */
export function formatMoney(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}
