import { assetUrl } from "../assets.ts";
import { type Html, html } from "../html.ts";

/**
 * A secret shown once, in a read-only field with a Copy button (`assets/copy-button.js`, hidden without the
 * script) and the status line where the button says whether it copied.
 */
export function copyableSecret(id: string, label: string, secret: string): Html {
  return html`<div class="secret">
    <div>
      <label for="${id}">${label}</label>
      <input id="${id}" type="text" readonly value="${secret}" spellcheck="false" autocomplete="off">
    </div>
    <button type="button" data-copy="${id}" hidden>Copy</button>
  </div>
  <p id="${id}-status" class="hint" role="status"></p>
  <script src="${assetUrl("copy-button.js")}" defer></script>`;
}
