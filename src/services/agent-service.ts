import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { LeaseHolder } from "../db/repositories/operation-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { LeaseLost, NotFound } from "../domain/errors.ts";
import type { MachineStats, PowerState } from "../drivers/driver.ts";
import type { ClaimedOperation, OperationError, Outcome, Recorded } from "../engine/host-link.ts";
import type { LocalHostLink } from "../engine/local-host-link.ts";
import { correctStatus, recordUsage } from "../engine/power-observation.ts";
import type { WorkArrivals } from "../engine/work-arrivals.ts";

/** The longest an agent's claim waits for work. */
export const MAX_CLAIM_WAIT_SECONDS = 30;

/** What an agent observed of one of its machines. */
export interface MachineObservation {
  serverId: number;
  power: PowerState;
  /** Counters of a running machine; null when it is not running. */
  stats: MachineStats | null;
}

export type AgentResult = { outcome: Outcome } | { error: OperationError; permanent: boolean };

export interface AgentServiceOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  /** The control plane's own link: agents' claims and ends go through the same code as the embedded hosts'. */
  link: LocalHostLink;
  /** Wakes waiting claims when work may have become runnable. */
  work: WorkArrivals;
}

/**
 * The control plane's side of the host agents' link: each call is for the host of the credential, and names
 * only that host's operations and servers. An operation is always read again from the database; what the agent
 * sends back counts only as its lease and its outcome, and every change is fenced by the lease.
 */
export class AgentService {
  readonly #o: AgentServiceOptions;

  constructor(options: AgentServiceOptions) {
    this.#o = options;
  }

  /**
   * Leases up to `limit` due operations of the host's servers, waiting up to `waitMs` for one: woken when work
   * arrives (in this process, or notified by another), or when a retry falls due. Empty when none came.
   */
  async claim(
    hostId: number,
    limit: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimedOperation[]> {
    const { link, work, clock } = this.#o;
    // One lease owner per claim: `agent:` and the host, so no worker's lease passes for an agent's.
    const owner = `agent:${hostId}:${randomUUID().slice(0, 8)}`;
    const deadline = clock.now().getTime() + waitMs;
    for (;;) {
      const seen = work.count;
      const ops = await link.claimFor(owner, [hostId], limit);
      const left = deadline - clock.now().getTime();
      if (ops.length > 0 || left <= 0 || work.closed || signal?.aborted) return ops;
      const due = await link.nextDue([hostId]);
      const untilDue = due === undefined ? left : Date.parse(due) - clock.now().getTime();
      await work.after(seen, Math.max(1, Math.min(left, untilDue)), signal);
    }
  }

  /** Renews the lease of an operation of the host; 409 lease_lost when it is no longer the agent's. */
  async extend(hostId: number, id: number, lease: LeaseHolder): Promise<string> {
    await this.#ownOperation(hostId, id, lease);
    const until = isoAt(this.#o.clock, this.#leaseMs());
    if (!(await this.#o.repos.operations.extendLease(id, lease, until))) throw new LeaseLost();
    return until;
  }

  /** Ends the attempt under the lease: the control plane settles the server, or queues a retry. */
  async finish(hostId: number, id: number, lease: LeaseHolder, result: AgentResult): Promise<Recorded> {
    const row = await this.#ownOperation(hostId, id, lease);
    const server = await this.#o.repos.servers.findById(row.server_id);
    const op: ClaimedOperation = {
      id: row.id,
      kind: row.kind,
      serverId: row.server_id,
      attempt: lease.attempt,
      maxAttempts: row.max_attempts,
      owner: lease.owner,
      leaseExpiresAt: row.lease_expires_at ?? "",
      serverDeleted: !server || server.deleted_at !== null,
      spec: null,
      unrunnable: null,
      transfer: null,
    };
    const recorded =
      "outcome" in result
        ? await this.#o.link.succeed(op, result.outcome)
        : await this.#o.link.fail(op, result.error, result.permanent);
    if (!recorded.recorded) throw new LeaseLost();
    // A retry is due later; an operation queued behind this one may run now.
    this.#o.work.notify();
    return recorded;
  }

  /** Gives back leases the agent still holds (at its shutdown); how many were still its own. */
  async release(hostId: number, leases: { id: number; lease: LeaseHolder }[]): Promise<number> {
    let released = 0;
    for (const { id, lease } of leases) {
      if (!lease.owner.startsWith(ownerPrefix(hostId))) continue;
      const row = await this.#o.repos.operations.findById(id);
      if (!row || !(await this.#onHost(hostId, row))) continue;
      if (await this.#o.repos.operations.releaseLease(id, lease, isoAt(this.#o.clock))) released++;
    }
    if (released > 0) this.#o.work.notify();
    return released;
  }

  /**
   * Applies the power sync's rules to what the agent observed of its machines: only servers on its host with
   * no operation in flight are corrected and sampled; servers of other hosts (or none) are ignored, never
   * touched. How many were applied and ignored.
   */
  async report(
    hostId: number,
    machines: MachineObservation[],
  ): Promise<{ applied: number; ignored: number }> {
    const { repos, clock, log } = this.#o;
    const named = new Set(machines.map((m) => m.serverId));
    const onHost = new Map(
      (await repos.servers.findByIds([...named]))
        .filter((s) => s.host_id === hostId && s.deleted_at === null)
        .map((s) => [s.id, s]),
    );
    const settled = new Map(
      (await repos.servers.listSettled(["active", "stopped"], 10_000, [hostId]))
        .filter((s) => named.has(s.id))
        .map((s) => [s.id, s]),
    );
    let applied = 0;
    for (const machine of machines) {
      const server = settled.get(machine.serverId);
      if (!server) continue;
      const status = await correctStatus(repos, clock, log, server, machine.power);
      await recordUsage(repos, clock, server, status === "active" ? machine.stats : null);
      applied++;
    }
    return { applied, ignored: [...named].filter((id) => !onHost.has(id)).length };
  }

  /** The operation, read again, if it is on the host and the lease is an agent's of that host; else 404 or 409. */
  async #ownOperation(hostId: number, id: number, lease: LeaseHolder): Promise<OperationRow> {
    const row = await this.#o.repos.operations.findById(id);
    if (!row || !(await this.#onHost(hostId, row))) throw new NotFound("Operation");
    if (!lease.owner.startsWith(ownerPrefix(hostId))) throw new LeaseLost();
    return row;
  }

  async #onHost(hostId: number, row: OperationRow): Promise<boolean> {
    // A migration's step names its host; any other operation runs on its server's.
    if (row.host_id !== null) return row.host_id === hostId;
    const server = await this.#o.repos.servers.findById(row.server_id);
    return server?.host_id === hostId;
  }

  #leaseMs(): number {
    return this.#o.link.leaseMs;
  }
}

function ownerPrefix(hostId: number): string {
  return `agent:${hostId}:`;
}
