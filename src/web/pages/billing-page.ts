import type { LedgerEntryRow } from "../../db/schema.ts";
import { LEDGER_KINDS, type LedgerKind } from "../../domain/ledger.ts";
import { formatMoney } from "../../domain/money.ts";
import type { MonthUsage, Statement } from "../../services/ledger-service.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { LEDGER_KIND_LABELS } from "./ledger-kind-labels.ts";
import { pager } from "./pager.ts";

/** One page of the account's ledger entries, of one kind or all. */
export interface TransactionsPage {
  entries: LedgerEntryRow[];
  count: number;
  page: number;
  pageSize: number;
  /** The page size the console uses when none is asked for (links leave it out). */
  defaultPageSize: number;
  kind: LedgerKind | undefined;
}

export interface BillingView {
  balanceMinor: number;
  /** The low-balance threshold in force, and whether it is the account's own (else the default). */
  threshold: { minor: number; own: boolean };
  currency: string;
  usage: MonthUsage;
  transactions: TransactionsPage;
  statements: Statement[];
}

const money = (minor: number) => formatMoney(Number(minor));

export function billingPage(frame: PageFrame, view: BillingView): Html {
  const { currency } = view;
  return layout(
    { ...frame, title: "Billing", current: "/billing" },
    html`<h1>Billing</h1>
<section class="card">
  <h2>Balance</h2>
  <p class="balance"><span data-balance>${money(view.balanceMinor)} ${currency}</span></p>
  <p>Alert threshold: <span data-threshold>${money(view.threshold.minor)} ${currency}</span>${view.threshold.own ? "" : " (the default)"}. <a href="/account#low-balance">Change it</a></p>
  <p class="hint">Servers are billed by the hour begun, paid an hour ahead; a server never costs more in a calendar month (UTC) than its plan's monthly price.</p>
</section>
${usageSection(view.usage, currency)}
${transactionsSection(view.transactions)}
${statementsSection(view.statements)}`,
  );
}

function usageSection(usage: MonthUsage, currency: string): Html {
  const hours = usage.servers.reduce((sum, s) => sum + s.hours, 0);
  return html`<section class="card" aria-labelledby="usage-heading">
  <h2 id="usage-heading">This month so far (${usage.month}, ${currency})</h2>
  <div class="table-wrap">
  <table class="usage money">
    <thead><tr><th scope="col">Server</th><th scope="col" class="number">Hours</th><th scope="col" class="number">Hours' cost</th><th scope="col" class="number">Backups</th><th scope="col" class="number">So far</th><th scope="col" class="number">Monthly cap</th><th scope="col" class="number">Projected month</th></tr></thead>
    <tbody>
    ${
      usage.servers.length === 0
        ? html`<tr><td colspan="7" class="empty">Nothing charged this month yet.</td></tr>`
        : usage.servers.map(
            (s) => html`<tr data-server-id="${s.server_id}">
      <th scope="row">${s.deleted ? html`${s.name} <span class="hint">(deleted)</span>` : html`<a href="/servers/${s.server_id}">${s.name}</a>`}</th>
      <td class="number">${s.hours}</td>
      <td class="number">${money(s.usage_minor)}</td>
      <td class="number">${money(s.backup_minor)}</td>
      <td class="number">${money(s.usage_minor + s.backup_minor)}</td>
      <td class="number">${money(s.cap_minor)}</td>
      <td class="number" data-projected>${money(s.projected_minor)}</td>
    </tr>`,
          )
    }
    ${
      usage.snapshot_minor === 0
        ? ""
        : html`<tr><th scope="row">Snapshot storage</th><td></td><td></td><td></td><td class="number" data-snapshots>${money(usage.snapshot_minor)}</td><td></td><td class="number">${money(usage.snapshot_minor)}</td></tr>`
    }
    </tbody>
    <tfoot><tr><th scope="row">Total</th><td class="number">${hours}</td><td></td><td></td><td class="number" data-total>${money(usage.total_minor)}</td><td></td><td class="number" data-projected-total>${money(usage.projected_minor)}</td></tr></tfoot>
  </table>
  </div>
  <p class="hint">So far is what was charged this month until now (hours and backups; snapshot storage too in the total). The projected month is what it will cost at this rate, within each server's cap.</p>
</section>`;
}

function transactionsSection(list: TransactionsPage): Html {
  const query: Record<string, string | number> = {
    ...(list.kind ? { kind: list.kind } : {}),
    ...(list.pageSize === list.defaultPageSize ? {} : { page_size: list.pageSize }),
  };
  return html`<section class="card" aria-labelledby="transactions-heading">
  <h2 id="transactions-heading">Transactions</h2>
  <form method="get" action="/billing" class="filter">
    <div>
      <label for="kind">Kind</label>
      <select id="kind" name="kind">
        <option value="">All kinds</option>
        ${LEDGER_KINDS.map(
          (kind) =>
            html`<option value="${kind}"${kind === list.kind ? html` selected` : ""}>${LEDGER_KIND_LABELS[kind]}</option>`,
        )}
      </select>
    </div>
    <button type="submit">Filter</button>
  </form>
  ${pager("/billing", list.page, list.pageSize, list.count, query)}
  <div class="table-wrap">
  <table class="transactions money">
    <thead><tr><th scope="col">Recorded</th><th scope="col">Kind</th><th scope="col">Description</th><th scope="col" class="number">Amount</th></tr></thead>
    <tbody>
    ${
      list.count === 0
        ? html`<tr><td colspan="4" class="empty">No transactions${list.kind ? " of this kind" : ""}.</td></tr>`
        : list.entries.map(
            (e) => html`<tr data-entry-id="${e.id}" data-kind="${e.kind}">
      <td>${when(e.created_at)}</td>
      <td>${LEDGER_KIND_LABELS[e.kind]}</td>
      <td class="wrap">${e.description}${e.server_id === null ? "" : html` <span class="hint">server #${e.server_id}</span>`}${e.reason ? html`<br><span class="hint">${e.reason}</span>` : ""}</td>
      <td class="number">${money(e.amount_minor)} ${e.currency}</td>
    </tr>`,
          )
    }
    </tbody>
  </table>
  </div>
</section>`;
}

function statementsSection(statements: Statement[]): Html {
  return html`<section class="card" aria-labelledby="statements-heading">
  <h2 id="statements-heading">Statements</h2>
  ${
    statements.length === 0
      ? html`<p class="hint">No statements yet: a month's statement is closed on the 1st of the next.</p>`
      : html`<div class="table-wrap">
  <table class="statements money">
    <thead><tr><th scope="col">Month</th><th scope="col" class="number">Opening balance</th><th scope="col" class="number">Total</th><th scope="col" class="number">Closing balance</th></tr></thead>
    <tbody>
    ${statements.map(
      (s) => html`<tr data-month="${s.month}">
      <th scope="row"><a href="/billing/statements/${s.month}">${s.month}</a></th>
      <td class="number">${money(s.opening_minor)} ${s.currency}</td>
      <td class="number">${money(s.total_minor)} ${s.currency}</td>
      <td class="number">${money(s.closing_minor)} ${s.currency}</td>
    </tr>`,
    )}
    </tbody>
  </table>
  </div>`
  }
</section>`;
}
