import type { Repositories } from "../db/repositories/repositories.ts";

/** Writes one operation's end; resolves false when the worker's lease was lost and nothing was written. */
export type SettleWrites = (tx: Repositories) => Promise<boolean>;

/** The shared rows an end writes besides its server's and its counts': a group locks them all first, in one order. */
export interface SettleRows {
  serverId: number;
  /** It changes what its host holds (frees or resizes its allocation). */
  host?: boolean;
  /** It moves its account's balance (a refund). */
  account?: boolean;
}

interface Waiting {
  writes: SettleWrites;
  rows?: SettleRows;
  done: (written: boolean) => void;
  failed: (err: unknown) => void;
}

/**
 * Commits the ends of operations. Alone, each in its own transaction. Grouped: the ends that arrive while a
 * commit is under way wait for it and then commit together, so a burst of finishing operations pays one commit
 * (and on PostgreSQL one `BEGIN`, one `COMMIT` and one WAL flush) instead of one each. The first end after a
 * quiet spell commits at once, so a lone operation waits for nobody. Each end's writes are fenced by its own
 * lease, so one lost lease changes nothing of the others; if the grouped transaction fails, each end is retried
 * in a transaction of its own.
 *
 * A group first locks every shared row its ends will write, each kind in key order and the kinds in the order
 * every other transaction takes them: the servers (by id), their count rows (by account, status, location), their
 * hosts, their accounts (by id); a power request takes its server and then its counts, a create its counts, host
 * and account, the billing cycle servers and then accounts. So two processes' groups, or a group and any of
 * those, cannot wait on each other in a cycle; should PostgreSQL break a deadlock anyway, the fallback commits
 * each end alone.
 */
export class SettlementQueue {
  readonly #repos: Repositories;
  readonly #grouped: boolean;
  readonly #limit: number;
  #waiting: Waiting[] = [];
  #draining = false;

  constructor(repos: Repositories, grouped: boolean, limit = 64) {
    this.#repos = repos;
    this.#grouped = grouped;
    this.#limit = limit;
  }

  /** `rows`: the shared rows the end writes; none, for an end that writes only rows of its own. */
  settle(writes: SettleWrites, rows?: SettleRows): Promise<boolean> {
    if (!this.#grouped) return this.#repos.transaction(writes);
    return new Promise<boolean>((done, failed) => {
      this.#waiting.push({ writes, rows, done, failed });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        // In server order, the order of their locks: each end's writes then take rows the group already holds.
        const group = this.#waiting
          .splice(0, this.#limit)
          .sort((a, b) => (a.rows?.serverId ?? 0) - (b.rows?.serverId ?? 0));
        await this.#commit(group);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #commit(group: Waiting[]): Promise<void> {
    let written: boolean[];
    try {
      written = await this.#repos.transaction(async (tx) => {
        if (group.length > 1) await lockInOrder(tx, group);
        const results: boolean[] = [];
        for (const end of group) results.push(await end.writes(tx));
        return results;
      });
    } catch {
      // One end's failure must not cost the others theirs: each alone, with its own outcome.
      for (const end of group) {
        await this.#repos.transaction(end.writes).then(end.done, end.failed);
      }
      return;
    }
    group.forEach((end, i) => {
      end.done(written[i] ?? false);
    });
  }
}

/** Locks the group's shared rows: servers, their counts, hosts, accounts, each in key order (PostgreSQL). */
async function lockInOrder(tx: Repositories, group: readonly Waiting[]): Promise<void> {
  const rows = group.flatMap((end) => (end.rows ? [end.rows] : []));
  const servers = await tx.servers.lockWithCounts([...new Set(rows.map((r) => r.serverId))]);
  await tx.hostAllocations.lockHostsOf(rows.filter((r) => r.host).map((r) => r.serverId));
  const refunding = new Set(rows.filter((r) => r.account).map((r) => r.serverId));
  const accounts = servers.filter((s) => refunding.has(s.id)).map((s) => s.account_id);
  await tx.accounts.lockInOrder([...new Set(accounts)].sort((a, b) => a - b));
}
