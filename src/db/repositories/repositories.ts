import type { Db } from "../database.ts";
import { PreparedQueries } from "../prepared-queries.ts";
import { AccountRepository } from "./account-repository.ts";
import { AddressRepository } from "./address-repository.ts";
import { BackupRepository } from "./backup-repository.ts";
import { BillingRepository } from "./billing-repository.ts";
import { CatalogueRepository } from "./catalogue-repository.ts";
import { ConsoleTicketRepository } from "./console-ticket-repository.ts";
import { HostAllocationRepository } from "./host-allocation-repository.ts";
import { HostFailureRepository } from "./host-failure-repository.ts";
import { HostRepository } from "./host-repository.ts";
import { IdempotencyRepository } from "./idempotency-repository.ts";
import { ImageRepository } from "./image-repository.ts";
import { InvitationRepository } from "./invitation-repository.ts";
import { LedgerRepository } from "./ledger-repository.ts";
import { MigrationRepository } from "./migration-repository.ts";
import { OperationRepository } from "./operation-repository.ts";
import { RateLimitRepository } from "./rate-limit-repository.ts";
import { ServerRepository } from "./server-repository.ts";
import { SettingsRepository } from "./settings-repository.ts";
import { SshKeyRepository } from "./ssh-key-repository.ts";
import { TokenRepository } from "./token-repository.ts";
import { UsageHistoryRepository } from "./usage-history-repository.ts";
import { UsageRepository } from "./usage-repository.ts";
import { WebSessionRepository } from "./web-session-repository.ts";
import { WebhookRepository } from "./webhook-repository.ts";

/** Every repository over one executor: the database, or one transaction of it. */
export class Repositories {
  readonly db: Db;
  readonly accounts: AccountRepository;
  readonly tokens: TokenRepository;
  readonly settings: SettingsRepository;
  readonly catalogue: CatalogueRepository;
  readonly sshKeys: SshKeyRepository;
  readonly servers: ServerRepository;
  readonly addresses: AddressRepository;
  readonly operations: OperationRepository;
  readonly usage: UsageRepository;
  readonly usageHistory: UsageHistoryRepository;
  readonly billing: BillingRepository;
  readonly ledger: LedgerRepository;
  readonly idempotency: IdempotencyRepository;
  readonly rateLimits: RateLimitRepository;
  readonly hosts: HostRepository;
  readonly hostAllocations: HostAllocationRepository;
  readonly hostFailures: HostFailureRepository;
  readonly migrations: MigrationRepository;
  readonly images: ImageRepository;
  readonly backups: BackupRepository;
  readonly invitations: InvitationRepository;
  readonly webSessions: WebSessionRepository;
  readonly consoleTickets: ConsoleTicketRepository;
  readonly webhooks: WebhookRepository;

  readonly #prepared: PreparedQueries;

  /** `prepared` is shared by every Repositories of one database, so a query is compiled once per process. */
  constructor(db: Db, prepared = new PreparedQueries()) {
    this.db = db;
    this.#prepared = prepared;
    this.accounts = new AccountRepository(db);
    this.tokens = new TokenRepository(db, prepared);
    this.settings = new SettingsRepository(db);
    this.catalogue = new CatalogueRepository(db, prepared);
    this.sshKeys = new SshKeyRepository(db);
    this.servers = new ServerRepository(db, prepared);
    this.addresses = new AddressRepository(db, prepared);
    this.operations = new OperationRepository(db, prepared);
    this.usage = new UsageRepository(db, prepared);
    this.usageHistory = new UsageHistoryRepository(db);
    this.billing = new BillingRepository(db);
    this.ledger = new LedgerRepository(db);
    this.idempotency = new IdempotencyRepository(db);
    this.rateLimits = new RateLimitRepository(db);
    this.hosts = new HostRepository(db);
    this.hostAllocations = new HostAllocationRepository(db);
    this.hostFailures = new HostFailureRepository(db);
    this.migrations = new MigrationRepository(db);
    this.images = new ImageRepository(db);
    this.backups = new BackupRepository(db);
    this.invitations = new InvitationRepository(db);
    this.webSessions = new WebSessionRepository(db);
    this.consoleTickets = new ConsoleTicketRepository(db);
    this.webhooks = new WebhookRepository(db);
  }

  /** Runs `work` in one transaction: all of its writes commit together or none do. */
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((tx) => work(new Repositories(tx, this.#prepared)));
  }
}
