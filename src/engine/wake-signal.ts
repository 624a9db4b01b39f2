/**
 * Wakes a sleeping loop. A wake that arrives while the loop is busy is remembered, so the loop never sleeps
 * through work that was committed just before it went to sleep.
 */
export class WakeSignal {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  /** Resolves on the next wake, or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#resolve = undefined;
        self.#pending = false;
        resolve();
      }
      this.#resolve = done;
    });
  }
}
