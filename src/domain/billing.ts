// Servers are billed by the hour, paid an hour ahead: the first hour when the server is created, each next
// one when the paid time runs out.

export const HOUR_MS = 3_600_000;

/** Whole hours paid from `from` up to `until` (a server's creation and its paid-until time). */
export function hoursPaid(from: string, until: string): number {
  return Math.max(0, Math.round((Date.parse(until) - Date.parse(from)) / HOUR_MS));
}

/** The end of the hour that starts at `from`. */
export function hourAfter(from: string): string {
  return new Date(Date.parse(from) + HOUR_MS).toISOString();
}
