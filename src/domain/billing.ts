// Servers are billed by the hour, paid an hour ahead: the first hour when the server is created, each next
// one when the paid time runs out.

export const HOUR_MS = 3_600_000;

/** The end of the hour that starts at `from`. */
export function hourAfter(from: string): string {
  return new Date(Date.parse(from) + HOUR_MS).toISOString();
}
