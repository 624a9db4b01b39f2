import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { LeaseHolder } from "../db/repositories/operation-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { LeaseLost, NotFound } from "../domain/errors.ts";
import type { MachineStats, PowerState } from "../drivers/driver.ts";
import type { ClaimedOperation, OperationError, Outcome, Recorded } from "../engine/host-link.ts";
import { HostWorkWaits } from "../engine/host-work-waits.ts";
import type { LocalHostLink } from "../engine/local-host-link.ts";
import { correctStatus, recordUsages } from "../engine/power-observation.ts";
import type { WorkArrivals } from "../engine/work-arrivals.ts";
import type { HostReconciliationService } from "./host-reconciliation-service.ts";
import type { Host, HostService, JoinRequest } from "./host-service.ts";

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
  hosts: HostService;
  reconciler: HostReconciliationService;
}

/** What the control plane made of an agent's report. */
export interface ReportAnswer {
  /** Servers of this host whose status and usage the power sync's rules set (none when it reconciled). */
  applied: number;
  /** Servers named that are not on this host: left untouched. */
  ignored: number;
  /** The host had returned from down: the report was reconciled instead of judged by the power sync's rules. */
  reconciled: boolean;
  /** Corrections queued as operations by the reconciliation. */
  queued: number;
  /** Machines of no server (named by the id they carry): the agent destroys them. */
  destroy: number[];
}

/**
 * The control plane's side of the host agents' link: each call is for the host of the credential, and names
 * only that host's operations and servers. An operation is always read again from the database; what the agent
 * sends back counts only as its lease and its outcome, and every change is fenced by the lease.
 */
/** Due operations read to tell which waiting claims to wake; beyond it, every waiting claim looks. */
const WAKE_READ_LIMIT = 1000;

export class AgentService {
  readonly #o: AgentServiceOptions;
  readonly #waits: HostWorkWaits;

  constructor(options: AgentServiceOptions) {
    this.#o = options;
    this.#waits = new HostWorkWaits(
      options.work,
      () => options.repos.operations.hostsWithDueWork(isoAt(options.clock), WAKE_READ_LIMIT),
      options.log,
    );
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
    instance: string = randomUUID().slice(0, 8),
  ): Promise<ClaimedOperation[]> {
    const { link, work, clock, hosts } = this.#o;
    // One lease owner per claim: `agent:`, the host and the agent's instance, so no worker's lease passes for an
    // agent's, and a restarted agent can tell its predecessor's leases from its own.
    const owner = `${ownerPrefix(hostId)}${instance}:${randomUUID().slice(0, 8)}`;
    const deadline = clock.now().getTime() + waitMs;
    for (;;) {
      const seen = work.count;
      // A host that is down gets nothing: a claim still open from before it froze must not take the operations
      // queued meanwhile; its heartbeat wakes the claim.
      const ops = (await hosts.isDown(hostId)) ? [] : await link.claimFor(owner, [hostId], limit);
      const left = deadline - clock.now().getTime();
      if (ops.length > 0 || left <= 0 || work.closed || signal?.aborted) return ops;
      const due = await link.nextDue([hostId]);
      const untilDue = due === undefined ? left : Date.parse(due) - clock.now().getTime();
      await this.#waits.after(hostId, seen, Math.max(1, Math.min(left, untilDue)), signal);
    }
  }

  /**
   * The agent's heartbeat. A host that was down is marked to reconcile at its next report, and the claims
   * waiting for it are woken.
   */
  async heartbeat(hostId: number, report: Omit<JoinRequest, "joinToken">): Promise<Host> {
    const { host, returned } = await this.#o.hosts.heartbeat(hostId, report);
    if (returned) {
      this.#o.log.info({ host: hostId }, "host is back after it was down; it reconciles at its next report");
      this.#o.work.notify();
    }
    return host;
  }

  /**
   * Frees the leases of the host's earlier agents (any instance but `instance`, the caller's): a restarted agent
   * calls it so that the operations its killed predecessor held resume at once. Another host's are untouched.
   */
  async releaseStale(hostId: number, instance: string): Promise<number> {
    const prefix = ownerPrefix(hostId);
    const released = await this.#o.repos.operations.releaseLeasesByPrefix(
      prefix,
      `${prefix}${instance}:`,
      isoAt(this.#o.clock),
    );
    if (released > 0) {
      this.#o.log.info({ host: hostId, released }, "released the leases of the host's earlier agent");
      this.#o.work.notify();
    }
    return released;
  }

  /** Renews the lease of an operation of the host; 409 lease_lost when it is no longer the agent's. */
  async extend(
    hostId: number,
    id: number,
    lease: LeaseHolder,
  ): Promise<{ lease_expires_at: string; lease_ms: number }> {
    await this.#ownOperation(hostId, id, lease);
    const leaseMs = this.#leaseMs();
    const until = isoAt(this.#o.clock, leaseMs);
    if (!(await this.#o.repos.operations.extendLease(id, lease, until))) throw new LeaseLost();
    return { lease_expires_at: until, lease_ms: leaseMs };
  }

  /** How far the operation's steps are, shown on its action; 409 lease_lost when it is no longer the agent's. */
  async progress(hostId: number, id: number, lease: LeaseHolder, percent: number): Promise<void> {
    await this.#ownOperation(hostId, id, lease);
    if (!(await this.#o.repos.operations.setProgress(id, lease, percent))) throw new LeaseLost();
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
   * What the agent observed of all its machines (but those in `unsure`, whose operation ended while it observed).
   * The first report after the host returned from down reconciles: the host follows the database (corrections
   * queued as operations, machines of no server returned to destroy). Otherwise the power sync's rules: only
   * servers on the host with no operation in flight are corrected and sampled. Either way a settled server of the
   * host that the report does not name has no machine: `missing`. A report of a host that is down is not judged
   * (its heartbeat, late, comes first). Servers of other hosts are ignored, never touched.
   */
  async report(
    hostId: number,
    machines: MachineObservation[],
    unsure: readonly number[] = [],
  ): Promise<ReportAnswer> {
    const { repos, clock, log, hosts, reconciler } = this.#o;
    const named = new Set(machines.map((m) => m.serverId));
    const onHost = new Set(
      (await repos.servers.findByIds([...named]))
        .filter((s) => s.host_id === hostId && s.deleted_at === null)
        .map((s) => s.id),
    );
    const answer: ReportAnswer = {
      applied: 0,
      ignored: [...named].filter((id) => !onHost.has(id)).length,
      reconciled: false,
      queued: 0,
      destroy: [],
    };
    const host = await hosts.get(hostId);
    if (host.effective_state === "down") return answer;
    const requestedAt = host.reconcile_requested_at;
    if (requestedAt !== null) {
      const observed = new Map(machines.map((m) => [String(m.serverId), m.power]));
      const { queued, destroy } = await reconciler.reconcile(hostId, observed);
      await repos.hosts.clearReconcile(hostId, requestedAt);
      Object.assign(answer, { reconciled: true, queued, destroy: destroy.map(Number) });
      log.info({ host: hostId, machines: machines.length, queued, destroy }, "host reconciled");
    }
    const skip = new Set(unsure);
    const byId = new Map(machines.map((m) => [m.serverId, m]));
    const samples: Parameters<typeof recordUsages>[2][number][] = [];
    for (const server of await repos.servers.listSettled(["active", "stopped"], 10_000, [hostId])) {
      if (skip.has(server.id)) continue;
      const machine = byId.get(server.id) ?? { serverId: server.id, power: "missing" as const, stats: null };
      // Reconciling, the database is the truth: only a missing machine is judged, as the power sync would.
      if (answer.reconciled && machine.power !== "missing") continue;
      const status = await correctStatus(repos, clock, log, server, machine.power);
      samples.push({ server, stats: status === "active" ? machine.stats : null });
      answer.applied++;
    }
    await recordUsages(repos, clock, samples);
    return answer;
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
