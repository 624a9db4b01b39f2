import type { Logger } from "pino";
import type { WorkArrivals } from "./work-arrivals.ts";

interface Waiter {
  hostId: number;
  done: () => void;
}

/**
 * Agents' claims waiting for work, woken per host. An arrival used to wake every waiting claim, and each then read
 * the queue for its host (whether it is down, a claim, the next due time): with a thousand agents waiting, each
 * create cost thousands of statements. Now one read per arrival (`hostsWithWork`: the hosts of the due, unleased
 * operations; arrivals during it are answered by one more) wakes the claims of those hosts only, and all of them
 * when it cannot tell (a long queue, or the read failed). A claim woken for nothing looks and waits again.
 */
export class HostWorkWaits {
  readonly #work: WorkArrivals;
  readonly #hostsWithWork: () => Promise<Set<number> | undefined>;
  readonly #log: Logger;
  readonly #waiters = new Set<Waiter>();
  #checking = false;
  #again = false;

  constructor(work: WorkArrivals, hostsWithWork: () => Promise<Set<number> | undefined>, log: Logger) {
    this.#work = work;
    this.#hostsWithWork = hostsWithWork;
    this.#log = log;
    work.onArrival(() => this.#arrived());
  }

  /**
   * Resolves once an arrival after `seen` (WorkArrivals.count when the host's queue was read) may have brought the
   * host work, at once if one came already; on `signal`, at close, or after `ms`.
   */
  after(hostId: number, seen: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#work.count !== seen || this.#work.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = {
        hostId,
        done: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          signal?.removeEventListener("abort", waiter.done);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, Math.max(0, ms));
      signal?.addEventListener("abort", waiter.done);
      this.#waiters.add(waiter);
    });
  }

  #arrived(): void {
    if (this.#work.closed) {
      for (const waiter of [...this.#waiters]) waiter.done();
      return;
    }
    if (this.#waiters.size === 0) return;
    if (this.#checking) {
      this.#again = true;
      return;
    }
    void this.#check();
  }

  async #check(): Promise<void> {
    this.#checking = true;
    try {
      do {
        this.#again = false;
        let hosts: Set<number> | undefined;
        try {
          hosts = await this.#hostsWithWork();
        } catch (err) {
          this.#log.warn({ err }, "could not tell which hosts have work; every waiting claim looks");
        }
        for (const waiter of [...this.#waiters]) {
          if (hosts === undefined || hosts.has(waiter.hostId)) waiter.done();
        }
      } while (this.#again && this.#waiters.size > 0);
    } finally {
      this.#checking = false;
    }
  }
}
