import { AppError } from "../domain/errors.ts";

/** A refusal a form shows on itself again (a 4xx from a service); anything else goes to the error page. */
export function formError(err: unknown): AppError {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  return err;
}

/** What a form says about a refusal: the first field's message (naming the field), or the error's own. */
export function formErrorMessage(err: AppError): string {
  const [field, messages] = Object.entries(err.fields ?? {})[0] ?? [];
  const first = messages?.[0];
  return field && first ? `${field}: ${first}` : err.message;
}
