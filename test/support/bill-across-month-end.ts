import type { SettableClock } from "./settable-clock.ts";
import type { TestApp } from "./test-app.ts";

const HOUR = 3_600_000;

/**
 * Runs the billing cycle five hours on, half an hour before `next` (the month's end), and two and four hours
 * after it: past the hour the month's statement is closed, with two hours of the new month charged.
 */
export async function billAcrossMonthEnd(t: TestApp, clock: SettableClock, next: number): Promise<void> {
  clock.advance(5 * HOUR);
  await t.app.engine.billing.runOnce();
  clock.advance(next - HOUR / 2 - clock.now().getTime());
  await t.app.engine.billing.runOnce();
  clock.advance(2 * HOUR);
  await t.app.engine.billing.runOnce();
  clock.advance(2 * HOUR);
  await t.app.engine.billing.runOnce();
}
