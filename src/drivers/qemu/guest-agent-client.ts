import { randomInt } from "node:crypto";
import { connect, type Socket } from "node:net";
import { DriverError } from "../driver.ts";

// A client of qemu-guest-agent over the host's end of its virtio-serial channel (qga.sock). QEMU accepts the
// connection whether or not a guest agent listens behind it, and keeps what was written for an agent that may
// never read it (QEMU issue 520), so every call is bounded by a timeout. The channel also outlives a client:
// a reply to an earlier client's request, or half a request, may still be in it. A session therefore starts
// with guest-sync-delimited: 0xFF (which resets the agent's parser), a random id, and everything read before
// the answer carrying that id is dropped.

export type GuestAgentErrorCode = "guest_agent_unavailable" | "guest_agent_timeout" | "guest_agent_failed";

export class GuestAgentError extends DriverError {
  declare readonly code: GuestAgentErrorCode;
  /** The agent's own error class, for guest_agent_failed. */
  readonly errorClass: string | undefined;
  constructor(code: GuestAgentErrorCode, message: string, errorClass?: string) {
    super(code, message);
    this.errorClass = errorClass;
  }
}

export type FsfreezeStatus = "thawed" | "frozen";

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const DELIMITER = 0xff;
const NEWLINE = 0x0a;

export class GuestAgentClient {
  readonly #socket: Socket;
  readonly #path: string;
  readonly #timeoutMs: number;
  #pending: Pending | undefined;
  #buffer = Buffer.alloc(0);
  /** Until the sync's answer: the id it carries; replies before it are stale. */
  #syncId: number | undefined;
  #closed: Error | undefined;

  private constructor(socket: Socket, path: string, timeoutMs: number) {
    this.#socket = socket;
    this.#path = path;
    this.#timeoutMs = timeoutMs;
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    const fail = (error: Error) => {
      this.#closed ??= error;
      this.#pending?.reject(this.#unavailable(`the connection ended: ${error.message}`));
      this.#pending = undefined;
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("closed")));
  }

  /**
   * Connects and synchronises with the agent; every later call is bounded by `timeoutMs` too. Fails with
   * guest_agent_unavailable when nothing listens or no agent answers in time.
   */
  static async connect(path: string, options: { timeoutMs?: number } = {}): Promise<GuestAgentClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = connect(path);
    const client = new GuestAgentClient(socket, path, timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      const id = randomInt(1, 2 ** 31);
      client.#syncId = id;
      socket.write(Buffer.from([DELIMITER]));
      const answer = await client.#request(
        "guest-sync-delimited",
        { id },
        timeoutMs,
        "guest_agent_unavailable",
      );
      if (answer !== id) throw client.#unavailable(`the sync answered ${JSON.stringify(answer)}, not ${id}`);
      return client;
    } catch (error) {
      socket.destroy();
      if (error instanceof GuestAgentError) throw error;
      throw client.#unavailable(String(error instanceof Error ? error.message : error));
    }
  }

  /** Connects, runs `use`, and closes, whatever `use` does. */
  static async with<T>(
    path: string,
    use: (agent: GuestAgentClient) => Promise<T>,
    options: { timeoutMs?: number } = {},
  ): Promise<T> {
    const agent = await GuestAgentClient.connect(path, options);
    try {
      return await use(agent);
    } finally {
      agent.close();
    }
  }

  async ping(): Promise<void> {
    await this.#request("guest-ping");
  }

  /**
   * Freezes the guest's filesystems on block devices and returns how many it froze. After a timeout the
   * guest may still freeze: thaw through a new connection.
   */
  async fsfreezeFreeze(timeoutMs = this.#timeoutMs): Promise<number> {
    return Number(await this.#request("guest-fsfreeze-freeze", undefined, timeoutMs));
  }

  /** Thaws what a freeze froze; returns how many filesystems it thawed (0 when none was frozen). */
  async fsfreezeThaw(timeoutMs = this.#timeoutMs): Promise<number> {
    return Number(await this.#request("guest-fsfreeze-thaw", undefined, timeoutMs));
  }

  async fsfreezeStatus(): Promise<FsfreezeStatus> {
    return (await this.#request("guest-fsfreeze-status")) as FsfreezeStatus;
  }

  close(): void {
    this.#socket.destroy();
  }

  /** One command at a time: the agent answers in order and an answer names no request. */
  #request(
    command: string,
    args?: Record<string, unknown>,
    timeoutMs = this.#timeoutMs,
    onTimeout: "guest_agent_timeout" | "guest_agent_unavailable" = "guest_agent_timeout",
  ): Promise<unknown> {
    if (this.#closed)
      return Promise.reject(this.#unavailable(`the connection ended: ${this.#closed.message}`));
    if (this.#pending) {
      return Promise.reject(new Error(`guest agent: ${command} sent while ${this.#pending.command} waits`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        // A late answer would be taken for the next command's: this connection is done.
        this.close();
        reject(
          new GuestAgentError(
            onTimeout,
            `the guest agent at ${this.#path} did not answer ${command} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending = {
        command,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#socket.write(
        `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
      );
    });
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#syncId !== undefined) {
        // Before the sync's answer anything may be stale, even half a message: the agent sends 0xFF
        // right before that answer, and a line that does not parse is dropped.
        const delimiter = this.#buffer.indexOf(DELIMITER);
        const newline = this.#buffer.indexOf(NEWLINE);
        if (delimiter < 0 && newline < 0) return;
        const end = delimiter >= 0 && (newline < 0 || delimiter < newline) ? delimiter : newline;
        const piece = this.#buffer.subarray(0, end).toString("utf8");
        this.#buffer = this.#buffer.subarray(end + 1);
        const message = parse(piece);
        if (message && "return" in message && message.return === this.#syncId) {
          this.#syncId = undefined;
          this.#answer(message);
        }
        continue;
      }
      const newline = this.#buffer.indexOf(NEWLINE);
      if (newline < 0) return;
      const line = this.#buffer.subarray(0, newline).toString("utf8").trim();
      this.#buffer = this.#buffer.subarray(newline + 1);
      const message = parse(line);
      if (message) this.#answer(message);
    }
  }

  #answer(message: Record<string, unknown>): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    if ("error" in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(
        new GuestAgentError(
          "guest_agent_failed",
          `the guest agent refused ${pending.command}: ${error.desc ?? "error"}`,
          error.class ?? "GenericError",
        ),
      );
    } else {
      pending.resolve(message.return);
    }
  }

  #unavailable(detail: string): GuestAgentError {
    return new GuestAgentError("guest_agent_unavailable", `no guest agent at ${this.#path}: ${detail}`);
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  if (!text.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
