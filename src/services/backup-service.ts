import type { Repositories } from "../db/repositories/repositories.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { InvalidState, ServerNotFound } from "../domain/errors.ts";
import { LIFECYCLE, rejectDiskAction } from "../domain/lifecycle.ts";
import type { ServerStatus, StoredServerStatus } from "../domain/server-status.ts";
import { queueImageCopy } from "../engine/queue-image-copy.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";
import { withActionInFlight } from "./action-in-flight.ts";
import type { IdempotencyClaim } from "./idempotency-service.ts";
import type { ServerAction } from "./server-action.ts";

export interface BackupServiceOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  maxAttempts: number;
}

/** A backup taken now, besides the daily one: only for a server with backups on, kept by the same rule. */
export class BackupService {
  readonly #o: BackupServiceOptions;
  constructor(options: BackupServiceOptions) {
    this.#o = options;
  }

  async backupNow(accountId: number, id: number, claim?: IdempotencyClaim): Promise<ServerAction> {
    const { repos, clock, maxAttempts } = this.#o;
    const now = isoAt(clock);
    const accepted = await repos.transaction(async (tx) => {
      const server = await tx.servers.findById(id);
      if (!server || server.account_id !== accountId || server.deleted_at !== null)
        throw new ServerNotFound();
      if (server.backups_enabled !== 1) {
        throw new InvalidState(
          "backups_disabled",
          "Backups are off for this server; turn them on with backups_enabled first.",
          server.status,
        );
      }
      if (!(LIFECYCLE.backup.from as readonly StoredServerStatus[]).includes(server.status)) {
        throw await withActionInFlight(tx, id, rejectDiskAction(server.status, "backup"));
      }
      const { actionId } = await queueImageCopy(tx, {
        server,
        type: "backup",
        name: null,
        maxAttempts,
        now,
      });
      if (claim) await tx.idempotency.attach(claim.accountId, claim.key, id, actionId);
      return { actionId, server: { id, name: server.name, status: server.status as ServerStatus } };
    });
    this.#o.notifier.wake();
    return { message: LIFECYCLE.backup.message, ...accepted };
  }
}
