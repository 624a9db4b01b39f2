import type { Repositories } from "../db/repositories/repositories.ts";
import type { ServerRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { type Correction, type ObservedPower, reconciliationPlan } from "../domain/host-reconciliation.ts";
import { LIFECYCLE, type OperationKind } from "../domain/lifecycle.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";

export interface HostReconciliationOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  maxAttempts: number;
}

export interface Reconciliation {
  corrections: Correction[];
  /** How many operations were queued (a correction whose server changed meanwhile queues none). */
  queued: number;
  /** Machines of no server: the host destroys them itself, as no operation can name them. */
  destroy: string[];
}

/**
 * Makes a host that returns match the database, from what it observes: each correction of the plan becomes an
 * operation of the server, queued as any request queues one (a compare-and-swap on the server as it was read,
 * and the operation, in one transaction), so the host's worker converges through the normal operation path and
 * a request or a concurrent reconciliation that came first wins. Called for an embedded host whose heartbeat
 * resumes after it was down, and for an agent's report.
 */
export class HostReconciliationService {
  readonly #o: HostReconciliationOptions;

  constructor(options: HostReconciliationOptions) {
    this.#o = options;
  }

  async reconcile(hostId: number, observed: ReadonlyMap<string, ObservedPower>): Promise<Reconciliation> {
    const { repos, notifier } = this.#o;
    const ids = [...observed.keys()].filter((name) => /^[1-9]\d{0,15}$/.test(name)).map(Number);
    const [rows, busy] = await Promise.all([repos.servers.findByIds(ids), repos.hostFailures.busy(ids)]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const corrections = reconciliationPlan(
      hostId,
      observed,
      rows.map((row) => ({
        id: row.id,
        hostId: row.host_id,
        status: row.status,
        deleted: row.deleted_at !== null,
        busy: busy.has(row.id),
      })),
    );
    let queued = 0;
    const destroy: string[] = [];
    for (const correction of corrections) {
      const server = correction.serverId === null ? undefined : byId.get(correction.serverId);
      if (!server) destroy.push(correction.machine);
      else if (await this.#queue(server, correction)) queued++;
    }
    if (queued > 0) notifier.wake();
    return { corrections, queued, destroy };
  }

  /** The correction's operation, if the server is still as it was read. */
  async #queue(server: ServerRow, correction: Correction): Promise<boolean> {
    const { repos, clock, maxAttempts } = this.#o;
    const kind = kindOf(correction);
    return repos.transaction(async (tx) => {
      const now = isoAt(clock);
      const guard = { unchangedSince: server.updated_at };
      const { transitional } = LIFECYCLE[kind];
      const swapped =
        transitional === server.status
          ? await tx.hostFailures.touchIfUnchanged(server.id, server.updated_at, now)
          : await tx.servers.swapStatus(server.id, server.status, transitional, now, guard);
      if (!swapped) return false;
      await tx.operations.insert({
        serverId: server.id,
        accountId: server.account_id,
        kind,
        maxAttempts,
        now,
      });
      return true;
    });
  }
}

/** The operation that carries out a correction: a suspended server's machine is powered off by `suspend`. */
function kindOf(correction: Correction): OperationKind {
  if (correction.action === "destroy") return "delete";
  if (correction.action === "start") return "start";
  return correction.status === "suspended" ? "suspend" : "stop";
}
