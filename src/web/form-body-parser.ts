import type { FastifyInstance } from "fastify";
import { AppError, InvalidInput } from "../domain/errors.ts";

/**
 * Pages take forms only as application/x-www-form-urlencoded (what a browser's form and htmx send); the API
 * keeps JSON only. A field sent twice keeps its last value.
 */
export function registerFormBodyParser(scope: FastifyInstance, bodyLimit: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body.toString()))),
  );
  scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    const type = request.headers["content-type"] ?? "(none)";
    done(
      new AppError(
        415,
        "unsupported_media_type",
        `Content-Type "${type}" is not supported; forms are sent as application/x-www-form-urlencoded.`,
      ),
      undefined,
    );
  });
}

/** A form field as a string ("" when absent). */
export function formField(body: unknown, name: string): string {
  if (typeof body !== "object" || body === null) return "";
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : "";
}

/** A form field naming a row by its id: decimal digits, as the API's paths take them. */
export function formId(body: unknown, name: string): number {
  const value = formField(body, name);
  if (!/^[1-9][0-9]{0,14}$/.test(value)) throw InvalidInput.field(name, "Choose one of the listed options.");
  return Number(value);
}
