import { HOUR_MS } from "./billing.ts";

// What backups and snapshots cost. Amounts smaller than a cent an hour are not rounded away hour by hour: the
// charge of an hour is what the running total reached by its end, less what it had reached by its start, counted
// from a fixed origin (hours since 1970), so any run of consecutive hours costs its exact price to within one
// minor unit, and nothing is stored to carry the fractions.

/** Hours in a month, as for plans: a monthly price is 672 hourly ones. */
export const HOURS_PER_MONTH = 672;
/** The GB of snapshot storage: 2^30 bytes. */
export const GB_BYTES = 2 ** 30;

/** The part of `perHourNumerator / perHourDenominator` units that falls in the hour starting at `hourStart`. */
export function hourShare(perHourNumerator: bigint, perHourDenominator: bigint, hourStart: string): number {
  const hour = BigInt(Math.floor(Date.parse(hourStart) / HOUR_MS));
  return Number(
    ((hour + 1n) * perHourNumerator) / perHourDenominator - (hour * perHourNumerator) / perHourDenominator,
  );
}

/** The backup surcharge of the hour starting at `hourStart`: `percent` of the plan's hourly price. */
export function backupSurchargeMinor(priceHourlyMinor: number, percent: number, hourStart: string): number {
  return hourShare(BigInt(priceHourlyMinor) * BigInt(percent), 100n, hourStart);
}

/** What an image of `sizeBytes` costs for the hour starting at `hourStart`, at `priceMinorPerGbMonth`. */
export function snapshotHourMinor(
  sizeBytes: number,
  priceMinorPerGbMonth: number,
  hourStart: string,
): number {
  return hourShare(
    BigInt(sizeBytes) * BigInt(priceMinorPerGbMonth),
    BigInt(GB_BYTES) * BigInt(HOURS_PER_MONTH),
    hourStart,
  );
}
