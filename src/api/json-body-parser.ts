import type { FastifyInstance } from "fastify";
import { UnsupportedMediaType } from "../domain/errors.ts";

/**
 * JSON bodies as Fastify parses them, except that an empty body is no body: the original documentation's
 * samples send `Content-Type: application/json` with empty POSTs (start, stop, reboot), and Python's
 * requests adds `Content-Length: 0` to them. JSON is the only media type: Fastify's default text/plain
 * parser would hand a string to the validator (a 400 instead of the 415 the body deserves), so any other
 * type with a body is a 415, and with an empty body it is no body, as above.
 */
export function registerJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    done(new UnsupportedMediaType(request.headers["content-type"] ?? "(none)"), undefined);
  });
}
