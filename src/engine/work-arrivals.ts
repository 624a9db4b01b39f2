import { EventEmitter } from "node:events";

/**
 * Tells agents' long polls that operations may have become runnable (new work, an operation ended, a
 * notification from another process), so a waiting claim looks again at once. A counter lets a waiter that
 * looked at the queue hear of work committed while it was looking.
 */
export class WorkArrivals {
  readonly #events = new EventEmitter();
  #count = 0;
  #closed = false;

  constructor() {
    this.#events.setMaxListeners(0);
  }

  /** How many arrivals so far: pass it to `after` once the queue was read. */
  get count(): number {
    return this.#count;
  }

  notify(): void {
    this.#count++;
    this.#events.emit("work");
  }

  /** Calls `listener` at each arrival (and at close); answers the function that stops it. */
  onArrival(listener: () => void): () => void {
    this.#events.on("work", listener);
    return () => this.#events.off("work", listener);
  }

  /** Ends every wait now and any later one at once: the process is stopping. */
  close(): void {
    this.#closed = true;
    this.#events.emit("work");
  }

  /** Resolves at the first arrival after `seen` (at once if there was one), on `signal`, or after `ms`. */
  after(seen: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#count !== seen || this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#events.off("work", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#events.on("work", done);
      signal?.addEventListener("abort", done);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }
}
