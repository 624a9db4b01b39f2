import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import { corsOptions } from "./api/cors-options.ts";
import { registerErrorHandling } from "./api/error-handler.ts";
import { registerJsonBodyParser } from "./api/json-body-parser.ts";
import { openApiOptions } from "./api/openapi-options.ts";
import { countRequests } from "./api/request-metrics.ts";
import { accountLedgerRoutes } from "./api/routes/account-ledger.ts";
import { accountTokenRoutes } from "./api/routes/account-tokens.ts";
import { actionRoutes } from "./api/routes/actions.ts";
import { adminRoutes } from "./api/routes/admin.ts";
import { agentRoutes } from "./api/routes/agent.ts";
import { catalogueRoutes } from "./api/routes/catalogue.ts";
import { consoleRoutes } from "./api/routes/consoles.ts";
import { healthRoutes } from "./api/routes/health.ts";
import { hostRoutes } from "./api/routes/hosts.ts";
import { imageRoutes } from "./api/routes/images.ts";
import { metricsRoutes } from "./api/routes/metrics.ts";
import { serverRoutes } from "./api/routes/servers.ts";
import { sshKeyRoutes } from "./api/routes/ssh-keys.ts";
import { webhookRoutes } from "./api/routes/webhooks.ts";
import { ErrorBody } from "./api/schemas/common.ts";
import { validatorCompiler } from "./api/validator-compiler.ts";
import type { Config } from "./config.ts";
import type { Metrics } from "./metrics/metrics.ts";
import type { Services } from "./services/services.ts";
import { webConsole } from "./web/web-console.ts";

export interface AppDeps {
  config: Config;
  services: Services;
  log: Logger;
  metrics: Metrics;
}

/** The HTTP side of the service: routes over the services, nothing in the background. */
export interface App {
  http: FastifyInstance;
  /** Stops accepting connections and finishes the requests in flight. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createApp({ config, services, log, metrics }: AppDeps): Promise<App> {
  const http = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
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
  countRequests(http, metrics);
  registerJsonBodyParser(http, config.bodyLimitBytes);
  registerErrorHandling(http, config.bodyLimitBytes);
  http.addSchema(ErrorBody);

  await http.register(cors, corsOptions(config));
  await http.register(swagger, openApiOptions);
  await http.register(swaggerUi, { routePrefix: "/docs" });
  // Serial consoles' WebSockets; a console's messages are keystrokes and screen bytes, never large.
  await http.register(websocket, { options: { maxPayload: 64 * 1024 } });
  http.get("/api/v1/openapi.json", { schema: { hide: true } }, async () => http.swagger());

  await http.register(healthRoutes, { services });
  await http.register(serverRoutes, { services });
  await http.register(catalogueRoutes, { services });
  await http.register(sshKeyRoutes, { services });
  await http.register(accountTokenRoutes, { services });
  await http.register(accountLedgerRoutes, { services });
  await http.register(adminRoutes, { services });
  await http.register(actionRoutes, { services });
  await http.register(imageRoutes, { services });
  await http.register(webhookRoutes, { services });
  await http.register(hostRoutes, { services });
  await http.register(agentRoutes, { services });
  // On the main port only behind its token, and only when no listener of its own serves it.
  if (config.metricsToken !== undefined && config.metricsAddress === undefined) {
    await http.register(metricsRoutes, { metrics, auth: services.auth, tokenRequired: true });
  }
  await http.register(webConsole, { services });
  await http.register(consoleRoutes, { services });

  return {
    http,
    async close() {
      // A keep-alive connection whose request was in flight when the close began stays open once answered,
      // and the close would wait out the keep-alive timeout (72 s): close such connections as they go idle.
      const sweep = setInterval(() => http.server.closeIdleConnections(), 50);
      try {
        await http.close();
      } finally {
        clearInterval(sweep);
      }
    },
  };
}
