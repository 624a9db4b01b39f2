import { pino } from "pino";
import { createApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { openDatabase } from "../db/database.ts";
import { Repositories } from "../db/repositories/repositories.ts";
import { systemClock } from "../domain/clock.ts";
import { createDriver } from "../drivers/create-driver.ts";

/** The OpenAPI document exactly as the service serves it, built from the route schemas. */
export async function buildOpenApiDocument(): Promise<string> {
  const config = loadConfig({ DATABASE_URL: ":memory:" });
  const database = await openDatabase(config.databaseUrl);
  try {
    const driver = createDriver(config, new Repositories(database.db), systemClock);
    const app = await createApp({
      config,
      database,
      driver,
      clock: systemClock,
      log: pino({ level: "silent" }),
    });
    await app.http.ready();
    const document = `${JSON.stringify(app.http.swagger(), null, 2)}\n`;
    await app.http.close();
    return document;
  } finally {
    await database.close();
  }
}
