import type { AccountRow } from "../../db/schema.ts";
import type { AppError } from "../../domain/errors.ts";
import { formatMoney, MONEY_LIMIT_MINOR } from "../../domain/money.ts";
import { type Html, html } from "../html.ts";
import type { PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { errorAlert } from "./error-alert.ts";
import { csrfField, operatorLayout } from "./operator-frame.ts";
import { pager } from "./pager.ts";

const SECTION = "/admin/accounts";

const balance = (a: AccountRow) => html`${formatMoney(a.balance_minor)} ${a.currency}`;
const role = (a: AccountRow) => (a.operator_since ? "operator" : "customer");

export function operatorAccountsPage(
  frame: PageFrame,
  list: { accounts: AccountRow[]; count: number; page: number; pageSize: number },
): Html {
  return operatorLayout(
    frame,
    SECTION,
    "Accounts",
    html`<h1>Accounts</h1>
<div class="table-wrap">
<table>
  <thead><tr><th scope="col">Email</th><th scope="col">Balance</th><th scope="col">Role</th><th scope="col">Created</th></tr></thead>
  <tbody>
  ${list.accounts.map(
    (a) => html`<tr data-account-id="${a.id}">
    <th scope="row"><a href="/admin/accounts/${a.id}">${a.email}</a></th>
    <td class="number">${balance(a)}</td>
    <td>${role(a)}</td>
    <td>${when(a.created_at)}</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>
${pager(SECTION, list.page, list.pageSize, list.count)}
<p class="hint">Accounts are made with the admin API (<code>POST /api/v1/admin/accounts/</code>).</p>`,
  );
}

export interface AccountForms {
  /** The credit form's error and what was typed, after a refused top-up. */
  credit?: { error: AppError; amount: string; reason: string };
  /** A new invitation link, shown once. */
  invitation?: { url: string; expiresAt: string };
}

const LIMIT = formatMoney(MONEY_LIMIT_MINOR);

export function operatorAccountPage(frame: PageFrame, account: AccountRow, forms: AccountForms = {}): Html {
  const { credit, invitation } = forms;
  return operatorLayout(
    frame,
    SECTION,
    account.email,
    html`<p><a href="${SECTION}">All accounts</a></p>
<h1>${account.email}</h1>
<section class="card">
  <h2>Details</h2>
  <dl class="facts">
    <dt>Balance</dt><dd data-balance>${balance(account)}</dd>
    <dt>Role</dt><dd>${role(account)}</dd>
    <dt>Created</dt><dd>${when(account.created_at)}</dd>
  </dl>
</section>
<section class="card" aria-labelledby="credit-heading">
  <h2 id="credit-heading">Add credit</h2>
  ${errorAlert(credit?.error)}
  <form method="post" action="/admin/accounts/${account.id}/credit">
    ${csrfField(frame.csrf)}
    <label for="amount">Amount (${account.currency})</label>
    <input id="amount" name="amount" type="text" inputmode="decimal" required value="${credit?.amount ?? ""}" aria-describedby="amount-hint" autocomplete="off">
    <p class="hint" id="amount-hint">Such as 25.00; negative (-5.00) to deduct. Not zero, at most two decimals, and the balance stays between -${LIMIT} and ${LIMIT}. An account back above zero gets its suspended servers back, stopped.</p>
    <label for="reason">Reason</label>
    <input id="reason" name="reason" type="text" maxlength="500" value="${credit?.reason ?? ""}" aria-describedby="reason-hint" autocomplete="off">
    <p class="hint" id="reason-hint">Needed to deduct: a deduction is a correction in the account's ledger, kept with its reason and your name.</p>
    <button type="submit">Add credit</button>
  </form>
</section>
<section class="card" aria-labelledby="invite-heading">
  <h2 id="invite-heading">Invitation link</h2>
  ${
    invitation
      ? html`<p role="status">A link that sets this account's password, once, until ${when(invitation.expiresAt)}. Send it to its owner; it is not shown again.</p>
  <p><label for="invitation-url">Invitation link</label><input id="invitation-url" type="text" readonly value="${invitation.url}"></p>`
      : html`<p class="hint">A link that sets the account's password (replacing any it has) and signs its owner in.</p>`
  }
  <form method="post" action="/admin/accounts/${account.id}/invitation">
    ${csrfField(frame.csrf)}
    <button type="submit">${invitation ? "Make another link" : "Make an invitation link"}</button>
  </form>
</section>`,
  );
}
