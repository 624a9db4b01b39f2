import pg from "pg";
import type { Logger } from "pino";

/**
 * Holds one connection that LISTENs on a channel and calls `onNotify` for each notification, so that a
 * worker in this process wakes as soon as any process commits work. A lost connection is re-established
 * with backoff; meanwhile the workers' slow poll is the safety net.
 */
export class PostgresListener {
  readonly #url: string;
  readonly #channel: string;
  readonly #onNotify: (payload: string) => void;
  readonly #log: Logger;
  #client: pg.Client | undefined;
  #stopped = false;
  #retryMs = 250;
  #timer: NodeJS.Timeout | undefined;
  /** Connections already given up on: "error" and "end" both arrive for one loss. */
  readonly #lost = new WeakSet<pg.Client>();

  constructor(url: string, channel: string, onNotify: (payload: string) => void, log: Logger) {
    this.#url = url;
    this.#channel = channel;
    this.#onNotify = onNotify;
    this.#log = log;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    client.on("notification", (message) => this.#onNotify(message.payload ?? ""));
    client.on("error", (err) => {
      this.#log.warn({ err }, "notification connection lost; reconnecting");
      this.#reconnect(client);
    });
    client.on("end", () => this.#reconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
      this.#client = client;
      this.#retryMs = 250;
      // Work committed while the connection was down was not announced: look for it now.
      this.#onNotify("");
    } catch (err) {
      this.#log.warn({ err }, "could not listen for notifications; retrying");
      this.#reconnect(client);
    }
  }

  #reconnect(client: pg.Client): void {
    if (this.#stopped || this.#lost.has(client)) return;
    this.#lost.add(client);
    if (this.#client === client) this.#client = undefined;
    client.end().catch(() => undefined);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
  }
}
