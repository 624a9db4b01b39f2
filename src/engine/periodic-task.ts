import type { Logger } from "pino";

/**
 * Runs `task` every `intervalMs`, one run at a time (the next is scheduled when the last has ended), until
 * stopped; `stop()` waits for a run in progress.
 */
export class PeriodicTask {
  readonly #task: () => Promise<unknown>;
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #name: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(name: string, intervalMs: number, log: Logger, task: () => Promise<unknown>) {
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#log = log;
    this.#task = task;
  }

  start(): void {
    const tick = () => {
      this.#running = this.#task()
        .catch((err) => this.#log.error({ err }, `${this.#name} failed`))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
        });
    };
    this.#timer = setTimeout(tick, this.#intervalMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
