import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import type { OperationEnd } from "../domain/lifecycle.ts";
import { processAlive } from "../drivers/process-alive.ts";
import { retryDelayMs } from "./backoff.ts";
import { type CatalogueLookup, claimedOperations } from "./claimed-operations.ts";
import type { ClaimedOperation, HostLink, OperationError, Outcome, Recorded } from "./host-link.ts";
import {
  failureOf,
  plainEndOf,
  type Settlement,
  successOf,
  writeSettlement,
} from "./operation-settlement.ts";
import { SettlementQueue } from "./settlement-queue.ts";

export interface LocalHostLinkOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  leaseMs: number;
  retryBaseMs: number;
  /** The hosts whose operations this link claims (the process's embedded hosts); none: it claims nothing. */
  hosts: () => readonly number[];
  /** Commit the ends of operations that finish together in one transaction. */
  groupSettlements?: boolean;
  /** How many groups of ends may commit at once (1 unless the database runs transactions side by side). */
  settlementsInFlight?: number;
  /** Called after an operation has ended and its end is committed. */
  onSettled?: (op: ClaimedOperation, status: OperationEnd) => void;
  /** Jitter of the retry backoff. */
  random?: () => number;
  /** Where a claimed batch's plans and OS come from: the process's memory of the catalogue; none, the database. */
  catalogue?: CatalogueLookup;
}

/**
 * The host link of a process that reaches the database itself (the embedded local host): claims, lease
 * renewals and ends are repository calls, each end one transaction fenced by the lease, through the
 * `SettlementQueue`. Also what only a local link can do: release the leases of dead workers on this machine,
 * and tell the worker when the next operation falls due so it can sleep until then.
 */
export class LocalHostLink implements HostLink {
  /** host:pid:random, so a restarted process can tell its dead predecessor's leases from a live one's. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #o: LocalHostLinkOptions;
  readonly #settlements: SettlementQueue;

  constructor(options: LocalHostLinkOptions) {
    this.#o = options;
    this.#settlements = new SettlementQueue(
      options.repos,
      options.groupSettlements ?? false,
      64,
      options.settlementsInFlight,
    );
  }

  /** How long a claim or a renewal holds a lease. */
  get leaseMs(): number {
    return this.#o.leaseMs;
  }

  /** Returns at once: in-process, the worker is woken when work arrives instead of waiting here. */
  claim(limit: number, _waitMs: number): Promise<ClaimedOperation[]> {
    return this.claimFor(this.owner, this.#o.hosts(), limit);
  }

  /** Leases up to `limit` due operations of the hosts' servers to `owner` (an agent's claim goes through here too). */
  async claimFor(owner: string, hostIds: readonly number[], limit: number): Promise<ClaimedOperation[]> {
    const { repos, clock, leaseMs } = this.#o;
    const claimed = await repos.operations.claimWithServers(
      owner,
      hostIds,
      isoAt(clock),
      isoAt(clock, leaseMs),
      limit,
    );
    return claimedOperations(repos, claimed, this.#o.catalogue);
  }

  extend(op: ClaimedOperation): Promise<boolean> {
    return this.#o.repos.operations.extendLease(op.id, op, isoAt(this.#o.clock, this.#o.leaseMs));
  }

  succeed(op: ClaimedOperation, outcome: Outcome): Promise<Recorded> {
    return this.#settle(op, successOf(op, outcome));
  }

  async fail(op: ClaimedOperation, error: OperationError, permanent: boolean): Promise<Recorded> {
    if (permanent || op.attempt >= op.maxAttempts) return this.#settle(op, failureOf(op), error);
    const { repos, clock, retryBaseMs, random } = this.#o;
    const retryAt = isoAt(clock, retryDelayMs(op.attempt, retryBaseMs, undefined, random));
    if (!(await repos.operations.retryLater(op.id, op, retryAt, isoAt(clock), error))) {
      return { recorded: false };
    }
    return { recorded: true, status: "pending", retryAt };
  }

  async progress(op: ClaimedOperation, percent: number): Promise<void> {
    await this.#o.repos.operations.setProgress(op.id, op, percent);
  }

  release(): Promise<number> {
    return this.#o.repos.operations.releaseLeases([this.owner], isoAt(this.#o.clock));
  }

  /** Releases the leases of workers on this machine whose process is gone, so their operations resume now. */
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

  /** When the next retry of the hosts' operations falls due or lease runs out, if later than now. */
  nextDue(hostIds: readonly number[] = this.#o.hosts()): Promise<string | undefined> {
    return this.#o.repos.operations.nextDue(isoAt(this.#o.clock), hostIds);
  }

  /** The operation's end and its effect on the server commit together, fenced by the lease. */
  async #settle(op: ClaimedOperation, settlement: Settlement, error?: OperationError): Promise<Recorded> {
    const now = isoAt(this.#o.clock);
    const host =
      settlement.releaseAddresses || settlement.resized !== undefined || settlement.migration !== undefined;
    const account = settlement.refund;
    // An end that writes no host or account leaves its swap to the queue, made with its group's others last.
    const deferred = host || account || !settlement.swap ? undefined : { ...settlement.swap, now };
    const writes = deferred ? { ...settlement, swap: undefined } : settlement;
    const written = await this.#settlements.settle((tx) => writeSettlement(tx, op, writes, now, error), {
      serverId: op.serverId,
      host,
      account,
      swap: deferred,
      plain: plainEndOf(op, writes, now, error),
    });
    if (!written) return { recorded: false };
    this.#o.onSettled?.(op, settlement.status);
    return { recorded: true, status: settlement.status };
  }
}
