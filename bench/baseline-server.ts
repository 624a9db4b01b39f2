// The baseline of every figure: a bare Fastify route on this machine that answers the given JSON body, the
// same bytes the real endpoint answers. Usage: node bench/baseline-server.ts PORT BODY_FILE
import { readFileSync } from "node:fs";
import Fastify from "fastify";

const [port, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile ?? "", "utf8");
const app = Fastify();
// Every method: a POST's JSON body is parsed, as the service parses it, and the same bytes answered.
app.all("/*", async (_request, reply) => reply.type("application/json; charset=utf-8").send(body));
await app.listen({ port: Number(port), host: "127.0.0.1" });
process.stdout.write("ready\n");
