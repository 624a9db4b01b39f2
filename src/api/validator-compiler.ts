import { Ajv, type ErrorObject } from "ajv";
import type { FastifySchemaCompiler } from "fastify";
import type { FieldErrors } from "../domain/errors.ts";
import { parseCanonicalId } from "./canonical-id.ts";

// Bodies are validated strictly: a wrong JSON type is an error, never silently coerced, and unknown
// fields are rejected rather than dropped. Query strings arrive as text, so they are coerced to the
// declared types. Path parameters are not coerced: an integer one (an id) is read by parseCanonicalId, so
// that "0x3039" or "012345" is no id at all (a 404) rather than another spelling of 12345.
const options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
const strictAjv = new Ajv({ ...options, coerceTypes: false });
const coercingAjv = new Ajv({ ...options, coerceTypes: true });
for (const ajv of [strictAjv, coercingAjv]) {
  ajv.addFormat("date-time", true);
}

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (httpPart === "params") return paramsValidator(schema as ObjectSchema);
  const ajv = httpPart === "body" ? strictAjv : coercingAjv;
  return ajv.compile(schema as object);
};

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
}

function paramsValidator(schema: ObjectSchema) {
  const validate = strictAjv.compile(schema);
  const ids = Object.entries(schema.properties ?? {})
    .filter(([, property]) => property.type === "integer")
    .map(([name]) => name);
  const validator = (params: Record<string, unknown>) => {
    const value = { ...params };
    for (const name of ids) {
      const text = value[name];
      // Text that is no canonical id stays text, which the integer schema then refuses.
      if (typeof text === "string") value[name] = parseCanonicalId(text) ?? text;
    }
    if (validate(value)) return { value };
    validator.errors = validate.errors;
    return false;
  };
  validator.errors = null as typeof validate.errors;
  return validator;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean (true or false)",
  object: "a JSON object",
  array: "an array",
  null: "null",
};

function describe(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return "This field is required.";
    case "additionalProperties":
      return "Unknown field.";
    case "type":
      return `Must be ${String(p.type)
        .split(",")
        .map((t) => TYPE_NAMES[t] ?? t)
        .join(" or ")}.`;
    case "minimum":
      return `Must be at least ${p.limit}.`;
    case "maximum":
      return `Must be at most ${p.limit}.`;
    case "minLength":
      return p.limit === 1 ? "Must not be empty." : `Must be at least ${p.limit} characters.`;
    case "maxLength":
      return `Must be at most ${p.limit} characters.`;
    case "enum":
      return `Must be one of: ${(p.allowedValues as unknown[]).join(", ")}.`;
    default:
      return error.message ? `${error.message[0]?.toUpperCase()}${error.message.slice(1)}.` : "Is invalid.";
  }
}

/** Ajv's errors as messages per field name, e.g. { name: ["This field is required."] }. */
export function fieldErrors(errors: ErrorObject[], part: string): FieldErrors {
  const fields: FieldErrors = {};
  for (const error of errors) {
    const p = error.params as Record<string, unknown>;
    const path = error.instancePath.split("/").filter(Boolean).join(".");
    const field =
      error.keyword === "required"
        ? [path, String(p.missingProperty)].filter(Boolean).join(".")
        : error.keyword === "additionalProperties"
          ? [path, String(p.additionalProperty)].filter(Boolean).join(".")
          : path || part;
    const messages = fields[field] ?? [];
    const message = describe(error);
    if (!messages.includes(message)) messages.push(message);
    fields[field] = messages;
  }
  return fields;
}
