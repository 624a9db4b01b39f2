import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import { UpgradeRequired } from "../../domain/errors.ts";
import { relayConsole } from "../../engine/console-relay.ts";
import type { OpenConsole } from "../../services/console-service.ts";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { consoleSocketUrl } from "../page-links.ts";
import { described, ErrorBody, errors, NoContent } from "../schemas/common.ts";
import { ConsoleParams, ConsoleTicket } from "../schemas/consoles.ts";
import { ServerIdParams } from "../schemas/servers.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The console a WebSocket request's ticket opened, before the upgrade. */
    console: OpenConsole | undefined;
  }
}

/**
 * Serial consoles: a ticket (Bearer, the server's account), then a WebSocket whose only credential is that
 * ticket, since a browser cannot set headers on one. The ticket is spent and the console opened before the
 * upgrade, so a refusal is a plain HTTP error.
 */
export const consoleRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const tags = ["servers"];

  await app.register(async (scope) => {
    requireAccount(scope, services.auth, services.rateLimits);
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      "/api/v1/servers/:server_id/console/",
      {
        schema: {
          tags,
          operationId: "createConsoleTicket",
          security: bearerSecurity,
          summary: "Open a server's serial console",
          description:
            "A single-use ticket for the console of an `active` server, valid for 30 seconds: connect a WebSocket " +
            "to `url` (`GET /api/v1/console/{ticket}`). What the guest writes to its first serial port arrives " +
            "as binary messages; what the client sends (text or binary) is typed into it. 409 " +
            "`server_not_running` when the server is not `active`, `console_limit_reached` when it has " +
            "`VPS_CONSOLE_LIMIT` consoles open. The WebSocket (not listed here: OpenAPI has no " +
            "WebSockets) refuses before its upgrade with 401 `console_ticket_invalid` (unknown, used or expired " +
            "ticket), 404 (the server is gone), 409 `server_not_running`, `console_limit_reached` " +
            "(`VPS_CONSOLE_LIMIT` consoles open) or `console_unavailable` (the host cannot be reached), and 426 " +
            "`upgrade_required` for a plain request; it closes when either side does, or after " +
            "`VPS_CONSOLE_IDLE_MS` with no byte either way (close code 4000).",
          params: ServerIdParams,
          response: {
            201: described(ConsoleTicket, "The ticket and the WebSocket URL to connect to."),
            ...errors(401, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const { ticket, expiresAt } = await services.consoles.issueTicket(
          request.accountId,
          request.params.server_id,
        );
        const url = consoleSocketUrl(request, services.config.publicUrl, ticket);
        return reply.status(201).send({ ticket, url, expires_at: expiresAt });
      },
    );
  });

  app.decorateRequest("console", undefined);
  app.get(
    "/api/v1/console/:ticket",
    {
      websocket: true,
      schema: {
        tags,
        operationId: "openConsole",
        summary: "The serial console's WebSocket",
        description:
          "Connect with a WebSocket client; the ticket in the path is the only credential and is spent by the " +
          "connection. Refused before the upgrade: 401 `console_ticket_invalid` (unknown, used or expired), " +
          "404 (the server is gone), 409 `server_not_running`, `console_limit_reached` (the server has " +
          "`VPS_CONSOLE_LIMIT` consoles open) or `console_unavailable` (its host cannot be reached), 426 " +
          "`upgrade_required` for a plain request. The console closes when either side closes, or after " +
          "`VPS_CONSOLE_IDLE_MS` with no byte either way (close code 4000).",
        params: ConsoleParams,
        response: {
          101: described(NoContent, "Switching protocols: the console."),
          ...errors(401, 404, 409),
          426: Type.Ref(ErrorBody, { description: "Upgrade required: connect with a WebSocket client." }),
        },
      },
      // The ticket is a credential: the request's log line names the route, not the ticket.
      logSerializers: { req: (req: FastifyRequest) => ({ method: req.method, url: "/api/v1/console/…" }) },
      preValidation: async (request) => {
        if (!request.ws) throw new UpgradeRequired();
        const { ticket } = request.params as { ticket: string };
        const open = await services.consoles.open(ticket);
        request.console = open;
        // A client gone before the upgrade completes never reaches the handler: its console is closed here.
        request.raw.socket.once("close", () => {
          open.stream.destroy();
          open.release();
        });
      },
    },
    (socket, request) => {
      const open = request.console;
      if (!open) return socket.close(1011);
      request.log.info({ server: open.serverId }, "console opened");
      relayConsole(socket, open.stream, {
        idleMs: services.config.console.idleMs,
        log: request.log,
        onClose: () => {
          open.release();
          request.log.info({ server: open.serverId }, "console closed");
        },
      });
    },
  );
};
