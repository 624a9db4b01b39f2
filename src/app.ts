import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import { corsOptions } from "./api/cors-options.ts";
import { registerErrorHandling } from "./api/error-handler.ts";
import { registerJsonBodyParser } from "./api/json-body-parser.ts";
import { openApiOptions } from "./api/openapi-options.ts";
import { actionRoutes } from "./api/routes/actions.ts";
import { adminRoutes } from "./api/routes/admin.ts";
import { agentRoutes } from "./api/routes/agent.ts";
import { catalogueRoutes } from "./api/routes/catalogue.ts";
import { healthRoutes } from "./api/routes/health.ts";
import { hostRoutes } from "./api/routes/hosts.ts";
import { serverRoutes } from "./api/routes/servers.ts";
import { sshKeyRoutes } from "./api/routes/ssh-keys.ts";
import { ErrorBody } from "./api/schemas/common.ts";
import { validatorCompiler } from "./api/validator-compiler.ts";
import type { Config } from "./config.ts";
import type { OpenDatabase } from "./db/database.ts";
import { PostgresListener } from "./db/postgres-listener.ts";
import { OPERATIONS_CHANNEL } from "./db/repositories/operation-repository.ts";
import { Repositories } from "./db/repositories/repositories.ts";
import type { Clock } from "./domain/clock.ts";
import type { Driver } from "./drivers/driver.ts";
import { BillingCycle } from "./engine/billing-cycle.ts";
import { ChangeFeed } from "./engine/change-feed.ts";
import { OperationRunner } from "./engine/operation-runner.ts";
import { OperationWorker } from "./engine/operation-worker.ts";
import { PowerSync } from "./engine/power-sync.ts";
import { createServices, type Services } from "./services/services.ts";

export interface AppDeps {
  config: Config;
  database: OpenDatabase;
  driver: Driver;
  clock: Clock;
  log: Logger;
}

export interface App {
  http: FastifyInstance;
  services: Services;
  worker: OperationWorker;
  powerSync: PowerSync;
  billing: BillingCycle;
  /** On PostgreSQL, hears what other processes commit (new work, ended operations). */
  startListening(): Promise<void>;
  /** Starts listening, the worker, the power sync and billing (the HTTP server is started by listen). */
  startBackground(): Promise<void>;
  /** Finishes in-flight requests, stops the worker (letting running operations end), closes nothing else. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The operations after which a server runs: its usage is sampled at once. */
const COMES_UP = new Set(["create", "start", "reboot"]);

export async function createApp({ config, database, driver, clock, log }: AppDeps): Promise<App> {
  const repos = new Repositories(database.db);
  const changes = new ChangeFeed();
  const runner = new OperationRunner({ repos, driver, clock, shutdownTimeoutMs: config.shutdownTimeoutMs });
  const powerSync = new PowerSync({
    repos,
    driver,
    clock,
    log: log.child({ component: "power-sync" }),
    intervalMs: config.powerSyncMs,
  });
  const worker = new OperationWorker({
    repos,
    runner,
    clock,
    log: log.child({ component: "worker" }),
    concurrency: config.workerConcurrency,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    retryBaseMs: config.retryBaseMs,
    groupSettlements: database.dialect === "sqlite",
    onSettled: (op, settlement) => {
      changes.emit(op.server_id);
      // Usage right after a server comes up, rather than at the next power sync (a stopped server shows no
      // CPU or memory in use whatever its last sample says).
      if (settlement.status === "succeeded" && COMES_UP.has(op.kind)) {
        repos.servers
          .findById(op.server_id)
          .then(async (server) => {
            if (server && !server.deleted_at) await powerSync.sample(server, server.status === "active");
          })
          .catch((err) => log.warn({ err, server: op.server_id }, "usage sample failed"));
      }
    },
  });
  const services = createServices(config, repos, clock, worker, changes);
  const billing = new BillingCycle({
    repos,
    clock,
    log: log.child({ component: "billing" }),
    notifier: worker,
    intervalMs: config.billingIntervalMs,
    maxAttempts: config.maxAttempts,
  });

  const http = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Errors raised before routing (a malformed percent-encoded path) get the one error shape too.
    frameworkErrors: (error, _request, reply) => {
      (reply as unknown as FastifyReply)
        .status(400)
        .send({ error: { code: "invalid_request", message: `Malformed request: ${error.message}` } });
    },
    forceCloseConnections: "idle",
    return503OnClosing: true,
  });
  http.setValidatorCompiler(validatorCompiler);
  // A callback hook, not an async one: it runs on every request and has nothing to wait for.
  http.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  registerJsonBodyParser(http, config.bodyLimitBytes);
  registerErrorHandling(http, config.bodyLimitBytes);
  http.addSchema(ErrorBody);

  await http.register(cors, corsOptions(config));
  await http.register(swagger, openApiOptions);
  await http.register(swaggerUi, { routePrefix: "/docs" });
  http.get("/api/v1/openapi.json", { schema: { hide: true } }, async () => http.swagger());

  await http.register(healthRoutes, { services });
  await http.register(serverRoutes, { services });
  await http.register(catalogueRoutes, { services });
  await http.register(sshKeyRoutes, { services });
  await http.register(adminRoutes, { services });
  await http.register(actionRoutes, { services });
  await http.register(hostRoutes, { services });
  await http.register(agentRoutes, { services });

  let listener: PostgresListener | undefined;
  const startListening = async () => {
    if (database.dialect !== "postgres" || listener) return;
    listener = new PostgresListener(
      database.url,
      OPERATIONS_CHANNEL,
      (payload) => {
        worker.wake();
        if (/^\d+$/.test(payload)) changes.emit(Number(payload));
      },
      log,
    );
    await listener.start();
  };
  return {
    http,
    services,
    worker,
    powerSync,
    billing,
    startListening,
    async startBackground() {
      await startListening();
      await worker.start();
      powerSync.start();
      billing.start();
    },
    async close() {
      // A keep-alive connection whose request was in flight when the close began stays open once answered,
      // and the close would wait out the keep-alive timeout (72 s): close such connections as they go idle.
      const sweep = setInterval(() => http.server.closeIdleConnections(), 50);
      // The worker stops claiming at once, while in-flight requests and operations are let finish.
      try {
        await Promise.all([
          http.close(),
          worker.stop(config.shutdownGraceMs),
          powerSync.stop(),
          billing.stop(),
          listener?.stop(),
        ]);
      } finally {
        clearInterval(sweep);
      }
      // Counts made in memory reach the database before the process goes.
      await services.rateLimits.flush();
    },
  };
}
