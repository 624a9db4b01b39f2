import type { FastifyInstance } from "fastify";

/**
 * JSON bodies as Fastify parses them, except that an empty body is no body: the original documentation's
 * samples send `Content-Type: application/json` with empty POSTs (start, stop, reboot), and Python's
 * requests adds `Content-Length: 0` to them.
 */
export function registerJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
