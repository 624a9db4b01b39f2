import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { type OpenDatabase, openDatabase } from "./db/database.ts";
import { Repositories } from "./db/repositories/repositories.ts";
import { type Clock, systemClock } from "./domain/clock.ts";
import { createDriver } from "./drivers/create-driver.ts";
import type { Driver } from "./drivers/driver.ts";
import { Engine } from "./engine/engine.ts";
import { createServices, type Services } from "./services/services.ts";
import { createImageStore } from "./store/create-image-store.ts";
import type { ImageStore } from "./store/image-store.ts";

export interface BootOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Where images are kept; by default a directory beside the default database's. */
  imageStore?: ImageStore;
}

/** The whole control plane over one database: nothing started yet, neither the engine nor the HTTP listener. */
export interface ControlPlane {
  config: Config;
  database: OpenDatabase;
  /** The one set of repositories the driver, the engine and the services share. */
  repos: Repositories;
  driver: Driver;
  /** Where snapshots and backups are kept. */
  store: ImageStore;
  engine: Engine;
  services: Services;
  http: FastifyInstance;
  /** Finishes in-flight requests, stops the engine (letting running operations end), then closes the database. */
  close(): Promise<void>;
}

/** Opens the database and builds the driver, the engine, the services and the HTTP app on it. */
export async function boot({
  config,
  log,
  clock = systemClock,
  imageStore,
}: BootOptions): Promise<ControlPlane> {
  const database = await openDatabase(config.databaseUrl, undefined, (err) =>
    log.warn({ err }, "an idle database connection was lost; the next query opens a new one"),
  );
  try {
    const repos = new Repositories(database.db);
    const driver = createDriver(config, database, clock);
    const store = imageStore ?? createImageStore(config.imageStore);
    const engine = new Engine({ config, database, repos, driver, store, clock, log });
    const services = createServices(config, repos, clock, engine, engine.changes, store, {
      link: engine.link,
      work: engine.work,
      log: log.child({ component: "agents" }),
      driver,
      embeddedHostIds: () => engine.embeddedHosts?.ids ?? [],
    });
    engine.reconciler = services.hostReconciliation;
    const app = await createApp({ config, services, log });
    return {
      config,
      database,
      repos,
      driver,
      store,
      engine,
      services,
      http: app.http,
      async close() {
        // The engine stops claiming at once, while in-flight requests and operations are let finish.
        await Promise.all([app.close(), engine.stop()]);
        // Counts made in memory reach the database before it closes.
        await services.rateLimits.flush();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
