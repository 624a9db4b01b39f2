import { connect, type Socket } from "node:net";

// A client of QEMU's machine protocol (QMP) over its unix socket: one JSON object per line, a greeting,
// capability negotiation, then commands answered in order and asynchronous events in between.

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

export class QmpError extends Error {
  readonly errorClass: string;
  constructor(errorClass: string, message: string) {
    super(message);
    this.errorClass = errorClass;
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class QmpClient {
  readonly #socket: Socket;
  readonly #pending: Pending[] = [];
  readonly #events: QmpEvent[] = [];
  /** Each waiter returns whether it took the event. */
  readonly #eventWaiters = new Set<(event: QmpEvent) => boolean>();
  #buffer = "";
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#receive(chunk));
    const fail = (error: Error) => {
      this.#closed = error;
      for (const pending of this.#pending.splice(0)) pending.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("QMP connection closed")));
  }

  /** Connects, reads the greeting and negotiates capabilities; fails after `timeoutMs`. */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const socket = connect(path);
    const client = new QmpClient(socket);
    const greeting = new Promise<unknown>((resolve, reject) => client.#pending.push({ resolve, reject }));
    const timer = setTimeout(
      () => socket.destroy(new Error(`QMP at ${path} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await greeting;
      await client.execute("qmp_capabilities");
      return client;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ resolve: resolve as (value: unknown) => void, reject });
      this.#socket.write(
        `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
      );
    });
  }

  /** Resolves with the first event named `name` received after the call (or already queued), or null on timeout. */
  waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent | null> {
    const queued = this.#events.findIndex((e) => e.event === name);
    if (queued >= 0) return Promise.resolve(this.#events.splice(queued, 1)[0] ?? null);
    return new Promise((resolve) => {
      const waiter = (event: QmpEvent) => {
        if (event.event !== name) return false;
        clearTimeout(timer);
        this.#eventWaiters.delete(waiter);
        resolve(event);
        return true;
      };
      const timer = setTimeout(() => {
        this.#eventWaiters.delete(waiter);
        resolve(null);
      }, timeoutMs);
      this.#eventWaiters.add(waiter);
    });
  }

  /** Forgets events received so far, so that a wait sees only what happens next. */
  clearEvents(): void {
    this.#events.length = 0;
  }

  close(): void {
    this.#socket.destroy();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf("\n");
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line) this.#dispatch(JSON.parse(line) as Record<string, unknown>);
      newline = this.#buffer.indexOf("\n");
    }
  }

  #dispatch(message: Record<string, unknown>): void {
    if ("event" in message) {
      const event = message as unknown as QmpEvent;
      const taken = [...this.#eventWaiters].some((waiter) => waiter(event));
      if (!taken) this.#events.push(event);
      if (this.#events.length > 100) this.#events.shift();
      return;
    }
    const pending = this.#pending.shift();
    if (!pending) return;
    if ("error" in message) {
      const error = message.error as { class?: string; desc?: string };
      pending.reject(new QmpError(error.class ?? "GenericError", error.desc ?? "QMP error"));
    } else {
      pending.resolve("return" in message ? message.return : message.QMP);
    }
  }
}
