// Regenerates the committed openapi.json from the route schemas: npm run openapi
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOpenApiDocument } from "../src/api/openapi-document.ts";

const target = join(import.meta.dirname, "..", "openapi.json");
writeFileSync(target, await buildOpenApiDocument());
process.stdout.write(`wrote ${target}\n`);
