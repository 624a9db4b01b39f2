import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { AppError, ConsoleServerNotRunning } from "../domain/errors.ts";
import { type Driver, DriverError } from "../drivers/driver.ts";

type OpenConsole = NonNullable<Driver["openConsole"]>;

import { relayConsole } from "../engine/console-relay.ts";
import type { ConsoleSessions } from "../engine/console-sessions.ts";

export interface ConsoleEndpointOptions {
  /** The driver's openConsole. */
  open: OpenConsole;
  log: Logger;
  sessions: ConsoleSessions;
  idleMs: number;
  /** The control plane's check of a console grant: spent once; false when refused. */
  spend: (serverId: number, grant: string) => Promise<boolean>;
}

/**
 * Where a host agent serves its machines' serial consoles, beside the disks on its transfer address: a
 * WebSocket upgrade of `GET /consoles/{server id}` with the single-use console grant the control plane issued
 * (`Authorization: Bearer`). The grant is spent at the control plane before the machine's console is opened.
 */
export class ConsoleEndpoint {
  readonly #o: ConsoleEndpointOptions;
  readonly #sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  constructor(options: ConsoleEndpointOptions) {
    this.#o = options;
  }

  /** Answers an HTTP upgrade of the transfer listener: a console, or a refusal before the upgrade. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upgrade(req, socket, head).catch((err) => {
      const known = err instanceof AppError;
      if (!known) this.#o.log.warn({ err }, "console could not be opened");
      refuse(
        socket,
        known ? err.status : 503,
        known ? err.code : "console_unavailable",
        known ? err.message : "The console could not be opened.",
      );
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const match = /^\/consoles\/([1-9]\d{0,15})$/.exec(req.url ?? "");
    if (req.method !== "GET" || !match?.[1]) return refuse(socket, 404, "not_found", "Not found.");
    const serverId = Number(match[1]);
    const grant = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!grant || !(await this.#o.spend(serverId, grant))) {
      return refuse(
        socket,
        403,
        "console_grant_invalid",
        "The console grant is unknown, already used, or expired.",
      );
    }
    const release = this.#o.sessions.take(serverId);
    let stream: Duplex;
    try {
      stream = await this.#o.open(String(serverId), {
        signal: AbortSignal.timeout(10_000),
        log: this.#o.log,
      });
    } catch (err) {
      release();
      if (err instanceof DriverError && err.code === "machine_not_running") {
        throw new ConsoleServerNotRunning("not running");
      }
      throw err;
    }
    // A control plane gone before the upgrade completes never reaches the callback: the console is closed here.
    socket.once("close", () => {
      stream.destroy();
      release();
    });
    this.#sockets.handleUpgrade(req, socket, head, (ws) => {
      this.#o.log.info({ server: serverId }, "console opened for the control plane");
      relayConsole(ws, stream, { idleMs: this.#o.idleMs, log: this.#o.log, onClose: release });
    });
  }

  close(): void {
    for (const client of this.#sockets.clients) client.terminate();
    this.#sockets.close();
  }
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Refused"}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
