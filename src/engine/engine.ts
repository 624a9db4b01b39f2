import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { OpenDatabase } from "../db/database.ts";
import { PostgresListener } from "../db/postgres-listener.ts";
import { OPERATIONS_CHANNEL } from "../db/repositories/operation-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import { WEBHOOKS_NOTICE } from "../db/repositories/webhook-repository.ts";
import type { Clock } from "../domain/clock.ts";
import { LIFECYCLE, type OperationEnd } from "../domain/lifecycle.ts";
import type { Driver } from "../drivers/driver.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { packageVersion } from "../package-version.ts";
import type { ImageStore } from "../store/image-store.ts";
import { BackupScheduler } from "./backup-scheduler.ts";
import { BillingCycle } from "./billing-cycle.ts";
import { ChangeFeed } from "./change-feed.ts";
import type { CatalogueLookup } from "./claimed-operations.ts";
import { EmbeddedHosts } from "./embedded-hosts.ts";
import type { ClaimedOperation } from "./host-link.ts";
import { type HostReconciler, reconcileEmbeddedHost } from "./host-reconciler.ts";
import { HostUnavailableSweep } from "./host-unavailable-sweep.ts";
import { LocalHostLink } from "./local-host-link.ts";
import { OperationRunner } from "./operation-runner.ts";
import { OperationWorker } from "./operation-worker.ts";
import { PowerSync } from "./power-sync.ts";
import { UsageRollup } from "./usage-rollup.ts";
import { WebhookDispatcher } from "./webhook-dispatcher.ts";
import { WebhookKeys } from "./webhook-keys.ts";
import { WorkArrivals } from "./work-arrivals.ts";
import type { WorkNotifier } from "./work-notifier.ts";

export interface EngineOptions {
  config: Config;
  database: OpenDatabase;
  repos: Repositories;
  driver: Driver;
  /**
   * Where the embedded hosts write snapshots and backups and restore images from; the backup scheduler removes
   * deleted images' bytes from it.
   */
  store: ImageStore;
  clock: Clock;
  log: Logger;
  /** Counts ended operations and billing runs. */
  metrics: Metrics;
  /** The plans and OS of claimed operations, from memory (boot's `CatalogueMemory`); none, read each claim. */
  catalogue?: CatalogueLookup;
}

/** How often due backups are queued and the image store swept. */
const BACKUP_INTERVAL_MS = 60_000;
/** How often the usage history's ended hours are rolled up and its old rows dropped. */
const USAGE_ROLLUP_INTERVAL_MS = 60_000;

/**
 * Everything that runs in the background: the operation worker and its runner, the power sync, the billing
 * cycle, the change feed that waiting requests listen to, and on PostgreSQL the listener that hears what other
 * processes commit. Services tell it about new work through `wake()`.
 */
export class Engine implements WorkNotifier {
  readonly changes = new ChangeFeed();
  /** What agents' long polls wait on. */
  readonly work = new WorkArrivals();
  readonly runner: OperationRunner;
  /** The embedded local host: the worker's way to its operations, straight to the database. */
  readonly link: LocalHostLink;
  readonly worker: OperationWorker;
  readonly powerSync: PowerSync;
  readonly billing: BillingCycle;
  readonly backups: BackupScheduler;
  /** Rolls the usage history's minutes up into hours and drops what is past its retention. */
  readonly usageRollup: UsageRollup;
  /** Gives up the operations that waited too long for their down host. */
  readonly hostUnavailable: HostUnavailableSweep;
  /** This process's own hosts, unless VPS_EMBEDDED_HOSTS=off. */
  readonly embeddedHosts: EmbeddedHosts | undefined;
  /** Sends the webhooks' deliveries the outbox holds. */
  readonly webhooks: WebhookDispatcher;
  /** Reconciles an embedded host whose heartbeat resumes after it was down; set once the services exist. */
  reconciler: HostReconciler | undefined;
  readonly #o: EngineOptions;
  #listener: PostgresListener | undefined;

  constructor(options: EngineOptions) {
    this.#o = options;
    const { config, database, repos, driver, store, clock, log, metrics } = options;
    this.runner = new OperationRunner({ driver, store, shutdownTimeoutMs: config.shutdownTimeoutMs });
    const hosts = () => this.embeddedHosts?.ids ?? [];
    const link = new LocalHostLink({
      repos,
      clock,
      log: log.child({ component: "worker" }),
      leaseMs: config.leaseMs,
      retryBaseMs: config.retryBaseMs,
      hosts,
      groupSettlements: true,
      settlementsInFlight: database.dialect === "postgres" ? 4 : 1,
      onSettled: (op, status) => this.#settled(op, status),
      catalogue: options.catalogue,
    });
    this.link = link;
    this.powerSync = new PowerSync({
      repos,
      driver,
      clock,
      log: log.child({ component: "power-sync" }),
      intervalMs: config.powerSyncMs,
      hosts,
    });
    this.worker = new OperationWorker({
      link,
      runner: this.runner,
      clock,
      log: log.child({ component: "worker" }),
      concurrency: config.workerConcurrency,
      leaseMs: config.leaseMs,
      pollMs: config.pollMs,
      recover: () => link.recover(),
      nextDue: () => link.nextDue(),
    });
    this.billing = new BillingCycle({
      repos,
      clock,
      log: log.child({ component: "billing" }),
      notifier: this.worker,
      intervalMs: config.billingIntervalMs,
      maxAttempts: config.maxAttempts,
      backupPricePercent: config.backupPricePercent,
      snapshotPriceMinorPerGbMonth: config.snapshotPriceMinorPerGbMonth,
      lowBalanceMinor: config.lowBalanceThresholdMinor,
      bandwidthPriceMinorPerGb: config.bandwidthPriceMinorPerGb,
      onRun: (outcome, seconds) => metrics.billingRun(outcome, seconds),
    });
    this.backups = new BackupScheduler({
      repos,
      clock,
      log: log.child({ component: "backups" }),
      notifier: this.worker,
      intervalMs: BACKUP_INTERVAL_MS,
      window: config.backupWindow,
      keep: config.backupKeep,
      maxAttempts: config.maxAttempts,
      store: options.store,
    });
    this.usageRollup = new UsageRollup({
      repos,
      clock,
      log: log.child({ component: "usage-rollup" }),
      intervalMs: USAGE_ROLLUP_INTERVAL_MS,
    });
    this.hostUnavailable = new HostUnavailableSweep({
      repos,
      clock,
      log: log.child({ component: "host-unavailable" }),
      downAfterMs: config.hostDownAfterMs,
      unavailableAfterMs: config.hostUnavailableAfterMs,
      onEnded: (serverId, kind) => {
        metrics.operationFinished(kind, "failed");
        this.changes.emit(serverId);
      },
    });
    this.webhooks = new WebhookDispatcher({
      repos,
      clock,
      log: log.child({ component: "webhooks" }),
      settings: config.webhooks,
      keys: new WebhookKeys(repos, config.webhooks.secretKey),
      listenHost: config.host,
      concurrency: config.workerConcurrency,
      pollMs: config.pollMs,
    });
    const hostsLog = log.child({ component: "embedded-hosts" });
    this.embeddedHosts = config.embeddedHosts
      ? new EmbeddedHosts({
          repos,
          driver,
          clock,
          log: hostsLog,
          downAfterMs: config.hostDownAfterMs,
          version: packageVersion,
          onReturn: async (hostId) => {
            if (this.reconciler) await reconcileEmbeddedHost(hostId, driver, this.reconciler, hostsLog);
          },
        })
      : undefined;
  }

  wake(): void {
    this.worker.wake();
    this.work.notify();
    // On PostgreSQL whatever queues a delivery notifies every process's dispatcher (WEBHOOKS_NOTICE); woken by
    // every commit, each create and operation's end cost its claim and two reads of when the next is due.
    if (this.#o.database.dialect !== "postgres") this.webhooks.wake();
  }

  /** On PostgreSQL, hears what other processes commit (new work, ended operations); enough for an API-only process. */
  async listen(): Promise<void> {
    const { database, log } = this.#o;
    if (database.dialect !== "postgres" || this.#listener) return;
    this.#listener = new PostgresListener(
      database.url,
      OPERATIONS_CHANNEL,
      (payload) => {
        if (payload === WEBHOOKS_NOTICE) return this.webhooks.wake();
        this.wake();
        if (/^\d+$/.test(payload)) this.changes.emit(Number(payload));
        // (Re)connected: whatever was committed meanwhile, deliveries too.
        else if (payload === "") this.webhooks.wake();
      },
      log,
    );
    await this.#listener.start();
  }

  /** Registers and heartbeats the embedded hosts, listens, then starts the worker, the power sync and billing. */
  async start(): Promise<void> {
    await this.embeddedHosts?.start();
    await this.listen();
    await this.worker.start();
    this.powerSync.start();
    this.billing.start();
    this.backups.start();
    this.usageRollup.start();
    this.hostUnavailable.start();
    this.webhooks.start();
  }

  /** Stops claiming at once, lets running operations finish for the shutdown grace, and stops the rest. */
  async stop(): Promise<void> {
    this.work.close();
    await Promise.all([
      this.worker.stop(this.#o.config.shutdownGraceMs),
      this.powerSync.stop(),
      this.billing.stop(),
      this.backups.stop(),
      this.usageRollup.stop(),
      this.hostUnavailable.stop(),
      this.webhooks.stop(),
      this.embeddedHosts?.stop(),
      this.#listener?.stop(),
    ]);
  }

  /**
   * What a failed copy may have written is removed from the store once its failure is committed; best effort:
   * what is left (or written by a host that went quiet) is the store sweep's.
   */
  #discardCopy(op: ClaimedOperation): void {
    const { repos, store, log } = this.#o;
    repos.operations
      .findById(op.id)
      .then((row) => (row?.image_id ? repos.images.findById(row.image_id) : undefined))
      .then((image) => (image?.status === "failed" ? store.delete(image.store_key) : undefined))
      .catch((err) => log.warn({ err, operation: op.id }, "a failed image's bytes could not be removed"));
  }

  /** After an operation's end is committed: waiting requests look again, and a server that came up is sampled. */
  #settled(op: ClaimedOperation, status: OperationEnd): void {
    const { repos, log, metrics } = this.#o;
    metrics.operationFinished(op.kind, status);
    this.changes.emit(op.serverId);
    // Its end may have queued webhooks (on PostgreSQL their notification says so).
    if (this.#o.database.dialect !== "postgres") this.webhooks.wake();
    if ((op.kind === "snapshot" || op.kind === "backup") && status !== "succeeded") this.#discardCopy(op);
    // An operation of the same server may have been queued behind this one, for an agent.
    this.work.notify();
    // Usage right after a server comes up, rather than at the next power sync (a stopped server shows no
    // CPU or memory in use whatever its last sample says). Only a machine this process's driver holds: an
    // agent's machine is sampled by its agent's reports.
    if (status === "succeeded" && LIFECYCLE[op.kind].comesUp && op.owner === this.link.owner) {
      repos.servers
        .findById(op.serverId)
        .then(async (server) => {
          if (server && !server.deleted_at) await this.powerSync.sample(server, server.status === "active");
        })
        .catch((err) => log.warn({ err, server: op.serverId }, "usage sample failed"));
    }
  }
}
