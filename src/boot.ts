import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createMetricsListener } from "./api/metrics-listener.ts";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { type OpenDatabase, openDatabase } from "./db/database.ts";
import { PostgresListener } from "./db/postgres-listener.ts";
import { Repositories } from "./db/repositories/repositories.ts";
import { TOKENS_REVOKED_CHANNEL } from "./db/repositories/token-repository.ts";
import { type Clock, systemClock } from "./domain/clock.ts";
import { freshSince } from "./domain/host-placement.ts";
import { createDriver } from "./drivers/create-driver.ts";
import type { Driver } from "./drivers/driver.ts";
import { Engine } from "./engine/engine.ts";
import { Metrics } from "./metrics/metrics.ts";
import { CatalogueMemory } from "./services/catalogue-memory.ts";
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
  /** The operators' counters and gauges, served at `/metrics`. */
  metrics: Metrics;
  /** The listener of VPS_METRICS_ADDRESS, not listening yet; none when that is unset. */
  metricsHttp: FastifyInstance | undefined;
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
    const metrics = new Metrics({
      queue: () => repos.operations.queueSummary(),
      hosts: () => repos.hosts.countByState(freshSince(clock.now(), config.hostDownAfterMs)),
      pool: database.poolStats,
      now: () => clock.now(),
    });
    // The worker's claims take a server's plan and OS from memory, as the services do.
    const catalogue = new CatalogueMemory(repos);
    const engine = new Engine({ config, database, repos, driver, store, clock, log, metrics, catalogue });
    const services = createServices(config, repos, clock, engine, engine.changes, store, {
      link: engine.link,
      work: engine.work,
      log: log.child({ component: "agents" }),
      driver,
      embeddedHostIds: () => engine.embeddedHosts?.ids ?? [],
    });
    engine.reconciler = services.hostReconciliation;
    const app = await createApp({ config, services, log, metrics });
    const metricsHttp = config.metricsAddress
      ? await createMetricsListener(config, metrics, services.auth, log)
      : undefined;
    // A token revoked through another process is forgotten here when its notice arrives (or, if the notices'
    // connection was lost meanwhile, every verdict is): see TokenVerdicts.
    const revokes =
      database.dialect === "postgres" && config.tokenCacheMs > 0 && config.role !== "worker"
        ? new PostgresListener(
            database.url,
            TOKENS_REVOKED_CHANNEL,
            (payload) =>
              /^\d+$/.test(payload)
                ? services.tokenVerdicts.forget(Number(payload))
                : services.tokenVerdicts.forgetAll(),
            log,
          )
        : undefined;
    await revokes?.start();
    return {
      config,
      database,
      repos,
      driver,
      store,
      engine,
      services,
      http: app.http,
      metrics,
      metricsHttp,
      async close() {
        // The engine stops claiming at once, while in-flight requests and operations are let finish.
        await Promise.all([app.close(), engine.stop(), metricsHttp?.close(), revokes?.stop()]);
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
