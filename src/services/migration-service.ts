import type { Repositories } from "../db/repositories/repositories.ts";
import type { MigrationRow, PlanRow } from "../db/schema.ts";
import { hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { type AppError, Conflict, InvalidState, NotFound, TransferTokenInvalid } from "../domain/errors.ts";
import { freshSince, type PlacementPolicy } from "../domain/host-placement.ts";
import { LIFECYCLE } from "../domain/lifecycle.ts";
import type { StoredServerStatus } from "../domain/server-status.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";

export interface MigrationServiceOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  placement: PlacementPolicy;
  hostDownAfterMs: number;
  maxAttempts: number;
}

/** A server a drain could not move, and why. */
export interface NotMigrated {
  serverId: number;
  code: string;
  message: string;
}

/**
 * Cold migration (docs/fleet.md, "Drain and cold migration"): an admin moves one server, or drains a host to
 * move all of its servers. Each move is asked for in one transaction: the server's status swapped to `stopping`
 * from where it was (so power actions answer `server_busy`), room claimed on the target by placement, the
 * migration recorded and its first step queued on the source. The steps' ends are settled by the engine.
 */
export class MigrationService {
  readonly #o: MigrationServiceOptions;
  constructor(options: MigrationServiceOptions) {
    this.#o = options;
  }

  async migrate(serverId: number, targetHostId?: number): Promise<MigrationRow> {
    const migration = await this.#o.repos.transaction((tx) => this.#begin(tx, serverId, targetHostId));
    this.#o.notifier.wake();
    return migration;
  }

  /** Sets the host `draining` (no new placement) and asks for a migration of each of its servers. */
  async drain(hostId: number): Promise<{ queued: number; refused: NotMigrated[] }> {
    const { repos, clock } = this.#o;
    for (;;) {
      const host = await repos.hosts.findById(hostId);
      if (!host) throw new NotFound("Host");
      if (host.state === "draining") break;
      if (await repos.hosts.setState(hostId, host.state as "enabled", "draining", isoAt(clock))) break;
    }
    const moving = new Set((await repos.migrations.runningFrom(hostId)).map((m) => m.server_id));
    let queued = 0;
    const refused: NotMigrated[] = [];
    for (const serverId of await repos.servers.idsOnHost(hostId)) {
      if (moving.has(serverId)) continue;
      try {
        await repos.transaction((tx) => this.#begin(tx, serverId));
        queued++;
      } catch (err) {
        const e = err as AppError;
        if (typeof e.code !== "string") throw err;
        refused.push({ serverId, code: e.code, message: e.message });
      }
    }
    if (queued > 0) this.#o.notifier.wake();
    return { queued, refused };
  }

  async get(id: number): Promise<MigrationRow> {
    const migration = await this.#o.repos.migrations.findById(id);
    if (!migration) throw new NotFound("Migration");
    return migration;
  }

  /**
   * The source agent's check of a transfer token before it serves the disk: spent here, once. The disk's size
   * and checksum, for the source to compare with what it is about to send.
   */
  async spendTransferToken(
    hostId: number,
    serverId: number,
    token: string,
  ): Promise<{ size: number; sha256: string }> {
    const spent = await this.#o.repos.migrations.spendToken(
      serverId,
      hostId,
      hashToken(token),
      isoAt(this.#o.clock),
    );
    if (!spent || spent.checksum === null || spent.disk_bytes === null) throw new TransferTokenInvalid();
    return { size: Number(spent.disk_bytes), sha256: spent.checksum };
  }

  /**
   * In the caller's transaction, a migration to a host of placement's choosing with room for `plan` (a resize
   * whose host lacks room): its end queues the resize there.
   */
  async beginForResize(tx: Repositories, serverId: number, plan: PlanRow): Promise<MigrationRow> {
    return this.#begin(tx, serverId, undefined, plan);
  }

  async #begin(
    tx: Repositories,
    serverId: number,
    targetHostId?: number,
    resizeTo?: PlanRow,
  ): Promise<MigrationRow> {
    const { clock } = this.#o;
    const now = isoAt(clock);
    const server = await tx.servers.findById(serverId);
    if (!server || server.deleted_at !== null) throw new NotFound("Server");
    if (server.host_id === null) throw new Conflict("server_unplaced", "The server is on no host yet.");
    const from = server.status as StoredServerStatus;
    if (!(LIFECYCLE.migrate_out.from as readonly StoredServerStatus[]).includes(from)) {
      throw new InvalidState(
        from === "error" ? "server_in_error" : "server_busy",
        `The server is ${from}; only an active, stopped or suspended server can be migrated.`,
        from,
      );
    }
    // A resize still to run changes the room the server holds: moved before it ends, the target's claim is stale.
    if ((await tx.operations.unfinishedFor(serverId)).some((op) => op.kind === "resize")) {
      throw new InvalidState(
        "server_busy",
        "The server is being resized; move it once that has ended.",
        from,
      );
    }
    if (targetHostId === server.host_id) {
      throw new Conflict("same_host", "The server is on that host already.");
    }
    if (targetHostId !== undefined && !(await tx.hosts.findById(targetHostId))) throw new NotFound("Host");
    const plan = resizeTo ?? (await tx.catalogue.findPlan(server.plan_id));
    const os = await tx.catalogue.findOs(server.os_id);
    if (!plan || !os) throw new Conflict("catalogue_missing", "The server's plan or OS no longer exists.");
    // Unchanged since read, so that no resize was asked for meanwhile.
    if (
      !(await tx.servers.swapStatus(serverId, from, "stopping", now, { unchangedSince: server.updated_at }))
    ) {
      throw new InvalidState("server_busy", "The server changed meanwhile; try again.", from);
    }
    const requested = { vcpus: plan.vcpus, memory_mb: plan.memory_mb, disk_gb: plan.storage_gb };
    const target = await tx.hostAllocations.claimForMigration(
      server.host_id,
      server.location_id,
      requested,
      this.#o.placement,
      freshSince(clock.now(), this.#o.hostDownAfterMs),
      now,
      os.image,
      targetHostId,
    );
    if (target === undefined) {
      throw new Conflict(
        "no_capacity",
        targetHostId === undefined
          ? "No other host of the server's location is up, enabled, has its image and room for its plan."
          : "That host is not up and enabled in the server's location, or lacks its image or room for its plan.",
      );
    }
    // After the claim, so that a move nowhere has room for says so (the claim rolls back with the throw).
    const source = await tx.hosts.findById(server.host_id);
    if (!source?.transfer_url) {
      throw new Conflict(
        "transfer_unavailable",
        "The server's host serves no disks: only a host agent with VPS_AGENT_TRANSFER_ADDRESS can send one.",
      );
    }
    const migration = await tx.migrations.insert({
      server_id: serverId,
      source_host_id: server.host_id,
      target_host_id: target,
      state: "running",
      prior_status: from,
      was_running: from === "active" ? 1 : 0,
      ...requested,
      resize_plan_id: resizeTo?.id ?? null,
      created_at: now,
      updated_at: now,
    });
    await tx.operations.insert({
      serverId,
      accountId: server.account_id,
      kind: "migrate_out",
      maxAttempts: this.#o.maxAttempts,
      now,
      hostId: server.host_id,
      planId: resizeTo?.id,
    });
    return migration;
  }
}
