import type { WebSessionRow } from "../../db/schema.ts";
import { type Html, html } from "../html.ts";
import { alert, layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";

/** The password form's state: just changed, or refused with a reason (about one field). */
export interface PasswordForm {
  changed?: boolean;
  error?: string;
  field?: string;
}

export interface AccountView {
  email: string;
  balance: string;
  currency: string;
  sessions: WebSessionRow[];
  /** The id hash of this browser's own session, to mark it in the list. */
  currentSession: string;
  password: PasswordForm;
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

export function accountPage(frame: PageFrame, view: AccountView): Html {
  return layout(
    { ...frame, title: "Account", current: "/account" },
    html`<h1>Account</h1>
<section class="card">
  <h2>Details</h2>
  <dl class="facts">
    <dt>Email</dt><dd>${view.email}</dd>
    <dt>Balance</dt><dd data-balance>${view.balance} ${view.currency}</dd>
  </dl>
</section>
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
