import type { Insertable } from "kysely";
import type { NewLedgerEntry } from "../db/repositories/ledger-repository.ts";
import type { ServerMonthRow, ServerMonthsTable } from "../db/schema.ts";
import { backupSurchargeMinor } from "../domain/backup-prices.ts";
import { allowanceHourBytes, bandwidthHourMinor } from "../domain/bandwidth.ts";
import { hourAfter } from "../domain/billing.ts";
import { backupCap, cappedCharge, ledgerKeys, monthOf } from "../domain/ledger.ts";

/** A server's hour to charge, with its plan's prices as they are when the hour begins. */
export interface ServerHour {
  serverId: number;
  accountId: number;
  currency: string;
  planId: number;
  priceHourlyMinor: number;
  priceMonthlyMinor: number;
  backupsEnabled: boolean;
  /** The surcharge of backups, percent of the hourly price. */
  backupPricePercent: number;
  /** The plan's monthly bandwidth (GB), of which the hour accrues 1/672 as allowance. */
  bandwidthGb: number;
  /** Traffic beyond the allowance, minor units per GB (10^9 bytes); 0: not charged. */
  bandwidthPriceMinorPerGb: number;
  /** The month's traffic (the larger direction, bytes) this hour settles; null: none (trafficToSettle). */
  trafficBytes: number | null;
  hourStart: string;
  /** A charge that takes the balance below this sends webhooks' `balance.low`. */
  lowBalanceMinor: number;
  now: string;
}

/** What an hour writes: its usage entry (whose key decides whether it is new), the rest, and its month's row. */
export interface HourCharges {
  usage: NewLedgerEntry;
  /** The backup surcharge's entry, and bandwidth's when the hour costs any. */
  extras: NewLedgerEntry[];
  month: Insertable<ServerMonthsTable>;
  /** What `balance.low` weighs: the usage and the backup surcharge. */
  noticedMinor: number;
}

/**
 * The hour's charges within the month's cap, given the server's month so far: the plan's monthly price (the
 * highest of the plans billed in the calendar month, UTC, when it was resized), and for backups that percent of
 * it. The hour that reaches the cap is charged the remainder, later ones are recorded at zero. The hour accrues
 * its share of the plan's bandwidth, and is charged what the month's traffic beyond the accrued allowance costs
 * less what the month paid for it already (not under the cap).
 */
export function hourCharges(hour: ServerHour, sofar: ServerMonthRow | undefined): HourCharges {
  const month = monthOf(hour.hourStart);
  const cap = Math.max(sofar?.cap_minor ?? 0, hour.priceMonthlyMinor);
  const usage = cappedCharge(hour.priceHourlyMinor, sofar?.usage_minor ?? 0, cap);
  const common = {
    account_id: hour.accountId,
    currency: hour.currency,
    server_id: hour.serverId,
    plan_id: hour.planId,
    period_start: hour.hourStart,
    period_end: hourAfter(hour.hourStart),
    created_at: hour.now,
  };
  const extras: NewLedgerEntry[] = [];
  let backup = 0;
  const backups = hour.backupsEnabled && hour.backupPricePercent > 0;
  const backupCapMinor = backups ? backupCap(cap, hour.backupPricePercent) : 0;
  if (backups) {
    const price = backupSurchargeMinor(hour.priceHourlyMinor, hour.backupPricePercent, hour.hourStart);
    backup = cappedCharge(
      price,
      sofar?.backup_minor ?? 0,
      Math.max(sofar?.backup_cap_minor ?? 0, backupCapMinor),
    );
    extras.push({
      ...common,
      kind: "backup",
      amount_minor: -backup,
      key: ledgerKeys.backup(hour.serverId, hour.hourStart),
      description: "Backups, hour",
    });
  }
  const allowanceHour = allowanceHourBytes(hour.bandwidthGb, hour.hourStart);
  const bandwidth =
    hour.trafficBytes === null || hour.bandwidthPriceMinorPerGb <= 0
      ? 0
      : bandwidthHourMinor(
          hour.trafficBytes,
          (sofar?.bandwidth_allowance_bytes ?? 0) + allowanceHour,
          hour.bandwidthPriceMinorPerGb,
          sofar?.bandwidth_minor ?? 0,
        );
  // Only an hour that costs something is an entry: most hours use no more than their allowance.
  if (bandwidth > 0) {
    extras.push({
      ...common,
      kind: "bandwidth",
      amount_minor: -bandwidth,
      key: ledgerKeys.bandwidth(hour.serverId, hour.hourStart),
      description: "Bandwidth beyond the allowance",
    });
  }
  return {
    usage: {
      ...common,
      kind: "usage",
      amount_minor: -usage,
      key: ledgerKeys.usage(hour.serverId, hour.hourStart),
      description: usage < hour.priceHourlyMinor ? "Server hour (monthly cap reached)" : "Server hour",
    },
    extras,
    month: {
      server_id: hour.serverId,
      month,
      account_id: hour.accountId,
      cap_minor: cap,
      usage_minor: usage,
      hours: 1,
      backup_cap_minor: backupCapMinor,
      backup_minor: backup,
      bandwidth_allowance_bytes: allowanceHour,
      bandwidth_minor: bandwidth,
    },
    noticedMinor: usage + backup,
  };
}
