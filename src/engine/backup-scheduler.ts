import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import { type BackupWindow, nextBackupAt } from "../domain/backup-schedule.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { LIFECYCLE } from "../domain/lifecycle.ts";
import type { StoredServerStatus } from "../domain/server-status.ts";
import type { ImageStore } from "../store/image-store.ts";
import { evictOldBackups } from "./evict-old-backups.ts";
import { PeriodicTask } from "./periodic-task.ts";
import { purgeImages } from "./purge-images.ts";
import { queueImageCopy } from "./queue-image-copy.ts";
import type { WorkNotifier } from "./work-notifier.ts";

/** Store objects that no image row wants are removed once this old: an upload under way has its row already. */
const STRAY_AFTER_MS = 3_600_000;
const BATCH = 500;

export interface BackupSchedulerOptions {
  repos: Repositories;
  clock: Clock;
  log: Logger;
  notifier: WorkNotifier;
  intervalMs: number;
  window: BackupWindow;
  keep: number;
  maxAttempts: number;
  /** Where images' bytes are; without one, deleted images keep their bytes until a process with a store sweeps. */
  store?: ImageStore;
}

export interface BackupRun {
  queued: number;
  /** Due servers that were busy, suspended or in error: their day is skipped. */
  skipped: number;
  evicted: number;
  purged: number;
  strays: number;
}

/**
 * The daily backups: each due server's next backup is moved on to its next day's slot and its backup queued, in
 * one transaction whose compare-and-swap lets one process only do it, however many run the task. Then retention
 * (a lowered VPS_BACKUP_KEEP takes effect), and the store's sweep: the bytes of deleted or failed images, and
 * objects no image row wants (what a crash between a commit and the store's delete would otherwise leak).
 */
export class BackupScheduler {
  readonly #o: BackupSchedulerOptions;
  readonly #periodic: PeriodicTask;
  #straysSweptAt: number | undefined;

  constructor(options: BackupSchedulerOptions) {
    this.#o = options;
    this.#periodic = new PeriodicTask("backup scheduler", options.intervalMs, options.log, () =>
      this.runOnce(),
    );
  }

  start(): void {
    this.#periodic.start();
  }

  stop(): Promise<void> {
    return this.#periodic.stop();
  }

  async runOnce(): Promise<BackupRun> {
    const run: BackupRun = { queued: 0, skipped: 0, evicted: 0, purged: 0, strays: 0 };
    await this.#queueDue(run);
    if (run.queued > 0) this.#o.notifier.wake();
    await this.#evict(run);
    await this.#sweep(run);
    return run;
  }

  async #queueDue(run: BackupRun): Promise<void> {
    const { repos, clock, window, maxAttempts } = this.#o;
    const takes = LIFECYCLE.backup.from as readonly StoredServerStatus[];
    for (;;) {
      const now = isoAt(clock);
      const due = await repos.backups.due(now, BATCH);
      for (const server of due) {
        // Days missed while nothing ran the task are not made up: the next slot is after now.
        const next = nextBackupAt(server.id, window, now);
        const outcome = await repos.transaction(async (tx) => {
          if (!(await tx.backups.advance(server.id, server.backup_next_at, next))) return "lost";
          if (!takes.includes(server.status)) return "skipped";
          await queueImageCopy(tx, {
            server,
            type: "backup",
            name: null,
            maxAttempts,
            now,
          });
          return "queued";
        });
        if (outcome === "queued") run.queued++;
        if (outcome === "skipped") run.skipped++;
      }
      if (due.length < BATCH) return;
    }
  }

  async #evict(run: BackupRun): Promise<void> {
    const { repos, clock, keep, store, log } = this.#o;
    for (const serverId of await repos.images.serversOverKeep(keep, BATCH)) {
      const now = isoAt(clock);
      const keys = await repos.transaction((tx) => evictOldBackups(tx, serverId, keep, now));
      run.evicted += keys.length;
      if (store) run.purged += await purgeImages(repos, store, keys, now, log);
    }
  }

  async #sweep(run: BackupRun): Promise<void> {
    const { repos, clock, store, log } = this.#o;
    if (!store) return;
    for (;;) {
      const left = await repos.images.unpurged(BATCH);
      const purged = await purgeImages(
        repos,
        store,
        left.map((image) => image.store_key),
        isoAt(clock),
        log,
      );
      run.purged += purged;
      if (left.length < BATCH || purged === 0) break;
    }
    // Listing the whole store is costly: strays are looked for once an hour (at the first run, then hourly).
    const nowMs = clock.now().getTime();
    if (this.#straysSweptAt !== undefined && nowMs - this.#straysSweptAt < STRAY_AFTER_MS) return;
    this.#straysSweptAt = nowMs;
    const strayBefore = nowMs - STRAY_AFTER_MS;
    // What uploads cut short left (a crash mid-upload, on any host), and then images no row wants.
    run.strays += await store.sweep({ olderThanMs: STRAY_AFTER_MS });
    const stored = await store.list("accounts/");
    for (let i = 0; i < stored.length; i += BATCH) {
      const slice = stored.slice(i, i + BATCH);
      const kept = await repos.images.keptKeys(slice.map((image) => image.key));
      for (const image of slice) {
        if (kept.has(image.key) || image.createdAt.getTime() > strayBefore) continue;
        await store.delete(image.key);
        run.strays++;
      }
    }
  }
}
