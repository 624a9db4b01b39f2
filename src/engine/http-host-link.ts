import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { MachineStats, PowerState } from "../drivers/driver.ts";
import type {
  ClaimedOperation,
  HostLink,
  ImageRef,
  OperationError,
  Outcome,
  Recorded,
  TransferGrant,
} from "./host-link.ts";

export interface HttpHostLinkOptions {
  /** The control plane's base URL, e.g. https://api.example.com. */
  url: string;
  /** The host credential, sent as a Bearer token. */
  credential: string;
  log: Logger;
  /** How long one call may take beyond a claim's own wait. */
  timeoutMs?: number;
  /** Attempts of a call that met a network error (never of one the control plane answered). */
  attempts?: number;
  /** Told when the credential is refused, whichever loop met it. */
  onRefused?: () => void;
}

/** The control plane refused the host credential: revoked, or the host deleted. The agent cannot go on. */
export class CredentialRefused extends Error {
  constructor() {
    super(
      "the control plane refused the host credential (revoked, or the host deleted); join again with a new join token",
    );
  }
}

/** What the agent reports of each of its machines. */
export interface MachineReport {
  serverId: number;
  power: PowerState;
  stats: MachineStats | null;
}

/** What the control plane made of a report (the agent API's answer). */
export interface ReportAnswer {
  applied: number;
  ignored: number;
  /** The host had returned from down and was reconciled. */
  reconciled: boolean;
  queued: number;
  /** Machines of no server, by the id they are named after: the agent destroys them. */
  destroy: number[];
}

export interface HostReport {
  capacity: { vcpus: number; memory_mb: number; disk_gb: number };
  images: string[] | null;
  agentVersion: string;
  driver: string;
  /** Where the agent serves disks to migrations; absent: none. */
  transferUrl?: string | null;
}

/**
 * The host link of a host agent: the agent API over HTTP(S) with the host's credential. Network errors are
 * retried with a short backoff; what the control plane answered is not. The link remembers the leases it holds
 * so it can give them back at shutdown, and when it last ended an operation of each server, so a report does
 * not contradict an operation that ended while the machines were being observed.
 */
export class HttpHostLink implements HostLink {
  /** This agent process: its claims' leases carry it, so its next start can free them if it dies holding them. */
  readonly instance = randomUUID().replaceAll("-", "").slice(0, 16);
  readonly #o: HttpHostLinkOptions;
  readonly #held = new Map<number, ClaimedOperation>();
  readonly #settledAt = new Map<number, number>();
  /** When each lease renewed by this link runs out, on this process's monotonic clock, and how long it was. */
  readonly #leaseUntil = new Map<number, { until: number; ms: number }>();
  /** A report on its way: an end waits for it, so the control plane never reads the report after the end. */
  #reporting: Promise<unknown> | undefined;

  constructor(options: HttpHostLinkOptions) {
    this.#o = options;
  }

  async claim(limit: number, waitMs: number, signal?: AbortSignal): Promise<ClaimedOperation[]> {
    const waitSeconds = Math.min(30, Math.ceil(waitMs / 1000));
    try {
      const body = await this.#call(
        "POST",
        "/api/v1/agent/operations/claim",
        { instance: this.instance, limit, wait_seconds: waitSeconds },
        {
          extraMs: waitSeconds * 1000,
          signal,
        },
      );
      const ops = (body as { operations: WireOperation[] }).operations.map(claimedOperationOf);
      for (const op of ops) this.#held.set(op.id, op);
      return ops;
    } catch (err) {
      if (signal?.aborted) return [];
      throw err;
    }
  }

  async extend(op: ClaimedOperation): Promise<boolean> {
    // Measured from before the call: the control plane's lease starts no earlier, whatever its clock says.
    const sentAt = performance.now();
    try {
      const body = (await this.#call("POST", `/api/v1/agent/operations/${op.id}/lease`, {
        lease: leaseOf(op),
      })) as { lease_ms: number };
      this.#leaseUntil.set(op.id, { until: sentAt + body.lease_ms, ms: body.lease_ms });
      return true;
    } catch (err) {
      if (!isLost(err)) throw err;
      this.#forget(op.id);
      return false;
    }
  }

  /** A sixth of the lease is kept back: the time to stop a machine started under it before it runs out. */
  leaseLeftMs(op: ClaimedOperation): number | undefined {
    const lease = this.#leaseUntil.get(op.id);
    if (!lease) return undefined;
    return Math.max(0, Math.floor(lease.until - lease.ms / 6 - performance.now()));
  }

  succeed(op: ClaimedOperation, outcome: Outcome, signal?: AbortSignal): Promise<Recorded> {
    return this.#end(
      op,
      {
        lease: leaseOf(op),
        outcome: {
          ssh: outcome.ssh ?? null,
          ...(outcome.disk ? { disk: outcome.disk } : {}),
          ...(outcome.image ? { image: outcome.image } : {}),
        },
      },
      signal,
    );
  }

  fail(op: ClaimedOperation, error: OperationError, permanent: boolean): Promise<Recorded> {
    return this.#end(op, { lease: leaseOf(op), error, permanent });
  }

  async progress(op: ClaimedOperation, percent: number): Promise<void> {
    try {
      await this.#call("POST", `/api/v1/agent/operations/${op.id}/progress`, { lease: leaseOf(op), percent });
    } catch (err) {
      // A lost lease shows at the next renewal; progress is only shown.
      if (!isLost(err)) throw err;
    }
  }

  async release(): Promise<number> {
    const leases = [...this.#held.values()].map((op) => ({ id: op.id, lease: leaseOf(op) }));
    if (leases.length === 0) return 0;
    const body = await this.#call("POST", "/api/v1/agent/operations/release", { leases });
    this.#held.clear();
    this.#leaseUntil.clear();
    return (body as { released: number }).released;
  }

  /** Frees the leases this host's earlier agents still hold (called at start): their operations resume now. */
  async releaseStale(): Promise<number> {
    const body = await this.#call("POST", "/api/v1/agent/leases/release-stale", { instance: this.instance });
    return (body as { released: number }).released;
  }

  /** Proves the host alive with what it has now; the host's state as the control plane sees it. */
  async heartbeat(report: HostReport): Promise<{ host_id: number; name: string; state: string }> {
    return (await this.#call("POST", "/api/v1/agent/heartbeat", {
      capacity: report.capacity,
      images: report.images,
      agent_version: report.agentVersion,
      driver: report.driver,
      ...(report.transferUrl ? { transfer_url: report.transferUrl } : {}),
    })) as { host_id: number; name: string; state: string };
  }

  /**
   * Spends a transfer token a migration's target presented for the server's disk: the disk's size and checksum,
   * or undefined when the control plane refused it (unknown, spent or void).
   */
  async spendTransferToken(
    serverId: number,
    token: string,
  ): Promise<{ size: number; sha256: string } | undefined> {
    try {
      return (await this.#call("POST", "/api/v1/agent/transfers/spend", { server_id: serverId, token })) as {
        size: number;
        sha256: string;
      };
    } catch (err) {
      if (err instanceof Refused && (err.status === 403 || err.status === 400)) return undefined;
      throw err;
    }
  }

  /** Spends a console grant the control plane presented for the server's console: false when refused. */
  async spendConsoleGrant(serverId: number, grant: string): Promise<boolean> {
    try {
      await this.#call("POST", "/api/v1/agent/consoles/spend", { server_id: serverId, grant });
      return true;
    } catch (err) {
      if (err instanceof Refused && (err.status === 403 || err.status === 400)) return false;
      throw err;
    }
  }

  /**
   * Reports every machine observed since `observedSince` (epoch ms); those whose operation ended meanwhile are
   * sent as `unsure`: what was seen of them may be older than what the control plane now knows.
   */
  async report(machines: MachineReport[], observedSince: number): Promise<ReportAnswer> {
    for (const [id, at] of this.#settledAt) if (at < observedSince) this.#settledAt.delete(id);
    const unsure = new Set(this.#settledAt.keys());
    const sent = this.#call("POST", "/api/v1/agent/reports", {
      machines: machines
        .filter((m) => !unsure.has(m.serverId))
        .map((m) => ({
          server_id: m.serverId,
          power: m.power,
          usage: m.stats && {
            cpu_time_ns: Math.round(m.stats.cpuTimeNs),
            memory_used_mb: Math.round(m.stats.memoryUsedMb),
            disk_used_gb: Math.round(m.stats.diskUsedGb),
            net_in_bytes: Math.round(m.stats.netInBytes),
            net_out_bytes: Math.round(m.stats.netOutBytes),
          },
        })),
      unsure: [...unsure],
    });
    const reporting = sent.catch(() => undefined);
    this.#reporting = reporting;
    try {
      return (await sent) as ReportAnswer;
    } finally {
      if (this.#reporting === reporting) this.#reporting = undefined;
    }
  }

  async #end(op: ClaimedOperation, body: unknown, signal?: AbortSignal): Promise<Recorded> {
    // Marked before it is sent: a report made from here on leaves the server to this end.
    this.#settledAt.set(op.serverId, Date.now());
    await this.#reporting;
    let retried = false;
    try {
      const answer = (await this.#call("POST", `/api/v1/agent/operations/${op.id}/result`, body, {
        signal,
        onRetry: () => {
          retried = true;
        },
      })) as {
        status: "succeeded" | "failed" | "cancelled" | "pending";
        retry_at?: string;
      };
      this.#forget(op.id);
      return answer.status === "pending"
        ? { recorded: true, status: "pending", retryAt: answer.retry_at ?? "" }
        : { recorded: true, status: answer.status };
    } catch (err) {
      if (!isLost(err)) throw err;
      this.#forget(op.id);
      // A try lost on the network may have been recorded: the refusal of the next may be of this very end.
      return retried ? { recorded: false, unsure: true } : { recorded: false };
    }
  }

  #forget(id: number): void {
    this.#held.delete(id);
    this.#leaseUntil.delete(id);
  }

  /** One call; network errors retried, a 401 is the credential refused, any other 4xx or 5xx a `Refused`. */
  async #call(
    method: string,
    path: string,
    body: unknown,
    options: { extraMs?: number; signal?: AbortSignal; onRetry?: () => void } = {},
  ): Promise<unknown> {
    const attempts = this.#o.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout((this.#o.timeoutMs ?? 15_000) + (options.extraMs ?? 0));
      let res: Response;
      try {
        res = await fetch(new URL(path, this.#o.url), {
          method,
          headers: { Authorization: `Bearer ${this.#o.credential}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
        });
      } catch (err) {
        if (options.signal?.aborted || attempt >= attempts) throw err;
        this.#o.log.warn({ err, path, attempt }, "control plane unreachable; retrying");
        options.onRetry?.();
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
        options.signal?.throwIfAborted();
        continue;
      }
      const text = await res.text();
      if (res.status === 401) {
        this.#o.onRefused?.();
        throw new CredentialRefused();
      }
      if (!res.ok) throw new Refused(res.status, text);
      return text ? JSON.parse(text) : undefined;
    }
  }
}

/** The control plane answered with an error. */
class Refused extends Error {
  readonly status: number;
  constructor(status: number, body: string) {
    super(`the control plane answered ${status}: ${body.slice(0, 500)}`);
    this.status = status;
  }
}

/** The lease is no longer the agent's (409 lease_lost), or the operation is no longer its host's (404). */
function isLost(err: unknown): boolean {
  return err instanceof Refused && (err.status === 409 || err.status === 404);
}

function leaseOf(op: ClaimedOperation): { owner: string; attempt: number } {
  return { owner: op.owner, attempt: op.attempt };
}

/** A claimed operation as the agent API carries it (snake_case). */
interface WireOperation {
  id: number;
  kind: ClaimedOperation["kind"];
  server_id: number;
  attempt: number;
  max_attempts: number;
  owner: string;
  lease_expires_at: string;
  server_deleted: boolean;
  spec: {
    id: string;
    hostname: string;
    vcpus: number;
    memory_mb: number;
    storage_gb: number;
    image: string;
    ssh_public_key: string | null;
    ipv4: string | null;
    ipv6: string | null;
  } | null;
  unrunnable: OperationError | null;
  /** Its fields are single words, the same in both styles. */
  transfer?: TransferGrant | null;
  /** Likewise. */
  image?: ImageRef | null;
}

function claimedOperationOf(op: WireOperation): ClaimedOperation {
  const { spec } = op;
  return {
    id: op.id,
    kind: op.kind,
    serverId: op.server_id,
    attempt: op.attempt,
    maxAttempts: op.max_attempts,
    owner: op.owner,
    leaseExpiresAt: op.lease_expires_at,
    serverDeleted: op.server_deleted,
    spec: spec && {
      id: spec.id,
      hostname: spec.hostname,
      vcpus: spec.vcpus,
      memoryMb: spec.memory_mb,
      storageGb: spec.storage_gb,
      image: spec.image,
      sshPublicKey: spec.ssh_public_key,
      ipv4: spec.ipv4,
      ipv6: spec.ipv6,
    },
    unrunnable: op.unrunnable,
    transfer: op.transfer ?? null,
    image: op.image ?? null,
  };
}
