// Regenerates the committed openapi.json from the route schemas: npm run openapi
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { boot } from "../src/boot.ts";
import { loadConfig } from "../src/config.ts";

// The document exactly as the service serves it, from the app built as main builds it, on a throwaway database.
const plane = await boot({
  config: loadConfig({ DATABASE_URL: ":memory:" }),
  log: pino({ level: "silent" }),
});
try {
  await plane.http.ready();
  const target = join(import.meta.dirname, "..", "openapi.json");
  writeFileSync(target, `${JSON.stringify(plane.http.swagger(), null, 2)}\n`);
  process.stdout.write(`wrote ${target}\n`);
} finally {
  await plane.close();
}
