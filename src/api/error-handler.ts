import type { FastifyError, FastifyInstance } from "fastify";
import {
  AppError,
  InvalidInput,
  InvalidJson,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType,
} from "../domain/errors.ts";
import { fieldErrors } from "./validator-compiler.ts";

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
    if (appError.fields) body.fields = appError.fields;
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
