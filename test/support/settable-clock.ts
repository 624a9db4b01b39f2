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

/**
 * A clock at midnight (UTC) of the 2nd of next month, so that a test's hours stay in one calendar month until it
 * moves them on; with that month's first instant (`start`), the next month's (`next`) and its YYYY-MM.
 */
export function clockInNextMonth(): { clock: SettableClock; start: number; next: number; month: string } {
  const clock = new SettableClock();
  const now = new Date();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1);
  clock.advance(start + 24 * 3_600_000 - now.getTime());
  return { clock, start, next, month: new Date(start).toISOString().slice(0, 7) };
}
