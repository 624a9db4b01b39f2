import { AppError } from "../domain/errors.ts";
import { type Html, html } from "./html.ts";

/** A form's error, to show on the form again; anything else (a fault, a 5xx) goes on to the error page. */
export function formError(err: unknown): AppError {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  return err;
}

/** The first field's message ("amount: Must be…"), or the error's own. */
export function formErrorText(err: AppError): string {
  const first = err.fields ? Object.entries(err.fields)[0] : undefined;
  return first?.[1][0] ? `${first[0]}: ${first[1][0]}` : err.message;
}

/** A form's error above it, with its stable code, announced to screen readers. */
export function errorAlert(err: AppError | undefined): Html {
  if (!err) return html``;
  return html`<p class="alert" role="alert">${formErrorText(err)} <code class="code">${err.code}</code></p>`;
}
