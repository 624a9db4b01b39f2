import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import { freshSince } from "../domain/host-placement.ts";
import { GIVING_UP_KINDS, type OperationKind } from "../domain/lifecycle.ts";
import { applySettlement, unavailableOf } from "./operation-settlement.ts";
import { PeriodicTask } from "./periodic-task.ts";

export interface HostUnavailableSweepOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  /** VPS_HOST_DOWN_AFTER_MS: the same rule placement uses to call a host down. */
  downAfterMs: number;
  /** VPS_HOST_UNAVAILABLE_AFTER_MS: how long after it was queued an operation on a down host gives up. */
  unavailableAfterMs: number;
  /** Called after an operation's end (failed) is committed, with its server and its kind. */
  onEnded?: (serverId: number, kind: OperationKind) => void;
}

export const HOST_UNAVAILABLE = {
  code: "host_unavailable",
  message: "The server's host did not answer in time; nothing was changed and the server is as it was.",
} as const;

const BATCH = 500;

/**
 * The deadline of operations whose host is down: one still unfinished `unavailableAfterMs` after it was queued,
 * held by no live lease, ends `failed` with `host_unavailable` and its server goes back to where it came from
 * (the lifecycle's `revert`; a create's charge is refunded; a migration's step abandons its migration, which
 * leaves the server on its source). A delete, or a migration's clean-up, never gives up. Every end is one
 * transaction behind a compare-and-swap on the operation's status, attempt and lease, so any number of
 * processes may sweep at once and each operation ends once; a claim or a result that comes first wins.
 */
export class HostUnavailableSweep {
  readonly #o: HostUnavailableSweepOptions;
  readonly #task: PeriodicTask;

  constructor(options: HostUnavailableSweepOptions) {
    this.#o = options;
    // As often as the embedded hosts beat: the deadline is met within a third of the down threshold.
    this.#task = new PeriodicTask(
      "host unavailable sweep",
      Math.max(1000, Math.floor(options.downAfterMs / 3)),
      options.log,
      () => this.runOnce(),
    );
  }

  start(): void {
    this.#task.start();
  }

  stop(): Promise<void> {
    return this.#task.stop();
  }

  /** Gives up every operation past its deadline; how many this call ended. */
  async runOnce(): Promise<number> {
    const { repos, clock, log, downAfterMs, unavailableAfterMs } = this.#o;
    const at = clock.now();
    const now = at.toISOString();
    const query = {
      since: freshSince(at, downAfterMs),
      queuedBefore: new Date(at.getTime() - unavailableAfterMs).toISOString(),
      now,
      kinds: GIVING_UP_KINDS,
      limit: BATCH,
    };
    let ended = 0;
    for (;;) {
      const batch = await repos.hostFailures.stranded(query);
      let endedNow = 0;
      for (const op of batch) {
        const given = await repos.transaction(async (tx) => {
          if (!(await tx.hostFailures.giveUp(op, now, HOST_UNAVAILABLE))) return false;
          const settlement = unavailableOf(op.kind);
          await applySettlement(tx, { id: op.id, serverId: op.server_id }, settlement, now, HOST_UNAVAILABLE);
          return true;
        });
        if (!given) continue;
        endedNow++;
        log.warn(
          { operation: op.id, server: op.server_id, kind: op.kind },
          "host unavailable; operation given up",
        );
        this.#o.onEnded?.(op.server_id, op.kind);
      }
      ended += endedNow;
      if (batch.length < BATCH || endedNow === 0) return ended;
    }
  }
}
