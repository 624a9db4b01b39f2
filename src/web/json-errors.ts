import type { FastifyError, FastifyInstance } from "fastify";
import { toAppError } from "../api/error-handler.ts";

/**
 * Routes that a page's own script calls (a console ticket, usage series) answer errors as the API does,
 * `{"error": {"code", "message"}}`, for the script to show, instead of an error page.
 */
export function answerErrorsAsJson(scope: FastifyInstance, bodyLimit: number): void {
  scope.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, bodyLimit, request.headers["content-type"]);
    if (appError.status >= 500) request.log.error({ err: error }, "page request failed");
    return reply.status(appError.status).send({ error: { code: appError.code, message: appError.message } });
  });
}
