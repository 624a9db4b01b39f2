import type { SshKeyRow } from "../../db/schema.ts";
import { type Html, html } from "../html.ts";
import { alert, layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";

/** The add form as it was sent, when the service refused it: shown again with the reason. */
export interface SshKeyForm {
  name?: string;
  publicKey?: string;
  error?: string;
  /** The field the error is about, marked invalid. */
  field?: string;
}

const invalid = (form: SshKeyForm, field: string) => (form.field === field ? html` aria-invalid="true"` : "");

export function sshKeysPage(frame: PageFrame, keys: SshKeyRow[], form: SshKeyForm = {}): Html {
  return layout(
    { ...frame, title: "SSH keys", current: "/ssh-keys" },
    html`<h1>SSH keys</h1>
<section class="card">
  <h2>Your keys</h2>
  <p class="hint">A new server can be built with one of these keys installed for root.</p>
  <div class="table-wrap">
  <table class="keys">
    <thead><tr><th scope="col">Name</th><th scope="col">Fingerprint</th><th scope="col">Type</th><th scope="col">Added</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
    ${
      keys.length === 0
        ? html`<tr><td colspan="5" class="empty">No SSH keys yet. Add one below.</td></tr>`
        : keys.map(
            (key) => html`<tr data-key-id="${key.id}">
      <th scope="row">${key.name}</th>
      <td><code class="fingerprint">${key.fingerprint}</code></td>
      <td>${key.key_type} (${key.bits} bits)</td>
      <td>${when(key.created_at)}</td>
      <td class="row-actions"><a class="button danger" href="/ssh-keys/${key.id}/delete" aria-label="Delete the key ${key.name}">Delete…</a></td>
    </tr>`,
          )
    }
    </tbody>
  </table>
  </div>
</section>
<section class="card">
  <h2 id="add-key">Add a key</h2>
  ${alert(form.error)}
  <form method="post" action="/ssh-keys" aria-labelledby="add-key">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <label for="key-name">Name</label>
    <input id="key-name" name="name" type="text" required maxlength="100" value="${form.name ?? ""}"${invalid(form, "name")}>
    <label for="public-key">Public key</label>
    <textarea id="public-key" name="public_key" required rows="4" spellcheck="false" autocomplete="off" aria-describedby="public-key-hint"${invalid(form, "public_key")}>${form.publicKey ?? ""}</textarea>
    <p class="hint" id="public-key-hint">One line from a <code>.pub</code> file, such as <code>~/.ssh/id_ed25519.pub</code>: ed25519, ECDSA, or RSA of 2048 bits or more.</p>
    <button type="submit">Add the key</button>
  </form>
</section>`,
  );
}

/** Asks before deleting: a page of its own, so that it needs no script and works from the keyboard. */
export function deleteSshKeyPage(frame: PageFrame, key: SshKeyRow): Html {
  return layout(
    { ...frame, title: "Delete an SSH key", current: "/ssh-keys" },
    html`<section class="card narrow">
  <h1>Delete the SSH key “${key.name}”?</h1>
  <p><code class="fingerprint">${key.fingerprint}</code></p>
  <p>Servers built with it keep it; new servers can no longer be built with it.</p>
  <form method="post" action="/ssh-keys/${key.id}/delete" class="confirm">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <button type="submit" class="danger">Delete the key</button>
    <a href="/ssh-keys">Cancel</a>
  </form>
</section>`,
  );
}
