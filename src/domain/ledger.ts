import { HOUR_MS } from "./billing.ts";

// The ledger's vocabulary and the monthly cap. Every change of a balance is an entry with a unique key naming
// what it pays for; the keys below are the only ones written, so a charge written twice (two billing processes,
// a retried cycle) is one entry.

export const LEDGER_KINDS = [
  "opening",
  "topup",
  "usage",
  "backup",
  "bandwidth",
  "snapshot",
  "refund",
  "correction",
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** Kinds that are the provider's revenue (charges, and refunds that give them back). */
export const REVENUE_KINDS: readonly LedgerKind[] = ["usage", "backup", "bandwidth", "snapshot", "refund"];

export const ledgerKeys = {
  usage: (serverId: number, hourStart: string) => `usage:${serverId}:${hourStart}`,
  backup: (serverId: number, hourStart: string) => `backup:${serverId}:${hourStart}`,
  bandwidth: (serverId: number, hourStart: string) => `bandwidth:${serverId}:${hourStart}`,
  snapshot: (imageId: number, hourStart: string) => `snapshot:${imageId}:${hourStart}`,
  refund: (operationId: number) => `refund:${operationId}`,
  opening: (accountId: number) => `opening:${accountId}`,
};

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The calendar month (UTC) of an ISO time: "2030-01-31T23:30:00.000Z" -> "2030-01". */
export function monthOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 7);
}

/** Whether `text` names a month as "YYYY-MM". */
export function isMonth(text: string): boolean {
  return MONTH.test(text);
}

/** The first instant of the month, ISO. */
export function monthStart(month: string): string {
  return `${month}-01T00:00:00.000Z`;
}

/** The month after `month`. */
export function nextMonth(month: string): string {
  const [year, m] = month.split("-").map(Number) as [number, number];
  return monthOf(new Date(Date.UTC(year, m, 1)).toISOString());
}

/** The month before `month`. */
export function previousMonth(month: string): string {
  const [year, m] = month.split("-").map(Number) as [number, number];
  return monthOf(new Date(Date.UTC(year, m - 2, 1)).toISOString());
}

/**
 * What an hour costs under the monthly cap: its price while the month's charges stay within the cap, the
 * remainder for the hour that reaches it, zero after.
 */
export function cappedCharge(price: number, chargedInMonth: number, cap: number): number {
  return Math.max(0, Math.min(price, cap - chargedInMonth));
}

/** The cap of the backup surcharge in a month: `percent` of the plan's monthly price. */
export function backupCap(priceMonthlyMinor: number, percent: number): number {
  return Math.floor((priceMonthlyMinor * percent) / 100);
}

/** Hours begun from `from` until the end of its month: what is still to be charged this month. */
export function hoursLeftInMonth(from: string): number {
  const end = Date.parse(monthStart(nextMonth(monthOf(from))));
  return Math.max(0, Math.ceil((end - Date.parse(from)) / HOUR_MS));
}

/** What the month will cost at this rate: charged so far plus the hours left at `hourly`, within the cap. */
export function projectedMonth(
  chargedInMonth: number,
  hourly: number,
  hoursLeft: number,
  cap: number,
): number {
  return Math.min(cap, chargedInMonth + hourly * hoursLeft);
}
