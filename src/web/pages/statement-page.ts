import { formatMoney } from "../../domain/money.ts";
import type { Statement } from "../../services/ledger-service.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { LEDGER_KIND_LABELS } from "./ledger-kind-labels.ts";

const money = (minor: number) => formatMoney(Number(minor));

/** A closed month: opening balance, its lines per server and kind, their total, the closing balance; printable. */
export function statementPage(
  frame: PageFrame,
  statement: Statement,
  serverNames: Map<number, string>,
): Html {
  const { currency } = statement;
  const server = (id: number | null) =>
    id === null ? html`Account` : html`${serverNames.get(id) ?? "Server"} <span class="hint">#${id}</span>`;
  return layout(
    { ...frame, title: `Statement ${statement.month}`, current: "/billing", scripts: ["print-button.js"] },
    html`<p class="no-print"><a href="/billing">Billing</a></p>
<div class="page-head">
<h1>Statement ${statement.month}</h1>
<button type="button" data-print hidden>Print</button>
</div>
<section class="card statement">
  <dl class="facts">
    <dt>Account</dt><dd>${frame.account?.email ?? ""}</dd>
    <dt>Month</dt><dd>${statement.month} (UTC)</dd>
    <dt>Closed</dt><dd>${when(statement.closed_at)}</dd>
    <dt>Opening balance</dt><dd data-opening>${money(statement.opening_minor)} ${currency}</dd>
  </dl>
  <div class="table-wrap">
  <table class="statement-lines money">
    <caption class="visually-hidden">The month's charges and credits per server and kind, in ${currency}</caption>
    <thead><tr><th scope="col">Server</th><th scope="col">Kind</th><th scope="col" class="number">Entries</th><th scope="col" class="number">Amount (${currency})</th></tr></thead>
    <tbody>
    ${
      statement.lines.length === 0
        ? html`<tr><td colspan="4" class="empty">Nothing was charged or credited this month.</td></tr>`
        : statement.lines.map(
            (line) => html`<tr data-server-id="${line.server_id ?? ""}" data-kind="${line.kind}">
      <th scope="row">${server(line.server_id)}</th>
      <td>${LEDGER_KIND_LABELS[line.kind]}</td>
      <td class="number">${line.entries}</td>
      <td class="number">${money(line.amount_minor)}</td>
    </tr>`,
          )
    }
    </tbody>
    <tfoot>
      <tr><th scope="row" colspan="3">Total</th><td class="number" data-total>${money(statement.total_minor)}</td></tr>
      <tr><th scope="row" colspan="3">Closing balance</th><td class="number" data-closing>${money(statement.closing_minor)}</td></tr>
    </tfoot>
  </table>
  </div>
  <p class="hint">Charges are negative, credits positive. The closing balance is the opening balance plus the total; a closed statement never changes.</p>
</section>`,
  );
}
