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

  /**
   * Listens from now on: `next(ms)` resolves at once if the server changed since, else at its next change or
   * after `ms`. Taken before a read, so that a change announced while the read is under way is not missed.
   */
  watch(serverId: number): { next(ms: number): Promise<void>; stop(): void } {
    const key = String(serverId);
    let changed = false;
    let wake: (() => void) | undefined;
    const seen = () => {
      changed = true;
      wake?.();
    };
    this.#events.on(key, seen);
    return {
      next: (ms) =>
        changed
          ? Promise.resolve()
          : new Promise((resolve) => {
              const timer = setTimeout(done, Math.max(0, ms));
              function done() {
                clearTimeout(timer);
                wake = undefined;
                resolve();
              }
              wake = done;
            }),
      stop: () => {
        this.#events.off(key, seen);
        wake?.();
      },
    };
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
