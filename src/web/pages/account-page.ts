import type { WebSessionRow } from "../../db/schema.ts";
import type { AppError } from "../../domain/errors.ts";
import { formatMoney } from "../../domain/money.ts";
import { type Html, html } from "../html.ts";
import { alert, layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { errorAlert } from "./error-alert.ts";

/** The password form's state: just changed, or refused with a reason (about one field). */
export interface PasswordForm {
  changed?: boolean;
  error?: string;
  field?: string;
}

/** The low-balance form's state: just saved, or refused (with what was typed). */
export interface ThresholdForm {
  saved?: boolean;
  error?: AppError;
  value?: string;
}

export interface AccountView {
  email: string;
  balance: string;
  currency: string;
  /** The threshold in force, whether it is the account's own, and the operator's default. */
  threshold: { minor: number; own: boolean; defaultMinor: number };
  sessions: WebSessionRow[];
  /** The id hash of this browser's own session, to mark it in the list. */
  currentSession: string;
  password: PasswordForm;
  thresholdForm: ThresholdForm;
}

function passwordSection(frame: PageFrame, view: AccountView): Html {
  const { password } = view;
  const invalid = (field: string) => (password.field === field ? html` aria-invalid="true"` : "");
  return html`<section class="card">
  <h2 id="password">Password</h2>
  ${password.changed ? html`<p class="notice ok" role="status">Your password was changed, and every other browser was signed out.</p>` : ""}
  ${alert(password.error)}
  <form method="post" action="/account/password" aria-labelledby="password">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <input type="text" name="username" autocomplete="username" value="${view.email}" hidden>
    <label for="current-password">Current password</label>
    <input id="current-password" name="current_password" type="password" autocomplete="current-password" required${invalid("current_password")}>
    <label for="new-password">New password</label>
    <input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="new-password-hint"${invalid("password")}>
    <p class="hint" id="new-password-hint">At least 10 characters. Changing it signs out every other browser; API tokens keep working.</p>
    <button type="submit">Change the password</button>
  </form>
</section>`;
}

function thresholdSection(frame: PageFrame, view: AccountView): Html {
  const { threshold, thresholdForm: form, currency } = view;
  const amount = (minor: number) => `${formatMoney(minor)} ${currency}`;
  const value = form.value ?? (threshold.own ? formatMoney(threshold.minor) : "");
  return html`<section class="card" aria-labelledby="low-balance">
  <h2 id="low-balance">Low-balance alert</h2>
  ${form.saved ? html`<p class="notice ok" role="status">Your alert threshold is now ${amount(threshold.minor)}.</p>` : ""}
  ${errorAlert(form.error)}
  <p>Below <strong data-threshold>${amount(threshold.minor)}</strong>${threshold.own ? "" : " (the default)"} every page warns you, and a charge that takes your balance below it sends your webhooks' <code>balance.low</code>, once each time.</p>
  <form method="post" action="/account/low-balance">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <label for="low-balance-threshold">Alert threshold (${currency})</label>
    <input id="low-balance-threshold" name="low_balance_threshold" type="text" inputmode="decimal" autocomplete="off" value="${value}" placeholder="${formatMoney(threshold.defaultMinor)}" aria-describedby="low-balance-hint"${form.error ? html` aria-invalid="true"` : ""}>
    <p class="hint" id="low-balance-hint">Such as 10.00; 0 to be warned only when nothing is left. Empty: the default, ${amount(threshold.defaultMinor)}.</p>
    <button type="submit">Save the threshold</button>
  </form>
</section>`;
}

export function accountPage(frame: PageFrame, view: AccountView): Html {
  return layout(
    { ...frame, title: "Account", current: "/account" },
    html`<h1>Account</h1>
<section class="card">
  <h2>Details</h2>
  <dl class="facts">
    <dt>Email</dt><dd>${view.email}</dd>
    <dt>Balance</dt><dd data-balance>${view.balance} ${view.currency}</dd>
    <dt>Alert threshold</dt><dd><a href="#low-balance">${formatMoney(view.threshold.minor)} ${view.currency}</a></dd>
  </dl>
</section>
${thresholdSection(frame, view)}
${passwordSection(frame, view)}
<section class="card">
  <h2>Where you are signed in</h2>
  <div class="table-wrap">
  <table>
    <thead><tr><th scope="col">Browser</th><th scope="col">Signed in</th><th scope="col">Last seen</th></tr></thead>
    <tbody>
    ${view.sessions.map(
      (s) => html`<tr>
      <td class="wrap">${s.user_agent || "unknown browser"}${s.id_hash === view.currentSession ? html` <strong>(this browser)</strong>` : ""}</td>
      <td>${when(s.created_at)}</td>
      <td>${when(s.last_seen_at)}</td>
    </tr>`,
    )}
    </tbody>
  </table>
  </div>
  <form method="post" action="/account/sign-out-everywhere">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <button type="submit" class="danger">Sign out everywhere</button>
  </form>
</section>`,
  );
}
