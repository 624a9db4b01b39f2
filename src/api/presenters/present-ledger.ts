import type { RevenueRow } from "../../db/repositories/ledger-repository.ts";
import type { LedgerEntryRow } from "../../db/schema.ts";
import { gbOf } from "../../domain/bandwidth.ts";
import { formatMoney } from "../../domain/money.ts";
import type { MonthUsage, Statement } from "../../services/ledger-service.ts";
import { apiTimestamp } from "./present-server.ts";

const at = (iso: string | null) => (iso === null ? null : apiTimestamp(iso));

/** An entry as its account sees it: who made a correction stays the provider's. */
export function presentLedgerEntry(entry: LedgerEntryRow) {
  return {
    id: entry.id,
    kind: entry.kind,
    amount: formatMoney(Number(entry.amount_minor)),
    currency: entry.currency,
    description: entry.description,
    server_id: entry.server_id,
    image_id: entry.image_id,
    plan_id: entry.plan_id,
    period_start: at(entry.period_start),
    period_end: at(entry.period_end),
    reason: entry.reason,
    created_at: apiTimestamp(entry.created_at),
  };
}

/** Charges are negative entries; usage shows what was spent, as positive amounts. */
export function presentUsage(usage: MonthUsage, currency: string) {
  return {
    month: usage.month,
    servers: usage.servers.map((s) => ({
      server_id: s.server_id,
      name: s.name,
      deleted: s.deleted,
      plan_id: s.plan_id,
      hours: s.hours,
      amount: formatMoney(s.usage_minor),
      backups: formatMoney(s.backup_minor),
      bandwidth_used: gbOf(s.bandwidth_used_bytes),
      bandwidth_allowance: gbOf(s.bandwidth_allowance_bytes),
      bandwidth_overage: gbOf(s.bandwidth_overage_bytes),
      bandwidth: formatMoney(s.bandwidth_minor),
      cap: formatMoney(s.cap_minor),
      projected: formatMoney(s.projected_minor),
    })),
    snapshots: formatMoney(usage.snapshot_minor),
    total: formatMoney(usage.total_minor),
    projected: formatMoney(usage.projected_minor),
    currency,
  };
}

export function presentStatement(statement: Statement) {
  return {
    month: statement.month,
    currency: statement.currency,
    opening_balance: formatMoney(Number(statement.opening_minor)),
    total: formatMoney(Number(statement.total_minor)),
    closing_balance: formatMoney(Number(statement.closing_minor)),
    closed_at: apiTimestamp(statement.closed_at),
    lines: statement.lines.map((line) => ({
      server_id: line.server_id,
      kind: line.kind,
      entries: line.entries,
      amount: formatMoney(line.amount_minor),
    })),
  };
}

export function presentRevenue(start: string, end: string, rows: RevenueRow[]) {
  return {
    start: apiTimestamp(new Date(start).toISOString()),
    end: apiTimestamp(new Date(end).toISOString()),
    total: formatMoney(rows.reduce((sum, row) => sum + row.amount_minor, 0)),
    results: rows.map((row) => ({
      plan_id: row.plan_id,
      plan: row.plan_name,
      location: row.location,
      amount: formatMoney(row.amount_minor),
      entries: row.entries,
    })),
  };
}
