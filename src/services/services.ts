import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver } from "../drivers/driver.ts";
import type { ChangeFeed } from "../engine/change-feed.ts";
import { ConsoleSessions } from "../engine/console-sessions.ts";
import type { LocalHostLink } from "../engine/local-host-link.ts";
import { WebhookKeys } from "../engine/webhook-keys.ts";
import type { WorkArrivals } from "../engine/work-arrivals.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";
import type { ImageStore } from "../store/image-store.ts";
import { AccountService } from "./account-service.ts";
import { ActionService } from "./action-service.ts";
import { AgentService } from "./agent-service.ts";
import { AuthService } from "./auth-service.ts";
import { BackupService } from "./backup-service.ts";
import { CatalogueMemory } from "./catalogue-memory.ts";
import { CatalogueService } from "./catalogue-service.ts";
import { ConsoleService } from "./console-service.ts";
import { HostReconciliationService } from "./host-reconciliation-service.ts";
import { HostService } from "./host-service.ts";
import { IdempotencyService } from "./idempotency-service.ts";
import { ImageService } from "./image-service.ts";
import { InvitationService } from "./invitation-service.ts";
import { LedgerService } from "./ledger-service.ts";
import { MigrationService } from "./migration-service.ts";
import { RateLimitService } from "./rate-limit-service.ts";
import { ResizeService } from "./resize-service.ts";
import { ServerMetricsService } from "./server-metrics-service.ts";
import { ServerService } from "./server-service.ts";
import { SshKeyService } from "./ssh-key-service.ts";
import { TokenVerdicts } from "./token-verdicts.ts";
import { WebSessionService } from "./web-session-service.ts";
import { WebhookService } from "./webhook-service.ts";

/** The use cases the HTTP layer calls. */
export interface Services {
  config: Config;
  clock: Clock;
  repos: Repositories;
  auth: AuthService;
  /** The API tokens' verdicts this process keeps; a revoke elsewhere is heard through `forget`. */
  tokenVerdicts: TokenVerdicts;
  accounts: AccountService;
  ledger: LedgerService;
  servers: ServerService;
  images: ImageService;
  sshKeys: SshKeyService;
  catalogue: CatalogueService;
  actions: ActionService;
  idempotency: IdempotencyService;
  rateLimits: RateLimitService;
  hosts: HostService;
  hostReconciliation: HostReconciliationService;
  agents: AgentService;
  migrations: MigrationService;
  backups: BackupService;
  resizes: ResizeService;
  invitations: InvitationService;
  webSessions: WebSessionService;
  consoles: ConsoleService;
  serverMetrics: ServerMetricsService;
  webhooks: WebhookService;
}

/** The engine's parts the agents' side of the host link uses. */
export interface AgentLink {
  link: LocalHostLink;
  work: WorkArrivals;
  log: Logger;
  /** This process's driver, which opens the consoles of the machines of its embedded hosts. */
  driver: Driver;
  /** The embedded hosts this process drives. */
  embeddedHostIds: () => readonly number[];
}

export function createServices(
  config: Config,
  repos: Repositories,
  clock: Clock,
  notifier: WorkNotifier,
  changes: ChangeFeed,
  store: ImageStore,
  agentLink: AgentLink,
): Services {
  const hosts = new HostService(repos, clock, config.hostDownAfterMs);
  const hostReconciliation = new HostReconciliationService({
    repos,
    clock,
    notifier,
    maxAttempts: config.maxAttempts,
  });
  const migrations = new MigrationService({
    repos,
    clock,
    notifier,
    placement: config.placement,
    hostDownAfterMs: config.hostDownAfterMs,
    maxAttempts: config.maxAttempts,
  });
  const tokenVerdicts = new TokenVerdicts(config.tokenCacheMs);
  return {
    config,
    clock,
    repos,
    auth: new AuthService(repos, clock, config.authFailures, tokenVerdicts, config.metricsToken),
    tokenVerdicts,
    accounts: new AccountService(repos, clock, tokenVerdicts),
    ledger: new LedgerService(repos, clock, config.backupPricePercent),
    servers: new ServerService({
      repos,
      clock,
      notifier,
      minCreditHours: config.minCreditHours,
      maxAttempts: config.maxAttempts,
      changes,
      catalogue: new CatalogueMemory(repos),
      placement: config.placement,
      hostDownAfterMs: config.hostDownAfterMs,
      backupWindow: config.backupWindow,
      backupPricePercent: config.backupPricePercent,
      lowBalanceMinor: config.lowBalanceThresholdMinor,
    }),
    images: new ImageService({
      repos,
      clock,
      notifier,
      store,
      maxAttempts: config.maxAttempts,
      snapshotLimit: config.snapshotLimit,
    }),
    sshKeys: new SshKeyService(repos, clock),
    catalogue: new CatalogueService(repos),
    actions: new ActionService(repos, changes),
    idempotency: new IdempotencyService(repos, clock),
    rateLimits: new RateLimitService(repos, clock, config.rateLimits),
    hosts,
    hostReconciliation,
    agents: new AgentService({ repos, clock, ...agentLink, hosts, reconciler: hostReconciliation }),
    migrations,
    backups: new BackupService({ repos, clock, notifier, maxAttempts: config.maxAttempts }),
    resizes: new ResizeService({ repos, clock, notifier, maxAttempts: config.maxAttempts, migrations }),
    invitations: new InvitationService(repos, clock, config.web.invitationTtlMs),
    webSessions: new WebSessionService(repos, clock, config.web, config.authFailures),
    consoles: new ConsoleService({
      repos,
      clock,
      log: agentLink.log,
      driver: agentLink.driver,
      embeddedHostIds: agentLink.embeddedHostIds,
      sessions: new ConsoleSessions(config.console.limit),
    }),
    serverMetrics: new ServerMetricsService(repos, clock),
    webhooks: new WebhookService({
      repos,
      clock,
      notifier,
      keys: new WebhookKeys(repos, config.webhooks.secretKey),
      limit: config.webhooks.limit,
    }),
  };
}
