import { pino } from "pino";
import type { Db } from "../../src/db/database.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { Clock } from "../../src/domain/clock.ts";
import { BillingCycle } from "../../src/engine/billing-cycle.ts";

/**
 * A billing cycle as another process runs it: its own connections to the test's database, run by hand
 * (`runOnce`), no low-balance threshold and no bandwidth price unless a test's prices say otherwise.
 */
export function billingCycleOn(
  db: Db,
  clock: Clock,
  prices: { backupPricePercent: number; snapshotPriceMinorPerGbMonth: number },
): BillingCycle {
  return new BillingCycle({
    repos: new Repositories(db),
    clock,
    log: pino({ level: "silent" }),
    notifier: { wake() {} },
    intervalMs: 60_000,
    maxAttempts: 3,
    lowBalanceMinor: 0,
    bandwidthPriceMinorPerGb: 0,
    ...prices,
  });
}
