import type { WebSessionRow } from "../../db/schema.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";

export interface AccountView {
  email: string;
  balance: string;
  currency: string;
  sessions: WebSessionRow[];
  /** The id hash of this browser's own session, to mark it in the list. */
  currentSession: string;
}

/** A stored timestamp as people read it, to the minute, in UTC. */
export function when(iso: string): Html {
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}

export function accountPage(frame: PageFrame, view: AccountView): Html {
  return layout(
    { ...frame, title: "Account", current: "/account" },
    html`<h1>Account</h1>
<section class="card">
  <h2>Details</h2>
  <dl class="facts">
    <dt>Email</dt><dd>${view.email}</dd>
    <dt>Balance</dt><dd>${view.balance} ${view.currency}</dd>
  </dl>
</section>
<section class="card">
  <h2>Where you are signed in</h2>
  <div class="table-wrap">
  <table>
    <thead><tr><th scope="col">Browser</th><th scope="col">Signed in</th><th scope="col">Last seen</th></tr></thead>
    <tbody>
    ${view.sessions.map(
      (s) => html`<tr>
      <td>${s.user_agent || "unknown browser"}${s.id_hash === view.currentSession ? html` <strong>(this browser)</strong>` : ""}</td>
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
