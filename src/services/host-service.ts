import type { HostFilter, HostView } from "../db/repositories/host-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import { hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { Conflict, InvalidInput, JoinTokenInvalid, NotFound } from "../domain/errors.ts";
import { type Amounts, amountProblems, parseRatios } from "../domain/host-capacity.ts";
import {
  type AdminState,
  effectiveState,
  freshSince,
  HOST_DOWN_AFTER_MS,
  type HostState,
} from "../domain/host-placement.ts";
import {
  DEFAULT_JOIN_TOKEN_TTL_SECONDS,
  generateHostCredential,
  generateJoinToken,
} from "../domain/host-secrets.ts";
import { hostnameProblem, serverNameProblem } from "../domain/names.ts";

/** A host with the state an operator sees (`down` when it is not heard from). */
export type Host = HostView & { effective_state: HostState };

export interface IssuedJoinToken {
  token: string;
  expiresAt: string;
}

export interface JoinRequest {
  joinToken: string;
  capacity: Amounts;
  agentVersion: string;
  driver: string;
  /** The OS images the host has; null: every image. */
  images: string[] | null;
  /** Where its agent serves disks to migrations (VPS_AGENT_TRANSFER_ADDRESS); null or absent: none. */
  transferUrl?: string | null;
}

/** The fleet's hypervisor hosts: registration, inventory, state, deletion, and the agents' credentials. */
export class HostService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #downAfterMs: number;
  constructor(repos: Repositories, clock: Clock, downAfterMs = HOST_DOWN_AFTER_MS) {
    this.#repos = repos;
    this.#clock = clock;
    this.#downAfterMs = downAfterMs;
  }

  #since(): string {
    return freshSince(this.#clock.now(), this.#downAfterMs);
  }

  #seen(host: HostView, since = this.#since()): Host {
    return {
      ...host,
      effective_state: effectiveState(host.state as AdminState, host.last_heartbeat_at, since),
    };
  }

  #joinToken(ttlSeconds: number): IssuedJoinToken {
    return { token: generateJoinToken(), expiresAt: isoAt(this.#clock, ttlSeconds * 1000) };
  }

  /** A new host, enabled but down until its agent joins with the token returned here (once). */
  async register(
    name: string,
    locationCode: string,
    ttlSeconds = DEFAULT_JOIN_TOKEN_TTL_SECONDS,
  ): Promise<{ host: Host; joinToken: IssuedJoinToken }> {
    if (serverNameProblem(name) !== null && hostnameProblem(name) !== null) {
      throw InvalidInput.field("name", "Must be a host name such as hv1 or hv1.fra.example.net.");
    }
    const location = await this.#repos.catalogue.findLocationByCode(locationCode);
    if (!location) throw InvalidInput.field("location", `No location has the code "${locationCode}".`);
    const joinToken = this.#joinToken(ttlSeconds);
    const now = isoAt(this.#clock);
    const row = await this.#repos.hosts.create(
      name,
      location.id,
      hashToken(joinToken.token),
      joinToken.expiresAt,
      now,
    );
    if (!row) throw new Conflict("host_exists", `A host named "${name}" exists already.`);
    return { host: await this.get(row.id), joinToken };
  }

  async get(id: number): Promise<Host> {
    const host = await this.#repos.hosts.findById(id);
    if (!host) throw new NotFound("Host");
    return this.#seen(host);
  }

  async list(filter: HostFilter, limit: number, offset: number): Promise<{ count: number; hosts: Host[] }> {
    const since = this.#since();
    const [count, hosts] = await Promise.all([
      this.#repos.hosts.count(filter, since),
      this.#repos.hosts.list(filter, since, limit, offset),
    ]);
    return { count, hosts: hosts.map((host) => this.#seen(host, since)) };
  }

  /** Sets reserved amounts and allocation ratios; refused when the host would hold less than is placed on it. */
  async updateInventory(
    id: number,
    change: { reserved?: Partial<Amounts>; allocationRatios?: Partial<Amounts> },
  ): Promise<Host> {
    const { milli, problems } = parseRatios("allocation_ratios", change.allocationRatios ?? {});
    const fields = { ...amountProblems("reserved", change.reserved ?? {}), ...problems };
    if (Object.keys(fields).length > 0) throw new InvalidInput(fields);
    const updated = await this.#repos.hosts.updateInventory(
      id,
      change.reserved ?? {},
      milli,
      isoAt(this.#clock),
    );
    if (!updated) {
      await this.get(id);
      throw new Conflict(
        "host_capacity_in_use",
        "The host would hold less than is allocated on it; free some of it first, or reserve less.",
      );
    }
    return this.get(id);
  }

  /** Enable, disable or drain: a compare-and-swap on the state read, retried if another change came first. */
  async setState(id: number, to: AdminState): Promise<Host> {
    for (;;) {
      const host = await this.get(id);
      const from = host.state as AdminState;
      if (from === to) return host;
      if (await this.#repos.hosts.setState(id, from, to, isoAt(this.#clock))) return this.get(id);
    }
  }

  /** Deletes a host that has nothing placed on it (its credentials go with it). */
  async delete(id: number): Promise<void> {
    if (await this.#repos.hosts.deleteEmpty(id)) return;
    const host = await this.get(id);
    throw new Conflict(
      "host_not_empty",
      `The host holds ${host.server_count} server(s); drain it and move or delete them first.`,
    );
  }

  /** A new join token for the host, replacing its last one: to join again after a revoke, or after expiry. */
  async issueJoinToken(id: number, ttlSeconds = DEFAULT_JOIN_TOKEN_TTL_SECONDS): Promise<IssuedJoinToken> {
    const joinToken = this.#joinToken(ttlSeconds);
    const issued = await this.#repos.hosts.issueJoinToken(
      id,
      hashToken(joinToken.token),
      joinToken.expiresAt,
      isoAt(this.#clock),
    );
    if (!issued) throw new NotFound("Host");
    return joinToken;
  }

  /** Revokes the host's credentials: its agent is refused from now on. How many were live. */
  async revokeCredentials(id: number): Promise<number> {
    await this.get(id);
    return this.#repos.hosts.revokeCredentials(id, isoAt(this.#clock));
  }

  /**
   * The agent's exchange of its join token for a credential, in one transaction: the token is spent (a second
   * exchange finds it spent), the host's report recorded, any earlier credential revoked, and the new one
   * stored as a digest and returned once.
   */
  async join(request: JoinRequest): Promise<{ hostId: number; credential: string }> {
    const fields = amountProblems("capacity", request.capacity);
    if (Object.keys(fields).length > 0) throw new InvalidInput(fields);
    const digest = hashToken(request.joinToken);
    const now = isoAt(this.#clock);
    const credential = generateHostCredential();
    const hostId = await this.#repos.transaction(async (tx) => {
      const hostId = await tx.hosts.spendJoinToken(digest, now);
      if (hostId === undefined) throw await this.#whyRefused(tx, digest, now);
      await tx.hosts.recordReport(
        hostId,
        request.capacity,
        request.agentVersion,
        request.driver,
        now,
        request.images,
      );
      await tx.hosts.revokeCredentials(hostId, now);
      await tx.hosts.insertCredential(hostId, hashToken(credential), now);
      return hostId;
    });
    return { hostId, credential };
  }

  /**
   * An agent's heartbeat: the host is up, with what it reports now. When it was down (not heard from for the down
   * threshold), the same transaction marks that it must reconcile at its next report (`returned`). The host as
   * an operator sees it.
   */
  async heartbeat(
    hostId: number,
    report: Omit<JoinRequest, "joinToken">,
  ): Promise<{ host: Host; returned: boolean }> {
    const fields = amountProblems("capacity", report.capacity);
    if (Object.keys(fields).length > 0) throw new InvalidInput(fields);
    const returned = await this.#repos.transaction(async (tx) => {
      const now = isoAt(this.#clock);
      const returned = await tx.hosts.requestReconcileIfDown(hostId, this.#since(), now);
      await tx.hosts.recordReport(
        hostId,
        report.capacity,
        report.agentVersion,
        report.driver,
        now,
        report.images,
        report.transferUrl ?? null,
      );
      return returned;
    });
    return { host: await this.get(hostId), returned };
  }

  /** Whether the host is down now (not heard from for the down threshold). */
  async isDown(hostId: number): Promise<boolean> {
    return (await this.get(hostId)).effective_state === "down";
  }

  async #whyRefused(tx: Repositories, digest: string, now: string): Promise<JoinTokenInvalid> {
    const host = await tx.hosts.findByJoinTokenHash(digest);
    if (!host) return new JoinTokenInvalid();
    if (host.join_token_used_at !== null) return new JoinTokenInvalid("The join token was used already.");
    if ((host.join_token_expires_at ?? "") <= now) return new JoinTokenInvalid("The join token has expired.");
    return new JoinTokenInvalid();
  }
}
