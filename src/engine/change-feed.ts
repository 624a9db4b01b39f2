import { EventEmitter } from "node:events";

/**
 * Tells requests that wait (`?wait=`) that a server's operation has ended, so that they look again at once
 * instead of polling: fed by this process's worker and, on PostgreSQL, by notifications from every process.
 */
export class ChangeFeed {
  readonly #events = new EventEmitter();

  constructor() {
    // Each waiting request listens for a moment; many may wait on one busy server.
    this.#events.setMaxListeners(0);
  }

  emit(serverId: number): void {
    this.#events.emit(String(serverId));
  }

  /** Resolves at the next change of the server, or after `ms`, whichever comes first. */
  next(serverId: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const key = String(serverId);
      const done = () => {
        clearTimeout(timer);
        this.#events.off(key, done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#events.on(key, done);
    });
  }
}
