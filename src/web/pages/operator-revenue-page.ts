import type { RevenueRow } from "../../db/repositories/ledger-repository.ts";
import type { AppError } from "../../domain/errors.ts";
import { formatMoney } from "../../domain/money.ts";
import { type Html, html } from "../html.ts";
import type { PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { errorAlert } from "./error-alert.ts";
import { operatorLayout } from "./operator-frame.ts";

export const REVENUE_SECTION = "/admin/revenue";

/** The period asked for as typed, and the report of it (or the service's refusal). */
export interface RevenueView {
  start: string;
  end: string;
  report?: { start: string; end: string; rows: RevenueRow[] };
  error?: AppError;
}

export function operatorRevenuePage(frame: PageFrame, view: RevenueView): Html {
  const { report } = view;
  const total = report?.rows.reduce((sum, row) => sum + row.amount_minor, 0) ?? 0;
  return operatorLayout(
    frame,
    REVENUE_SECTION,
    "Revenue",
    html`<h1>Revenue</h1>
<section class="card" aria-labelledby="period-heading">
  <h2 id="period-heading">Period</h2>
  ${errorAlert(view.error)}
  <form method="get" action="${REVENUE_SECTION}" class="filter">
    <div>
      <label for="start">From (UTC)</label>
      <input id="start" name="start" type="date" required value="${view.start}">
    </div>
    <div>
      <label for="end">Until (UTC, not included)</label>
      <input id="end" name="end" type="date" required value="${view.end}">
    </div>
    <button type="submit">Show the report</button>
  </form>
  <p class="hint">Server hours, backups and snapshot storage charged in the period, less refunds, per plan and the location of the server; the same as <code>GET /api/v1/admin/reports/revenue/</code>.</p>
</section>
${
  report
    ? html`<section class="card" aria-labelledby="report-heading">
  <h2 id="report-heading">From ${when(report.start)} until ${when(report.end)}</h2>
  <div class="table-wrap">
  <table class="revenue money">
    <thead><tr><th scope="col">Plan</th><th scope="col">Location</th><th scope="col" class="number">Entries</th><th scope="col" class="number">Amount</th></tr></thead>
    <tbody>
    ${
      report.rows.length === 0
        ? html`<tr><td colspan="4" class="empty">Nothing was charged in this period.</td></tr>`
        : report.rows.map(
            (row) => html`<tr data-plan-id="${row.plan_id ?? ""}" data-location="${row.location ?? ""}">
      <th scope="row">${row.plan_name ?? "Snapshot storage (no plan)"}</th>
      <td>${row.location ?? "—"}</td>
      <td class="number">${row.entries.toLocaleString("en-US")}</td>
      <td class="number">${formatMoney(row.amount_minor)}</td>
    </tr>`,
          )
    }
    </tbody>
    <tfoot><tr><th scope="row" colspan="3">Total</th><td class="number" data-total>${formatMoney(total)}</td></tr></tfoot>
  </table>
  </div>
</section>`
    : ""
}`,
  );
}
