import { HOURS_PER_MONTH, hourShare } from "./backup-prices.ts";
import { hourAfter } from "./billing.ts";
import { monthOf } from "./ledger.ts";

// Bandwidth as VPS.org's terms set it: a server's traffic is the larger of its bytes in and out in the calendar
// month; its allowance accrues at the plan's monthly bandwidth / 672 for each hour charged in the month; what
// goes beyond it is charged per GB. The month's charge so far is what the whole overage costs, rounded down to a
// minor unit; each hour is charged what that figure grew by since the month's last bandwidth charge, so fractions
// of a cent are carried to the next hour, not lost, and an allowance that catches up is never paid back.

/** The GB of plans' `bandwidth` and servers' `bandwidth_used`: 10^9 bytes. */
export const BANDWIDTH_GB_BYTES = 1_000_000_000;

/**
 * The allowance, in bytes, that accrues in the hour starting at `hourStart` for a plan of `bandwidthGb` a month:
 * counted from a fixed origin, so that consecutive hours add up to their exact share within a byte.
 */
export function allowanceHourBytes(bandwidthGb: number, hourStart: string): number {
  return hourShare(BigInt(bandwidthGb) * BigInt(BANDWIDTH_GB_BYTES), BigInt(HOURS_PER_MONTH), hourStart);
}

/** Bytes as GB to three decimals (whole MB, rounded down), as the account's usage shows traffic. */
export function gbOf(bytes: number): number {
  return Math.floor(bytes / 1_000_000) / 1000;
}

/** Bytes used beyond the allowance. */
export function overageBytes(usedBytes: number, allowanceBytes: number): number {
  return Math.max(0, usedBytes - allowanceBytes);
}

/** What `overage` bytes cost at `priceMinorPerGb`, rounded down to a minor unit. */
export function overageMinor(overage: number, priceMinorPerGb: number): number {
  return Number(
    (BigInt(Math.max(0, Math.floor(overage))) * BigInt(priceMinorPerGb)) / BigInt(BANDWIDTH_GB_BYTES),
  );
}

/**
 * The bandwidth charge of an hour: what the month's overage costs now less what the month was charged for it
 * already, never negative.
 */
export function bandwidthHourMinor(
  usedBytes: number,
  allowanceBytes: number,
  priceMinorPerGb: number,
  chargedInMonth: number,
): number {
  return Math.max(0, overageMinor(overageBytes(usedBytes, allowanceBytes), priceMinorPerGb) - chargedInMonth);
}

/**
 * The month's traffic that the charge of the hour starting at `hourStart` settles: the last sample's, when the
 * hour is the one `now` is in and the sample counts the hour's month. Hours charged late (the cycle catching up)
 * accrue their allowance and leave the traffic to the hour of now, so that it meets the whole allowance; null:
 * this hour settles none.
 */
export function trafficToSettle(
  hourStart: string,
  now: string,
  sampledPeriod: string | null,
  bandwidthBytes: number | null,
): number | null {
  if (Date.parse(hourAfter(hourStart)) <= Date.parse(now)) return null;
  if (sampledPeriod !== monthOf(hourStart) || bandwidthBytes === null) return null;
  return Number(bandwidthBytes);
}
