import { imagesOf } from "../db/repositories/host-repository.ts";
import type { ImageFilter } from "../db/repositories/image-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ImageRow, ImageType, PlanRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import {
  ImageNotAvailable,
  ImageNotFound,
  ImageQuotaExceeded,
  ImageTooLarge,
  InvalidInput,
  OsImageUnavailable,
  ServerNotFound,
} from "../domain/errors.ts";
import { hasImage } from "../domain/host-placement.ts";
import { LIFECYCLE, rejectDiskAction } from "../domain/lifecycle.ts";
import type { ServerStatus, StoredServerStatus } from "../domain/server-status.ts";
import { queueImageCopy } from "../engine/queue-image-copy.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";
import type { ImageStore } from "../store/image-store.ts";
import { withActionInFlight } from "./action-in-flight.ts";
import type { IdempotencyClaim } from "./idempotency-service.ts";
import type { ServerAction } from "./server-action.ts";

export interface ImageServiceOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  store: ImageStore;
  maxAttempts: number;
  /** Snapshots an account may keep. */
  snapshotLimit: number;
}

export interface ImageListQuery {
  type?: ImageType;
  serverId?: number;
  page: number;
  pageSize: number;
}

/** A rebuild's new disk: an image of the account's, or a fresh OS. */
export type RebuildSource = { image_id?: number; os_id?: number };

/**
 * Snapshots and backups as the account sees them, and the actions that make and use them: `create_image` copies
 * a server's disk into a new image; `rebuild` replaces it with an image's or a fresh OS's.
 */
export class ImageService {
  readonly #o: ImageServiceOptions;
  constructor(options: ImageServiceOptions) {
    this.#o = options;
  }

  async list(accountId: number, query: ImageListQuery): Promise<{ count: number; images: ImageRow[] }> {
    const filter: ImageFilter = { type: query.type, serverId: query.serverId };
    const [count, images] = await Promise.all([
      this.#o.repos.images.count(accountId, filter),
      this.#o.repos.images.list(accountId, filter, query.pageSize, (query.page - 1) * query.pageSize),
    ]);
    return { count, images };
  }

  async get(accountId: number, id: number): Promise<ImageRow> {
    const image = await this.#o.repos.images.findForAccount(accountId, id);
    if (!image) throw new ImageNotFound();
    return image;
  }

  /** The image an action (a snapshot's) makes, for an Idempotency-Key's retry. */
  async madeBy(accountId: number, actionId: number): Promise<ImageRow> {
    const action = await this.#o.repos.operations.findById(actionId);
    if (!action || action.account_id !== accountId || action.image_id === null) throw new ImageNotFound();
    return this.get(accountId, action.image_id);
  }

  /**
   * Gone from the API at once; its bytes are removed from the store after commit (best effort: what is left, the
   * store's sweep removes). An image still being made cannot be deleted: its action is writing it.
   */
  async delete(accountId: number, id: number): Promise<void> {
    const image = await this.#o.repos.transaction(async (tx) => {
      const found = await tx.images.findForAccount(accountId, id);
      if (!found) throw new ImageNotFound();
      if (found.status === "creating") throw new ImageNotAvailable(found.id, found.status);
      if (!(await tx.images.markDeleted(found.id, isoAt(this.#o.clock)))) throw new ImageNotFound();
      return found;
    });
    await this.#o.store.delete(image.store_key).catch(() => undefined);
  }

  /** A snapshot of an active or stopped server: the image, `creating`, and the action that makes it. */
  async createImage(
    accountId: number,
    serverId: number,
    name: string | null,
    claim?: IdempotencyClaim,
  ): Promise<ServerAction & { image: ImageRow }> {
    const { repos, clock } = this.#o;
    const now = isoAt(clock);
    const made = await repos.transaction(async (tx) => {
      const server = await tx.servers.findById(serverId);
      if (!server || server.account_id !== accountId || server.deleted_at !== null)
        throw new ServerNotFound();
      // The server keeps its status: a copy queued behind another action of the server waits for it.
      if (!startsFrom(LIFECYCLE.snapshot.from, server.status))
        throw await withActionInFlight(tx, server.id, rejectDiskAction(server.status));
      // The account's row is held while its snapshots are counted, so concurrent requests cannot both pass.
      await tx.accounts.lock(accountId);
      if ((await tx.images.countSnapshots(accountId)) >= this.#o.snapshotLimit)
        throw new ImageQuotaExceeded(this.#o.snapshotLimit);
      const queued = await queueImageCopy(tx, {
        server,
        type: "snapshot",
        name,
        maxAttempts: this.#o.maxAttempts,
        now,
      });
      if (claim) await tx.idempotency.attach(claim.accountId, claim.key, serverId, queued.actionId);
      // Live, from active or stopped: never `deleting`.
      const status = server.status as ServerStatus;
      return { ...queued, server: { id: server.id, name: server.name, status } };
    });
    this.#o.notifier.wake();
    return { message: LIFECYCLE.snapshot.message, ...made };
  }

  /**
   * Replaces an active or stopped server's disk with an image's (the account's, available, no larger than the
   * plan's disk) or a fresh OS's, on its own host, which must have that OS's base image. The server is
   * `provisioning` until it runs again, with the same id and addresses.
   */
  async rebuild(
    accountId: number,
    serverId: number,
    source: RebuildSource,
    claim?: IdempotencyClaim,
  ): Promise<ServerAction> {
    if ((source.image_id === undefined) === (source.os_id === undefined)) {
      throw new InvalidInput(
        { image_id: ["Give exactly one of image_id and os_id."] },
        "Name the image or the operating system to rebuild from.",
      );
    }
    const { repos, clock } = this.#o;
    const now = isoAt(clock);
    const to = LIFECYCLE.rebuild.transitional;
    const accepted = await repos.transaction(async (tx) => {
      const server = await tx.servers.findById(serverId);
      if (!server || server.account_id !== accountId || server.deleted_at !== null)
        throw new ServerNotFound();
      const plan = await tx.catalogue.findPlan(server.plan_id);
      let osId = source.os_id;
      if (source.image_id !== undefined) {
        const image = await tx.images.findForAccount(accountId, source.image_id);
        if (!image) throw new ImageNotFound();
        checkRestorable(image, plan);
        osId = image.os_id;
      }
      const os = osId === undefined ? undefined : await tx.catalogue.findOs(osId);
      if (!os) throw InvalidInput.field("os_id", `Unknown operating system ${osId}; see GET /api/v1/os/.`);
      const host = server.host_id === null ? undefined : await tx.hosts.findById(server.host_id);
      if (host && !hasImage(imagesOf(host), os.image)) throw new OsImageUnavailable(os.name);
      if (
        !startsFrom(LIFECYCLE.rebuild.from, server.status) ||
        !(await tx.servers.swapStatus(serverId, server.status, to, now, { accountId }))
      ) {
        const current = await tx.servers.findById(serverId);
        throw await withActionInFlight(tx, serverId, rejectDiskAction(current?.status ?? server.status));
      }
      const actionId = await tx.operations.insert({
        serverId,
        accountId,
        kind: "rebuild",
        maxAttempts: this.#o.maxAttempts,
        now,
        imageId: source.image_id,
        osId: source.os_id,
      });
      if (claim) await tx.idempotency.attach(claim.accountId, claim.key, serverId, actionId);
      return { actionId, name: server.name };
    });
    this.#o.notifier.wake();
    return {
      message: LIFECYCLE.rebuild.message,
      actionId: accepted.actionId,
      server: { id: serverId, name: accepted.name, status: to },
    };
  }
}

/** An image a server can be made from: complete, and no larger than the plan's disk. */
export function checkRestorable(image: ImageRow, plan: PlanRow | undefined): void {
  if (image.status !== "available") throw new ImageNotAvailable(image.id, image.status);
  if (plan && image.disk_gb > plan.storage_gb)
    throw new ImageTooLarge(image.id, image.disk_gb, plan.storage_gb);
}

function startsFrom(from: readonly StoredServerStatus[], status: StoredServerStatus): boolean {
  return from.includes(status);
}
