import type { Static, TSchema } from "@sinclair/typebox";
import type { ValidateFunction } from "ajv";
import { fieldErrors, validatorCompiler } from "../api/validator-compiler.ts";
import { InvalidInput } from "../domain/errors.ts";

const compiled = new WeakMap<TSchema, ValidateFunction>();

/**
 * A form's values checked against the API's own body schema, so that a page and the API refuse the same input
 * with the same messages (400 invalid_input); forms send text, so numbers are converted first (`integer`).
 */
export function checkedForm<T extends TSchema>(schema: T, value: Record<string, unknown>): Static<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = validatorCompiler({ schema, httpPart: "body", method: "POST", url: "" }) as ValidateFunction;
    compiled.set(schema, validate);
  }
  if (!validate(value)) throw new InvalidInput(fieldErrors(validate.errors ?? [], "body"));
  return value as Static<T>;
}

/** A whole number typed in a form, or the text as it is (which an integer schema then refuses). */
export function integer(text: string): number | string {
  return /^-?\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : text;
}
