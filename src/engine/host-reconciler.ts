import type { Logger } from "pino";
import type { ObservedPower } from "../domain/host-reconciliation.ts";
import type { Driver } from "../drivers/driver.ts";

/** What makes a returned host match the database (the services' HostReconciliationService). */
export interface HostReconciler {
  reconcile(
    hostId: number,
    observed: ReadonlyMap<string, ObservedPower>,
  ): Promise<{ queued: number; destroy: string[] }>;
}

/**
 * Reconciles an embedded host that returns: observes its driver's machines, has the reconciler queue the
 * corrections (the worker carries them out as any operation), and destroys the machines of no server itself.
 */
export async function reconcileEmbeddedHost(
  hostId: number,
  driver: Driver,
  reconciler: HostReconciler,
  log: Logger,
): Promise<void> {
  const call = { signal: AbortSignal.timeout(60_000), log };
  const observed = new Map<string, ObservedPower>();
  for (const machine of await driver.list(call)) observed.set(machine, await driver.info(machine, call));
  const { queued, destroy } = await reconciler.reconcile(hostId, observed);
  for (const machine of destroy) await driver.destroy(machine, call);
  log.info({ host: hostId, machines: observed.size, queued, destroyed: destroy.length }, "host reconciled");
}
