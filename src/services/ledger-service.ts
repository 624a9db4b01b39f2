import type { LedgerFilter, LedgerLine, RevenueRow } from "../db/repositories/ledger-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { AccountRow, LedgerEntryRow, StatementRow } from "../db/schema.ts";
import { overageBytes } from "../domain/bandwidth.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { InvalidInput, NotFound } from "../domain/errors.ts";
import {
  hoursLeftInMonth,
  isMonth,
  monthOf,
  monthStart,
  nextMonth,
  projectedMonth,
  REVENUE_KINDS,
} from "../domain/ledger.ts";

/** A server's month so far, as the usage answer shows it. */
export interface ServerUsage {
  server_id: number;
  name: string;
  deleted: boolean;
  plan_id: number;
  hours: number;
  usage_minor: number;
  backup_minor: number;
  /** This month's traffic (the larger direction), the allowance its charged hours accrued, and the excess. */
  bandwidth_used_bytes: number;
  bandwidth_allowance_bytes: number;
  bandwidth_overage_bytes: number;
  /** Charged for traffic beyond the allowance this month so far. */
  bandwidth_minor: number;
  cap_minor: number;
  projected_minor: number;
}

export interface MonthUsage {
  month: string;
  servers: ServerUsage[];
  snapshot_minor: number;
  total_minor: number;
  projected_minor: number;
}

export interface Statement extends Omit<StatementRow, "lines"> {
  lines: LedgerLine[];
}

/** The ledger as customers and operators read it: entries, this month's usage, statements, revenue, checks. */
export class LedgerService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #backupPricePercent: number;
  constructor(repos: Repositories, clock: Clock, backupPricePercent: number) {
    this.#repos = repos;
    this.#clock = clock;
    this.#backupPricePercent = backupPricePercent;
  }

  /** The account with the sum of its entries, which its cached balance must equal. */
  async balanceCheck(accountId: number): Promise<{ account: AccountRow; ledgerMinor: number }> {
    const account = await this.#repos.accounts.findById(accountId);
    if (!account) throw new NotFound("Account");
    return { account, ledgerMinor: await this.#repos.ledger.sum(accountId) };
  }

  async transactions(
    accountId: number,
    filter: LedgerFilter,
    limit: number,
    offset: number,
  ): Promise<{ count: number; entries: LedgerEntryRow[] }> {
    const period: LedgerFilter = {
      ...filter,
      ...(filter.since === undefined ? {} : { since: instant(filter.since, "since") }),
      ...(filter.until === undefined ? {} : { until: instant(filter.until, "until") }),
    };
    checkPeriod(period.since, period.until, "since", "until");
    const [count, entries] = await Promise.all([
      this.#repos.ledger.count(accountId, period),
      this.#repos.ledger.list(accountId, period, limit, offset),
    ]);
    return { count, entries };
  }

  /**
   * This calendar month so far, per server charged in it, with what the month will cost at this rate: each live,
   * billed server's hours left in the month at its plan's price (and backups'), within its caps, and the bandwidth
   * charged so far; with each server's traffic this month against the allowance its charged hours accrued.
   */
  async usage(accountId: number): Promise<MonthUsage> {
    const now = isoAt(this.#clock);
    const month = monthOf(now);
    const [rows, snapshotMinor] = await Promise.all([
      this.#repos.ledger.monthUsage(accountId, month),
      this.#repos.ledger
        .lines(accountId, monthStart(month), monthStart(nextMonth(month)))
        .then((lines) => -lines.filter((l) => l.kind === "snapshot").reduce((a, l) => a + l.amount_minor, 0)),
    ]);
    const servers = rows.map((row): ServerUsage => {
      const billed =
        row.deleted_at === null &&
        row.billed_until !== null &&
        row.status !== "suspended" &&
        row.status !== "error";
      const left = billed && row.billed_until !== null ? hoursLeftInMonth(row.billed_until) : 0;
      const inMonth = billed && row.billed_until !== null && monthOf(row.billed_until) === month ? left : 0;
      const usage = projectedMonth(row.usage_minor, row.price_hourly_minor, inMonth, row.cap_minor);
      const backupHourly = row.backups_enabled
        ? (row.price_hourly_minor * this.#backupPricePercent) / 100
        : 0;
      const backups = Math.round(
        projectedMonth(
          row.backup_minor,
          backupHourly,
          inMonth,
          Math.max(row.backup_cap_minor, row.backup_minor),
        ),
      );
      const used = row.usage_period === month ? Number(row.bandwidth_bytes ?? 0) : 0;
      const allowance = Number(row.bandwidth_allowance_bytes);
      return {
        server_id: row.server_id,
        name: row.name,
        deleted: row.deleted_at !== null,
        plan_id: row.plan_id,
        hours: row.hours,
        usage_minor: row.usage_minor,
        backup_minor: row.backup_minor,
        bandwidth_used_bytes: used,
        bandwidth_allowance_bytes: allowance,
        bandwidth_overage_bytes: overageBytes(used, allowance),
        bandwidth_minor: Number(row.bandwidth_minor),
        cap_minor: row.cap_minor,
        // Traffic to come is not foreseen: the month's bandwidth is what it was charged so far.
        projected_minor: usage + backups + Number(row.bandwidth_minor),
      };
    });
    const spent =
      servers.reduce((a, s) => a + s.usage_minor + s.backup_minor + s.bandwidth_minor, 0) + snapshotMinor;
    const projected = servers.reduce((a, s) => a + s.projected_minor, 0) + snapshotMinor;
    return { month, servers, snapshot_minor: snapshotMinor, total_minor: spent, projected_minor: projected };
  }

  async statements(
    accountId: number,
    limit: number,
    offset: number,
  ): Promise<{ count: number; statements: Statement[] }> {
    const [count, rows] = await Promise.all([
      this.#repos.ledger.countStatements(accountId),
      this.#repos.ledger.statements(accountId, limit, offset),
    ]);
    return { count, statements: rows.map(parseStatement) };
  }

  async statement(accountId: number, month: string): Promise<Statement> {
    if (!isMonth(month)) throw new NotFound("Statement");
    const row = await this.#repos.ledger.statement(accountId, month);
    if (!row) throw new NotFound("Statement");
    return parseStatement(row);
  }

  /** The names of the account's servers (deleted ones too) among `ids`, for a statement's lines. */
  async serverNames(accountId: number, ids: readonly number[]): Promise<Map<number, string>> {
    const rows = await this.#repos.servers.findByIds(ids);
    return new Map(rows.filter((row) => row.account_id === accountId).map((row) => [row.id, row.name]));
  }

  /** Revenue recorded in [start, end): charges less refunds, per plan and location, as positive amounts. */
  async revenue(start: string, end: string): Promise<RevenueRow[]> {
    const since = instant(start, "start");
    const until = instant(end, "end");
    checkPeriod(since, until, "start", "end");
    const rows = await this.#repos.ledger.revenue(REVENUE_KINDS, since, until);
    return rows.map((row) => ({ ...row, amount_minor: -row.amount_minor }));
  }
}

function parseStatement(row: StatementRow): Statement {
  return { ...row, lines: JSON.parse(row.lines) as LedgerLine[] };
}

/** A time given as ISO 8601 (a date alone is its midnight, UTC), as the ledger stores times; 400 otherwise. */
function instant(text: string, field: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}([T ].*)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw InvalidInput.field(field, 'Must be an ISO 8601 time such as "2030-01-01T00:00:00Z".');
  return new Date(ms).toISOString();
}

/** A period's bounds, when both are given, in order (ISO strings of one form compare as times); 400 otherwise. */
function checkPeriod(start: string | undefined, end: string | undefined, from: string, to: string): void {
  if (start !== undefined && end !== undefined && start > end) {
    throw InvalidInput.field(to, `Must not be before ${from}.`);
  }
}
