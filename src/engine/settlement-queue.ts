import type { Repositories } from "../db/repositories/repositories.ts";
import type { StoredServerStatus } from "../domain/server-status.ts";
import { type PlainEnd, writePlainEnds } from "./operation-settlement.ts";

/** Writes one operation's end; resolves false when the worker's lease was lost and nothing was written. */
export type SettleWrites = (tx: Repositories) => Promise<boolean>;

/** The shared rows an end writes besides its server's and its counts': a group locks them all first, in one order. */
export interface SettleRows {
  serverId: number;
  /** It changes what its host holds (frees or resizes its allocation). */
  host?: boolean;
  /** It moves its account's balance (a refund). */
  account?: boolean;
  /**
   * The status swap of an end that writes no host or account (whose writes must then swap no status themselves,
   * or a group would take count rows out of order): made after the writes, once they are written, with
   * the group's others in one statement, so the group holds the count rows only from there to its commit.
   */
  swap?: { from: StoredServerStatus; to: StoredServerStatus; now: string };
  /**
   * The end described as data when it is a plain one (its `writes` do no more than this): a group writes all of
   * its plain ends with one statement per kind of write instead of their `writes` one by one.
   */
  plain?: PlainEnd;
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
 * A group takes every shared row its ends write in one order, each kind in key order and the kinds in the order
 * every other transaction takes them: the servers (by id), their count rows (by account, status, location), their
 * hosts, their accounts (by id); a power request takes its server and then its counts, a create its counts, host
 * and account, the billing cycle servers and then accounts. So two groups, of one process or two, or a group and
 * any of those, cannot wait on each other in a cycle; should PostgreSQL break a deadlock anyway, the fallback
 * commits each end alone. The plain ends are written together (their ends, their webhooks' lookup, their SSH
 * endpoints: one statement each for the group), and their status swaps come last, in one statement, so the hot
 * count rows are held from there to the commit only.
 */
export class SettlementQueue {
  readonly #repos: Repositories;
  readonly #grouped: boolean;
  readonly #limit: number;
  readonly #inFlight: number;
  #waiting: Waiting[] = [];
  #committing = 0;

  /** `inFlight`: how many groups may commit at once (PostgreSQL's pool runs them side by side; SQLite, one). */
  constructor(repos: Repositories, grouped: boolean, limit = 64, inFlight = 1) {
    this.#repos = repos;
    this.#grouped = grouped;
    this.#limit = limit;
    this.#inFlight = inFlight;
  }

  /** `rows`: the shared rows the end writes; none, for an end that writes only rows of its own. */
  settle(writes: SettleWrites, rows?: SettleRows): Promise<boolean> {
    if (!this.#grouped) return this.#repos.transaction((tx) => writeOne(tx, writes, rows));
    return new Promise<boolean>((done, failed) => {
      this.#waiting.push({ writes, rows, done, failed });
      this.#next();
    });
  }

  #next(): void {
    while (this.#committing < this.#inFlight && this.#waiting.length > 0) {
      // In server order, the order of their locks.
      const group = this.#waiting
        .splice(0, this.#limit)
        .sort((a, b) => (a.rows?.serverId ?? 0) - (b.rows?.serverId ?? 0));
      this.#committing++;
      void this.#commit(group).finally(() => {
        this.#committing--;
        this.#next();
      });
    }
  }

  async #commit(group: Waiting[]): Promise<void> {
    let written: boolean[];
    try {
      written = await this.#repos.transaction((tx) => writeGroup(tx, group));
    } catch {
      // One end's failure must not cost the others theirs: each alone, with its own outcome.
      for (const end of group) {
        await this.#repos.transaction((tx) => writeOne(tx, end.writes, end.rows)).then(end.done, end.failed);
      }
      return;
    }
    group.forEach((end, i) => {
      end.done(written[i] ?? false);
    });
  }
}

/** One end alone: its writes, then its deferred swap if they were written. */
async function writeOne(tx: Repositories, writes: SettleWrites, rows?: SettleRows): Promise<boolean> {
  if (!(await writes(tx))) return false;
  if (rows?.swap) await tx.servers.swapStatus(rows.serverId, rows.swap.from, rows.swap.to, rows.swap.now);
  return true;
}

/**
 * A group's ends in one transaction, its shared rows taken in the one order (PostgreSQL): the servers first; the
 * counts, hosts and accounts before the writes when an end writes a host or an account (as a create takes
 * counts, host, account), else the counts just before the group's swaps.
 */
async function writeGroup(tx: Repositories, group: readonly Waiting[]): Promise<boolean[]> {
  if (group.length === 1) {
    const [end] = group as [Waiting];
    return [await writeOne(tx, end.writes, end.rows)];
  }
  const rows = group.flatMap((end) => (end.rows ? [end.rows] : []));
  const servers = await tx.servers.lockInOrder([...new Set(rows.map((r) => r.serverId))]);
  const shared = rows.some((r) => r.host || r.account);
  const moves = rows.flatMap((r) => (r.swap ? [{ id: r.serverId, ...r.swap }] : []));
  if (shared) {
    await tx.servers.lockCountsOf(servers, moves);
    await tx.hostAllocations.lockHostsOf(rows.filter((r) => r.host).map((r) => r.serverId));
    const refunding = new Set(rows.filter((r) => r.account).map((r) => r.serverId));
    await tx.accounts.lockInOrder([
      ...new Set(servers.filter((s) => refunding.has(s.id)).map((s) => s.account_id)),
    ]);
  }
  const plain = group.flatMap((end) => (end.rows?.plain ? [end.rows.plain] : []));
  const plainWritten = plain.length > 1 ? await writePlainEnds(tx, plain) : undefined;
  const results: boolean[] = [];
  for (const end of group) {
    const batched = plainWritten && end.rows?.plain;
    results.push(batched ? plainWritten.has(batched.id) : await end.writes(tx));
  }
  const swaps = group.flatMap((end, i) => {
    const swap = end.rows?.swap;
    return results[i] && swap ? [{ id: end.rows?.serverId ?? 0, ...swap }] : [];
  });
  if (swaps.length > 0) {
    if (!shared) await tx.servers.lockCountsOf(servers, moves);
    await tx.servers.swapStatuses(swaps);
  }
  return results;
}
