import type { Clock } from "../../src/domain/clock.ts";

/** The real time moved by however far a test has advanced it: the service runs, and its days pass at once. */
export class SettableClock implements Clock {
  #offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}
