import type { Repositories } from "../db/repositories/repositories.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import {
  type AppError,
  Conflict,
  DiskCannotShrink,
  InvalidInput,
  InvalidState,
  ServerNotFound,
} from "../domain/errors.ts";
import { LIFECYCLE, RESIZE_BY_MIGRATION_MESSAGE, rejectDiskAction } from "../domain/lifecycle.ts";
import type { ServerStatus } from "../domain/server-status.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";
import { withActionInFlight } from "./action-in-flight.ts";
import type { IdempotencyClaim } from "./idempotency-service.ts";
import type { MigrationService } from "./migration-service.ts";
import type { ServerAction } from "./server-action.ts";

export interface ResizeServiceOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  maxAttempts: number;
  migrations: MigrationService;
}

/** What a resize request answers; `migrating`: its host lacked room, so the server moves first. */
export interface ResizeAccepted extends ServerAction {
  migrating: boolean;
}

/**
 * Another plan for a stopped server (as Hetzner requires), in one transaction: the disk only grows; the room for
 * the difference is claimed on its host, or, when the host lacks it, the server is migrated by placement to a host
 * with room for the new plan and resized there once moved. The resize's end sets the plan, or gives the room back.
 */
export class ResizeService {
  readonly #o: ResizeServiceOptions;
  constructor(options: ResizeServiceOptions) {
    this.#o = options;
  }

  async resize(
    accountId: number,
    id: number,
    planId: number,
    claim?: IdempotencyClaim,
  ): Promise<ResizeAccepted> {
    const { repos, clock, maxAttempts, migrations } = this.#o;
    const now = isoAt(clock);
    const accepted = await repos.transaction(async (tx): Promise<ResizeAccepted> => {
      const server = await tx.servers.findById(id);
      if (!server || server.account_id !== accountId || server.deleted_at !== null)
        throw new ServerNotFound();
      const [current, plan] = await Promise.all([
        tx.catalogue.findPlan(server.plan_id),
        tx.catalogue.findPlan(planId),
      ]);
      if (!plan) throw InvalidInput.field("plan_id", `Unknown plan ${planId}; see GET /api/v1/plans/.`);
      if (!(await tx.catalogue.isPlanOffered(plan.id, server.location_id))) {
        throw InvalidInput.field(
          "plan_id",
          `Plan ${plan.id} (${plan.name}) is not offered in the server's location.`,
        );
      }
      if (plan.id === server.plan_id)
        throw InvalidInput.field("plan_id", `The server is on plan ${plan.id} already.`);
      if (server.status !== "stopped")
        throw await withActionInFlight(tx, id, rejectDiskAction(server.status, "resize"));
      if (current && plan.storage_gb < current.storage_gb)
        throw new DiskCannotShrink(current.storage_gb, plan.storage_gb);
      // Nothing changed the server since it was read (a start, say), and none can until this commits.
      if (
        !(await tx.servers.swapStatus(id, "stopped", "stopped", now, { unchangedSince: server.updated_at }))
      ) {
        throw new InvalidState("server_busy", "The server changed meanwhile; try again.", server.status);
      }
      const to = { vcpus: plan.vcpus, memory_mb: plan.memory_mb, disk_gb: plan.storage_gb };
      let actionId: number;
      let migrating = false;
      if (await tx.hostAllocations.resize(id, to, now)) {
        actionId = await tx.operations.insert({
          serverId: id,
          accountId,
          kind: "resize",
          maxAttempts,
          now,
          planId: plan.id,
        });
      } else {
        await migrations.beginForResize(tx, id, plan).catch((err: AppError) => {
          throw err.code === "no_capacity"
            ? new Conflict(
                "no_capacity",
                `No host of the server's location has room for plan ${plan.id} (${plan.name}) now; try again later.`,
              )
            : err;
        });
        migrating = true;
        // The migration's first step is the action to follow; its end queues the resize.
        const first = (await tx.operations.unfinishedFor(id)).find((op) => op.kind === "migrate_out");
        actionId = first?.id ?? 0;
      }
      if (claim) await tx.idempotency.attach(claim.accountId, claim.key, id, actionId);
      const status = (await tx.servers.findById(id))?.status ?? server.status;
      return {
        message: migrating ? RESIZE_BY_MIGRATION_MESSAGE : LIFECYCLE.resize.message,
        actionId,
        server: { id, name: server.name, status: status as ServerStatus },
        migrating,
      };
    });
    this.#o.notifier.wake();
    return accepted;
  }
}
