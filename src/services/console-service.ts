import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import { hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import {
  CONSOLE_GRANT_TTL_SECONDS,
  CONSOLE_SECRET,
  CONSOLE_TICKET_TTL_SECONDS,
  generateConsoleGrant,
  generateConsoleTicket,
} from "../domain/console-tickets.ts";
import {
  ConsoleGrantInvalid,
  ConsoleLimitReached,
  ConsoleServerNotRunning,
  ConsoleTicketInvalid,
  ConsoleUnavailable,
  ServerNotFound,
} from "../domain/errors.ts";
import { type Driver, DriverError } from "../drivers/driver.ts";
import { AgentConsoleRefused, connectAgentConsole } from "../engine/agent-console.ts";
import type { ConsoleSessions } from "../engine/console-sessions.ts";

export interface ConsoleServiceOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  /** This process's driver, which opens the consoles of its embedded hosts' machines. */
  driver: Driver;
  /** The embedded hosts this process drives (the others are reached through their agents). */
  embeddedHostIds: () => readonly number[];
  sessions: ConsoleSessions;
}

/** A console opened for a ticket: its bytes both ways, and its place among the server's consoles to give back. */
export interface OpenConsole {
  serverId: number;
  stream: Duplex;
  release: () => void;
}

/**
 * Serial consoles: a ticket for an account's running server, and the console it opens once, in this process
 * for a machine of an embedded host, or through the host's agent with a single-use grant the agent spends here.
 */
export class ConsoleService {
  readonly #o: ConsoleServiceOptions;

  constructor(options: ConsoleServiceOptions) {
    this.#o = options;
  }

  /**
   * A single-use ticket for the console of the account's server, which must be active and have a console place
   * left (checked again when the ticket is spent: two tickets may race for the last place).
   */
  async issueTicket(accountId: number, serverId: number): Promise<{ ticket: string; expiresAt: string }> {
    const { repos, clock, sessions } = this.#o;
    const server = await repos.servers.findById(serverId);
    if (!server || server.account_id !== accountId || server.deleted_at !== null) throw new ServerNotFound();
    if (server.status !== "active") throw new ConsoleServerNotRunning(server.status);
    if (sessions.full(serverId)) throw new ConsoleLimitReached(sessions.limit);
    const ticket = generateConsoleTicket();
    const expiresAt = isoAt(clock, CONSOLE_TICKET_TTL_SECONDS * 1000);
    await repos.consoleTickets.issue(
      {
        token_hash: hashToken(ticket),
        kind: "ticket",
        server_id: serverId,
        account_id: accountId,
        host_id: null,
        expires_at: expiresAt,
        created_at: isoAt(clock),
      },
      isoAt(clock),
    );
    return { ticket, expiresAt };
  }

  /** Spends the ticket and opens its server's console; the server must still be its account's and active. */
  async open(ticket: string): Promise<OpenConsole> {
    const { repos, clock, sessions } = this.#o;
    const spent = CONSOLE_SECRET.test(ticket)
      ? await repos.consoleTickets.spend("ticket", hashToken(ticket), isoAt(clock))
      : undefined;
    if (!spent) throw new ConsoleTicketInvalid();
    const server = await repos.servers.findById(spent.server_id);
    if (!server || server.account_id !== spent.account_id || server.deleted_at !== null) {
      throw new ServerNotFound();
    }
    if (server.status !== "active") throw new ConsoleServerNotRunning(server.status);
    if (server.host_id === null) throw new ConsoleUnavailable("The server is on no host yet.");
    const release = sessions.take(server.id);
    try {
      const stream = await this.#connect(server.id, server.host_id);
      return { serverId: server.id, stream, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The agent's check of a grant before it opens a console: valid once, for this host and server. */
  async spendGrant(hostId: number, serverId: number, grant: string): Promise<void> {
    const { repos, clock } = this.#o;
    const spent = CONSOLE_SECRET.test(grant)
      ? await repos.consoleTickets.spend("grant", hashToken(grant), isoAt(clock))
      : undefined;
    if (!spent || spent.host_id !== hostId || spent.server_id !== serverId) throw new ConsoleGrantInvalid();
  }

  async #connect(serverId: number, hostId: number): Promise<Duplex> {
    const { repos, clock, driver, log } = this.#o;
    const call = { signal: AbortSignal.timeout(10_000), log };
    if (this.#o.embeddedHostIds().includes(hostId)) {
      if (!driver.openConsole) throw new ConsoleUnavailable(`The ${driver.name} driver has no consoles.`);
      try {
        return await driver.openConsole(String(serverId), call);
      } catch (err) {
        if (err instanceof DriverError && err.code === "machine_not_running") {
          throw new ConsoleServerNotRunning("not running");
        }
        log.warn({ err, server: serverId }, "the console could not be opened");
        throw new ConsoleUnavailable();
      }
    }
    const host = await repos.hosts.findById(hostId);
    if (!host?.transfer_url) {
      throw new ConsoleUnavailable(
        "The server's host serves no consoles (its agent has no transfer address).",
      );
    }
    const grant = generateConsoleGrant();
    await repos.consoleTickets.issue(
      {
        token_hash: hashToken(grant),
        kind: "grant",
        server_id: serverId,
        account_id: null,
        host_id: hostId,
        expires_at: isoAt(clock, CONSOLE_GRANT_TTL_SECONDS * 1000),
        created_at: isoAt(clock),
      },
      isoAt(clock),
    );
    try {
      return await connectAgentConsole(host.transfer_url, serverId, grant, 10_000);
    } catch (err) {
      if (err instanceof AgentConsoleRefused && err.code === "server_not_running") {
        throw new ConsoleServerNotRunning("not running");
      }
      if (err instanceof AgentConsoleRefused && err.code === "console_limit_reached") {
        throw new ConsoleLimitReached(this.#o.sessions.limit);
      }
      log.warn({ err, server: serverId, host: hostId }, "the host agent's console could not be reached");
      throw new ConsoleUnavailable();
    }
  }
}
