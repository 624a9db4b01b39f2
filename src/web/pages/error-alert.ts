import type { AppError } from "../../domain/errors.ts";
import { type Html, html } from "../html.ts";

/** A service's refusal above a form: its message, its stable code, and what was wrong with each field. */
export function errorAlert(error: AppError | undefined, extra?: Html): Html {
  if (!error) return html``;
  const fields = Object.entries(error.fields ?? {});
  return html`<div class="alert" role="alert">
  <p>${error.message} <code class="code">${error.code}</code></p>
  ${fields.length > 0 ? html`<ul class="alert-fields">${fields.map(([field, messages]) => html`<li><strong>${field}</strong>: ${messages.join(" ")}</li>`)}</ul>` : ""}
  ${extra ?? ""}
</div>`;
}
