import type { Repositories } from "../db/repositories/repositories.ts";

/** Writes one operation's end; resolves false when the worker's lease was lost and nothing was written. */
export type SettleWrites = (tx: Repositories) => Promise<boolean>;

interface Waiting {
  writes: SettleWrites;
  done: (written: boolean) => void;
  failed: (err: unknown) => void;
}

/**
 * Commits the ends of operations. Alone, each in its own transaction. Grouped (for a database with one writer,
 * SQLite, where transactions queue anyway and a commit costs more than the writes in it): the ends that arrive
 * while a commit is under way wait for it and then commit together, so a burst of finishing operations pays
 * one commit instead of one each. The first end after a quiet spell commits at once, so a lone operation
 * waits for nobody. Each end's writes are fenced by its own lease, so one lost lease changes nothing of the
 * others; if the grouped transaction fails, each end is retried in a transaction of its own.
 *
 * PostgreSQL runs settlements concurrently over its pool instead: a transaction that moved several servers
 * could take their count rows in an order that deadlocks with another's.
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

  settle(writes: SettleWrites): Promise<boolean> {
    if (!this.#grouped) return this.#repos.transaction(writes);
    return new Promise<boolean>((done, failed) => {
      this.#waiting.push({ writes, done, failed });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#waiting.splice(0, this.#limit);
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
