import type { FastifyError, FastifyInstance } from "fastify";
import {
  AppError,
  type FieldErrors,
  InvalidInput,
  InvalidJson,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType,
} from "../domain/errors.ts";
import { fieldErrors } from "./validator-compiler.ts";

/** Fields an error body names at most; a body of thousands of bad keys must not get a larger answer. */
const MAX_ERROR_FIELDS = 10;
/** Longest field name an error body repeats back (a key may be as long as the body limit allows). */
const MAX_FIELD_NAME = 100;
/** The entry that says how many more fields were refused than the body names. */
const MORE_FIELDS_KEY = "…";

/** The first MAX_ERROR_FIELDS fields, each name cut to MAX_FIELD_NAME characters, and how many more there were. */
export function boundedFields(fields: FieldErrors): FieldErrors {
  const entries = Object.entries(fields);
  const bounded: FieldErrors = {};
  for (const [field, messages] of entries.slice(0, MAX_ERROR_FIELDS)) {
    const name = field.length > MAX_FIELD_NAME ? `${field.slice(0, MAX_FIELD_NAME)}…` : field;
    bounded[name] = [...(bounded[name] ?? []), ...messages.slice(0, MAX_ERROR_FIELDS)];
  }
  const more = entries.length - MAX_ERROR_FIELDS;
  if (more > 0) bounded[MORE_FIELDS_KEY] = [`and ${more} more`];
  return bounded;
}

/** Maps anything thrown while serving a request to the one error shape, with a stable code. */
export function toAppError(
  error: FastifyError,
  bodyLimit: number,
  contentType: string | undefined,
): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) {
    // A malformed id names no resource: the contract makes it a 404, not a 400.
    if (error.validationContext === "params") return new NotFound();
    return new InvalidInput(fieldErrors(error.validation as never, error.validationContext ?? "body"));
  }
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new UnsupportedMediaType(contentType ?? "(none)");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new PayloadTooLarge(bodyLimit);
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new AppError(400, "invalid_request", "The Content-Length header does not match the body.");
  }
  if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new InvalidJson(error.message);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError(error.statusCode, "invalid_request", error.message);
  }
  return new AppError(500, "internal_error", "An internal error occurred; it has been logged.");
}

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, bodyLimit, request.headers["content-type"]);
    if (appError.status >= 500) request.log.error({ err: error }, "request failed");
    const body: { code: string; message: string; fields?: Record<string, string[]>; action_id?: number } = {
      code: appError.code,
      message: appError.message,
    };
    if (appError.fields) body.fields = boundedFields(appError.fields);
    if (appError.actionId !== undefined) body.action_id = appError.actionId;
    return reply.status(appError.status).send({ error: body });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split("?")[0] ?? "").slice(0, 200);
    return reply.status(404).send({
      error: { code: "not_found", message: `No endpoint ${request.method} ${path}; see /docs.` },
    });
  });
}
