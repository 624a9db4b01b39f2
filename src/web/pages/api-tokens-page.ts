import type { TokenListing } from "../../db/repositories/token-repository.ts";
import { type Html, html } from "../html.ts";
import { alert, layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { copyableSecret } from "./copyable-secret.ts";

/** The create form as it was sent, when the service refused it. */
export interface TokenForm {
  name?: string;
  error?: string;
}

function tokenRow(token: TokenListing): Html {
  return html`<tr data-token-id="${token.id}"${token.revoked_at ? html` class="revoked"` : ""}>
      <th scope="row">${token.name}</th>
      <td>${when(token.created_at)}</td>
      <td>${token.revoked_at ? html`Revoked ${when(token.revoked_at)}` : "Active"}</td>
      <td class="row-actions">${
        token.revoked_at
          ? ""
          : html`<a class="button danger" href="/api-tokens/${token.id}/revoke" aria-label="Revoke the token ${token.name}">Revoke…</a>`
      }</td>
    </tr>`;
}

function createForm(frame: PageFrame, form: TokenForm): Html {
  return html`<section class="card">
  <h2 id="create-token">Create a token</h2>
  ${alert(form.error)}
  <form method="post" action="/api-tokens" aria-labelledby="create-token">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <label for="token-name">Name</label>
    <input id="token-name" name="name" type="text" required maxlength="100" value="${form.name ?? ""}" aria-describedby="token-name-hint"${form.error ? html` aria-invalid="true"` : ""}>
    <p class="hint" id="token-name-hint">What it is for, such as “ci deploys” or “laptop”: the list shows names, never tokens.</p>
    <button type="submit">Create the token</button>
  </form>
</section>`;
}

export function apiTokensPage(frame: PageFrame, tokens: TokenListing[], form: TokenForm = {}): Html {
  return layout(
    { ...frame, title: "API tokens", current: "/api-tokens" },
    html`<h1>API tokens</h1>
<section class="card">
  <h2>Your tokens</h2>
  <p class="hint">Programs call the API with <code>Authorization: Bearer &lt;token&gt;</code>. A token is shown once, when it is created; revoke one you no longer use or may have leaked.</p>
  <div class="table-wrap">
  <table class="tokens">
    <thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
    ${tokens.length === 0 ? html`<tr><td colspan="4" class="empty">No API tokens yet.</td></tr>` : tokens.map(tokenRow)}
    </tbody>
  </table>
  </div>
</section>
${createForm(frame, form)}`,
  );
}

/** The answer to a create: the only page that ever shows the token. */
export function createdTokenPage(frame: PageFrame, name: string, token: string): Html {
  return layout(
    { ...frame, title: "Your new API token", current: "/api-tokens" },
    html`<section class="card">
  <h1>Your new API token “${name}”</h1>
  <p class="notice" role="alert"><strong>Copy it now: it is shown only this once.</strong> Only a digest of it is kept, so nobody can show it to you again; if you lose it, revoke it and create another.</p>
  ${copyableSecret("new-token", "API token", token)}
  <p><a href="/api-tokens">Back to your API tokens</a></p>
</section>`,
  );
}

/** Asks before revoking: a page of its own, so that it needs no script and works from the keyboard. */
export function revokeTokenPage(frame: PageFrame, token: TokenListing): Html {
  return layout(
    { ...frame, title: "Revoke an API token", current: "/api-tokens" },
    html`<section class="card narrow">
  <h1>Revoke the API token “${token.name}”?</h1>
  ${
    token.revoked_at
      ? html`<p>It was revoked ${when(token.revoked_at)}.</p><p><a href="/api-tokens">Back to your API tokens</a></p>`
      : html`<p>Created ${when(token.created_at)}. Every program that uses it is refused from its next request on; this cannot be undone.</p>
  <form method="post" action="/api-tokens/${token.id}/revoke" class="confirm">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <button type="submit" class="danger">Revoke the token</button>
    <a href="/api-tokens">Cancel</a>
  </form>`
  }
</section>`,
  );
}
