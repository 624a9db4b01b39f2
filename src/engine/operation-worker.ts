import type { Logger } from "pino";
import type { Clock } from "../domain/clock.ts";
import { DriverError } from "../drivers/driver.ts";
import type { ClaimedOperation, HostLink, OperationError, Outcome, Recorded } from "./host-link.ts";
import { LeaseNotHeld } from "./lease-not-held.ts";
import { type OperationRunner, startsUnderLease } from "./operation-runner.ts";
import { WakeSignal } from "./wake-signal.ts";

export interface OperationWorkerOptions {
  /** Claims, lease renewals and ends go through it alone. */
  link: HostLink;
  runner: OperationRunner;
  clock: Clock;
  log: Logger;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Run once at start: a local link releases the leases of this machine's dead workers. */
  recover?: () => Promise<number>;
  /** How long a claim may wait for work (a remote link's long poll); 0: the worker sleeps between claims instead. */
  claimWaitMs?: number;
  /** When the next operation falls due with nobody waking the worker (a local link knows; none sleeps `pollMs`). */
  nextDue?: () => Promise<string | undefined>;
}

class LeaseLost extends Error {}

/** How often at most a running operation's progress is written. */
const PROGRESS_EVERY_MS = 1000;

/**
 * Claims operations through its host link and runs them, several at a time. Woken at once by `wake()` after a
 * request commits; a slow poll is the safety net. A worker that dies leaves its leases to expire, or, when it
 * is seen to be dead on this machine, to be released at the next start.
 */
export class OperationWorker {
  readonly #o: OperationWorkerOptions;
  readonly #signal = new WakeSignal();
  readonly #inFlight = new Map<number, { controller: AbortController; done: Promise<void> }>();
  #stopping = false;
  /** Ends a claim that is waiting for work, at stop. */
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: OperationWorkerOptions) {
    this.#o = options;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async start(): Promise<void> {
    await this.#o.recover?.();
    this.#loop = this.#run();
  }

  wake(): void {
    this.#signal.wake();
  }

  /** Stops claiming, lets running operations finish for up to `graceMs`, then aborts them and frees their leases. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#stop.abort();
    this.#signal.wake();
    await this.#loop;
    const all = Promise.all([...this.#inFlight.values()].map((f) => f.done));
    const timedOut = await Promise.race([all.then(() => false), delay(graceMs).then(() => true)]);
    if (timedOut) {
      for (const flight of this.#inFlight.values()) flight.controller.abort(new Error("worker stopping"));
      await all;
    }
    await this.#o.link.release();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        // Every free slot in one claim: with a long queue, claiming costs one statement per batch.
        let claimed = 0;
        while (!this.#stopping && this.#inFlight.size < this.#o.concurrency) {
          const free = this.#o.concurrency - this.#inFlight.size;
          const ops = await this.#o.link.claim(free, this.#o.claimWaitMs ?? 0, this.#stop.signal);
          for (const op of ops) this.#launch(op);
          claimed += ops.length;
          if (ops.length < free) break;
        }
        // A long poll waited already; with every slot taken, the end of an operation wakes the worker.
        if (this.#o.claimWaitMs && this.#inFlight.size < this.#o.concurrency) continue;
        // What it claimed wakes it when it ends, and the loop looks for what falls due then: asking the queue
        // when its next operation is due after every claim cost two statements per operation under load.
        await this.#signal.wait(claimed > 0 ? this.#o.pollMs : await this.#sleepMs());
      } catch (error) {
        this.#o.log.error({ err: error }, "operation worker loop failed; retrying");
        await this.#signal.wait(this.#o.pollMs);
      }
    }
  }

  async #sleepMs(): Promise<number> {
    if (this.#inFlight.size >= this.#o.concurrency || !this.#o.nextDue) return this.#o.pollMs;
    const due = await this.#o.nextDue();
    if (due === undefined) return this.#o.pollMs;
    return Math.max(1, Math.min(this.#o.pollMs, Date.parse(due) - this.#o.clock.now().getTime()));
  }

  #launch(op: ClaimedOperation): void {
    const controller = new AbortController();
    const done = this.#execute(op, controller).finally(() => {
      this.#inFlight.delete(op.id);
      this.#signal.wake();
    });
    this.#inFlight.set(op.id, { controller, done });
  }

  async #execute(op: ClaimedOperation, controller: AbortController): Promise<void> {
    const { link } = this.#o;
    const log = this.#o.log.child({
      operation: op.id,
      kind: op.kind,
      server: op.serverId,
      attempt: op.attempt,
    });
    log.info("operation started");
    const heartbeat = setInterval(
      () => {
        link
          .extend(op)
          .then((kept) => {
            if (!kept) controller.abort(new LeaseLost("lease lost"));
          })
          .catch((err) => log.warn({ err }, "lease renewal failed"));
      },
      Math.max(100, Math.floor(this.#o.leaseMs / 3)),
    );
    // A machine this attempt may have started under its lease: unless its success is recorded, it is fenced.
    const fenced = startsUnderLease(op);
    let fence: { destroy: boolean } | undefined = fenced ? { destroy: false } : undefined;
    try {
      let outcome: Outcome | undefined;
      let failure: unknown;
      try {
        const progress = this.#progress(op, log);
        outcome = await this.#o.runner.execute(op, { signal: controller.signal, log, progress }, () =>
          link.extend(op),
        );
      } catch (err) {
        if (err instanceof LeaseNotHeld) {
          fence = undefined;
          log.warn(
            "lease not renewed before the machine's start: copy destroyed, attempt ended with no result",
          );
          return;
        }
        if (controller.signal.aborted) {
          log.warn({ reason: String(controller.signal.reason) }, "operation interrupted; it will resume");
          return;
        }
        failure = err;
      }
      // The result of a started machine must be taken while the lease holds, or the machine is fenced.
      const left = fenced ? link.leaseLeftMs?.(op) : undefined;
      const recorded: Recorded = outcome
        ? await link.succeed(op, outcome, left === undefined ? undefined : AbortSignal.timeout(left))
        : await link.fail(op, describe(failure), failure instanceof DriverError && failure.permanent);
      if (outcome && recorded.recorded) fence = undefined;
      else if (fence && !recorded.recorded && !recorded.unsure) fence.destroy = true;
      if (!recorded.recorded) {
        log.warn("lease was taken over; leaving the operation to its new owner");
      } else if (recorded.status === "pending") {
        log.warn({ err: failure, retryAt: recorded.retryAt }, "operation step failed; will retry");
      } else {
        if (recorded.status === "failed") log.error({ err: failure }, "operation failed for good");
        log.info({ status: recorded.status }, "operation finished");
      }
    } catch (err) {
      log.error({ err }, "could not record the operation's result; it will resume");
    } finally {
      clearInterval(heartbeat);
      if (fence) await this.#fence(op, fence.destroy, log);
    }
  }

  /**
   * The driver's progress as the action's percent, sent at most about once a second and only when it moved;
   * best effort: a report lost or refused changes nothing but what the action shows meanwhile.
   */
  #progress(op: ClaimedOperation, log: Logger): ((fraction: number) => void) | undefined {
    const { link } = this.#o;
    if (!link.progress) return undefined;
    let sent = -1;
    let sentAt = 0;
    return (fraction) => {
      const percent = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
      const now = Date.now();
      if (percent === sent || now - sentAt < PROGRESS_EVERY_MS) return;
      sent = percent;
      sentAt = now;
      link.progress?.(op, percent).catch((err) => log.debug({ err }, "progress report failed"));
    };
  }

  /** Stops (and, when its result was surely refused, destroys) a machine started under a lease not confirmed. */
  async #fence(op: ClaimedOperation, destroy: boolean, log: Logger): Promise<void> {
    try {
      await this.#o.runner.fence(op, destroy, { signal: new AbortController().signal, log });
      log.warn(
        { destroyed: destroy },
        "machine fenced: its start was not confirmed before its lease ran out",
      );
    } catch (err) {
      log.error({ err }, "could not fence the machine started under a lost lease");
    }
  }
}

function describe(err: unknown): OperationError {
  if (err instanceof DriverError) return { code: err.code, message: err.message };
  return { code: "internal", message: err instanceof Error ? err.message : String(err) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
