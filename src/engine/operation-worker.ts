import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { DriverError } from "../drivers/driver.ts";
import { processAlive } from "../drivers/process-alive.ts";
import { retryDelayMs } from "./backoff.ts";
import type { OperationRunner, Settlement } from "./operation-runner.ts";
import { refundCharges } from "./refund-charges.ts";
import { SettlementQueue } from "./settlement-queue.ts";
import { WakeSignal } from "./wake-signal.ts";

export interface OperationWorkerOptions {
  repos: Repositories;
  runner: OperationRunner;
  clock: Clock;
  log: Logger;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  retryBaseMs: number;
  /** Commit the ends of operations that finish together in one transaction (for SQLite's one writer). */
  groupSettlements?: boolean;
  /** Called after an operation has ended and its result is committed. */
  onSettled?: (op: OperationRow, settlement: Settlement) => void;
}

class LeaseLost extends Error {}

/**
 * Claims operations with a lease and runs them, several at a time. Woken at once by `wake()` after a request
 * commits; a slow poll is the safety net. A worker that dies leaves its leases to expire, or, when it is
 * seen to be dead on this host, to be released at the next start.
 */
export class OperationWorker {
  /** host:pid:random, so a restarted process can tell its dead predecessor's leases from a live one's. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #o: OperationWorkerOptions;
  readonly #signal = new WakeSignal();
  readonly #inFlight = new Map<number, { controller: AbortController; done: Promise<void> }>();
  #stopping = false;
  #loop: Promise<void> | undefined;

  readonly #settlements: SettlementQueue;

  constructor(options: OperationWorkerOptions) {
    this.#o = options;
    this.#settlements = new SettlementQueue(options.repos, options.groupSettlements ?? false);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async start(): Promise<void> {
    await this.recover();
    this.#loop = this.#run();
  }

  wake(): void {
    this.#signal.wake();
  }

  /** Releases the leases of workers on this host whose process is gone, so their operations resume now. */
  async recover(): Promise<number> {
    const here = hostname();
    const dead = (await this.#o.repos.operations.leaseOwners()).filter((owner) => {
      const [host, pid] = owner.split(":");
      return host === here && Number(pid) !== process.pid && !processAlive(Number(pid));
    });
    const released = await this.#o.repos.operations.releaseLeases(dead, isoAt(this.#o.clock));
    if (released > 0) this.#o.log.info({ released, owners: dead }, "resumed operations of a stopped worker");
    return released;
  }

  /** Stops claiming, lets running operations finish for up to `graceMs`, then aborts them and frees their leases. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#signal.wake();
    await this.#loop;
    const all = Promise.all([...this.#inFlight.values()].map((f) => f.done));
    const timedOut = await Promise.race([all.then(() => false), delay(graceMs).then(() => true)]);
    if (timedOut) {
      for (const flight of this.#inFlight.values()) flight.controller.abort(new Error("worker stopping"));
      await all;
    }
    await this.#o.repos.operations.releaseLeases([this.owner], isoAt(this.#o.clock));
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        // Every free slot in one claim: with a long queue, claiming costs one statement per batch.
        while (!this.#stopping && this.#inFlight.size < this.#o.concurrency) {
          const free = this.#o.concurrency - this.#inFlight.size;
          const ops = await this.#o.repos.operations.claim(
            this.owner,
            isoAt(this.#o.clock),
            isoAt(this.#o.clock, this.#o.leaseMs),
            free,
          );
          for (const op of ops) this.#launch(op);
          if (ops.length < free) break;
        }
        await this.#signal.wait(await this.#sleepMs());
      } catch (error) {
        this.#o.log.error({ err: error }, "operation worker loop failed; retrying");
        await this.#signal.wait(this.#o.pollMs);
      }
    }
  }

  async #sleepMs(): Promise<number> {
    if (this.#inFlight.size >= this.#o.concurrency) return this.#o.pollMs;
    const due = await this.#o.repos.operations.nextDue(isoAt(this.#o.clock));
    if (due === undefined) return this.#o.pollMs;
    return Math.max(1, Math.min(this.#o.pollMs, Date.parse(due) - this.#o.clock.now().getTime()));
  }

  #launch(op: OperationRow): void {
    const controller = new AbortController();
    const done = this.#execute(op, controller).finally(() => {
      this.#inFlight.delete(op.id);
      this.#signal.wake();
    });
    this.#inFlight.set(op.id, { controller, done });
  }

  async #execute(op: OperationRow, controller: AbortController): Promise<void> {
    const log = this.#o.log.child({
      operation: op.id,
      kind: op.kind,
      server: op.server_id,
      attempt: op.attempts,
    });
    log.info("operation started");
    const heartbeat = setInterval(
      () => {
        this.#o.repos.operations
          .extendLease(op.id, this.owner, isoAt(this.#o.clock, this.#o.leaseMs))
          .then((kept) => {
            if (!kept) controller.abort(new LeaseLost("lease lost"));
          })
          .catch((err) => log.warn({ err }, "lease renewal failed"));
      },
      Math.max(100, Math.floor(this.#o.leaseMs / 3)),
    );
    try {
      let settlement: Settlement;
      let error: { code: string; message: string } | undefined;
      try {
        settlement = await this.#o.runner.execute(op, { signal: controller.signal, log });
      } catch (err) {
        if (controller.signal.aborted) {
          log.warn({ reason: String(controller.signal.reason) }, "operation interrupted; it will resume");
          return;
        }
        error = describe(err);
        const permanent = err instanceof DriverError && err.permanent;
        if (!permanent && op.attempts < op.max_attempts) {
          const wait = retryDelayMs(op.attempts, this.#o.retryBaseMs);
          log.warn({ err, retryInMs: wait }, "operation step failed; will retry");
          await this.#o.repos.operations.retryLater(
            op.id,
            this.owner,
            isoAt(this.#o.clock, wait),
            isoAt(this.#o.clock),
            error,
          );
          return;
        }
        log.error({ err }, "operation failed for good");
        settlement = this.#o.runner.failure(op);
      }
      await this.#settle(op, settlement, error);
      log.info({ status: settlement.status }, "operation finished");
      this.#o.onSettled?.(op, settlement);
    } catch (err) {
      if (err instanceof LeaseLost) log.warn("lease was taken over; leaving the operation to its new owner");
      else log.error({ err }, "could not record the operation's result; it will resume");
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The operation's end and its effect on the server commit together, fenced by this worker's lease. */
  async #settle(
    op: OperationRow,
    settlement: Settlement,
    error?: { code: string; message: string },
  ): Promise<void> {
    const now = isoAt(this.#o.clock);
    const written = await this.#settlements.settle(async (tx) => {
      if (!(await tx.operations.finish(op.id, this.owner, settlement.status, now, error, op.server_id))) {
        return false;
      }
      if (settlement.swap)
        await tx.servers.swapStatus(op.server_id, settlement.swap.from, settlement.swap.to, now);
      if (settlement.ssh !== undefined) await tx.servers.setSshEndpoint(op.server_id, settlement.ssh);
      if (settlement.releaseAddresses) {
        await tx.addresses.release(op.server_id);
        await tx.hosts.release(op.server_id, now);
        await tx.servers.setSshEndpoint(op.server_id, null);
        await tx.usage.delete(op.server_id);
      }
      if (settlement.refund) await refundCharges(tx, op, now);
      return true;
    });
    if (!written) throw new LeaseLost();
  }
}

function describe(err: unknown): { code: string; message: string } {
  if (err instanceof DriverError) return { code: err.code, message: err.message };
  return { code: "internal", message: err instanceof Error ? err.message : String(err) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
