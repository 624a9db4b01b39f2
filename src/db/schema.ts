import type { Generated, Selectable } from "kysely";
import type { ImageConsistency, ImageStatus, ImageType } from "../domain/image-view.ts";
import type { LedgerKind } from "../domain/ledger.ts";
import type { OperationKind, OperationStatus } from "../domain/lifecycle.ts";
import type { StoredServerStatus } from "../domain/server-status.ts";

// Booleans are integers (0/1) and timestamps ISO 8601 UTC strings, so that both dialects store them alike.

export interface AccountsTable {
  id: Generated<number>;
  email: string;
  balance_minor: number;
  currency: string;
  created_at: string;
  updated_at: string;
  /** scrypt, as domain/password-hash.ts writes it; null until the account sets a password. */
  password_hash: Generated<string | null>;
  /** When the admin API made the account an operator of the web console; null: a customer (migration 0022). */
  operator_since: Generated<string | null>;
  /** Below this balance the account is warned (webhooks' `balance.low`, the console); null: the setting's default (migration 0029). */
  low_balance_threshold_minor: Generated<number | null>;
}

export interface ApiTokensTable {
  id: Generated<number>;
  account_id: number;
  token_hash: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface LocationsTable {
  id: Generated<number>;
  code: string;
  name: string;
  country: string;
}

export interface PlansTable {
  id: Generated<number>;
  name: string;
  vcpus: number;
  memory_mb: number;
  storage_gb: number;
  bandwidth_gb: number;
  price_hourly_minor: number;
  price_monthly_minor: number;
}

export interface PlanLocationsTable {
  plan_id: number;
  location_id: number;
}

export interface OperatingSystemsTable {
  id: Generated<number>;
  name: string;
  distribution: string;
  version: string;
  /** Base image of the OS for drivers that boot real disks (a file name or path). */
  image: string;
}

export interface SshKeysTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  public_key: string;
  fingerprint: string;
  key_type: string;
  bits: number;
  created_at: string;
}

export interface ServersTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  hostname: string | null;
  status: StoredServerStatus;
  plan_id: number;
  os_id: number;
  location_id: number;
  ssh_key_id: number | null;
  /** The key as it was at create time, so deleting the key later cannot break provisioning. */
  ssh_public_key: string | null;
  backups_enabled: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** The server is paid for up to this moment; null for servers that are not billed (deleted). */
  billed_until: string | null;
  ssh_host: string | null;
  ssh_port: number | null;
  /** The host the server lives on; null only for servers made before placement, until adopted. */
  host_id: number | null;
  /** When its next daily backup is due; null while backups are off (migration 0018). */
  backup_next_at: string | null;
}

/** A CIDR block added to a location's pool (migration 0030): the provider's own range, pooled or not. */
export interface AddressBlocksTable {
  id: Generated<number>;
  location_id: number;
  family: number;
  cidr: string;
}

export interface IpAddressesTable {
  id: Generated<number>;
  location_id: number;
  family: number;
  address: string;
  server_id: number | null;
  assigned_at: string | null;
}

export interface OperationsTable {
  id: Generated<number>;
  server_id: number;
  account_id: number;
  kind: OperationKind;
  status: OperationStatus;
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** The host that runs it; null: its server's host (migration 0016). */
  host_id: number | null;
  /** The image a snapshot or backup makes, or a create or rebuild restores (migration 0018). */
  image_id: number | null;
  /** A resize's new plan, or the one a migrate_out moves its server to a host with room for. */
  plan_id: number | null;
  /** A rebuild's new OS. */
  os_id: number | null;
  /** How far its steps are, 0-100, as its driver reports; null when it has said nothing. */
  progress: number | null;
}

export {
  IMAGE_STATUSES,
  IMAGE_TYPES,
  type ImageConsistency,
  type ImageStatus,
  type ImageType,
} from "../domain/image-view.ts";

export interface ImagesTable {
  id: Generated<number>;
  account_id: number;
  /** The server it was taken from; kept after that server is deleted. */
  server_id: number | null;
  type: ImageType;
  status: ImageStatus;
  name: string | null;
  /** The OS whose base image the disk is layered on. */
  os_id: number;
  /** The disk size a server restored from it needs at least, GB. */
  disk_gb: number;
  size_bytes: number | null;
  sha256: string | null;
  consistency: ImageConsistency | null;
  /** Where its bytes are in the image store. */
  store_key: string;
  /** The action that makes it. */
  operation_id: number | null;
  error_code: string | null;
  created_at: string;
  completed_at: string | null;
  deleted_at: string | null;
  /** A snapshot is paid up to this moment; null: from its completion (migration 0019). */
  billed_until: string | null;
  /** Its bytes are gone from the store; set only on a deleted or failed image (migration 0019). */
  purged_at: string | null;
}

export interface ServerUsageTable {
  server_id: number;
  cpu_percent: number;
  memory_used: number;
  disk_used: number;
  /** Month (YYYY-MM) that bandwidth_bytes counts. */
  period: string;
  /** The month's billable traffic: the larger of its bytes in and out (migration 0026; a sum before). */
  bandwidth_bytes: number;
  /** The month's bytes the server received and sent (migration 0026). */
  bandwidth_in_bytes: Generated<number>;
  bandwidth_out_bytes: Generated<number>;
  last_cpu_ns: number;
  /** The sum of the two counters below (what was kept before migration 0026). */
  last_net_bytes: number;
  /** The machine's counters at the last sample; null: none yet since migration 0026 (the next sample only sets them). */
  last_net_in_bytes: number | null;
  last_net_out_bytes: number | null;
  sampled_at: string;
}

/** A server's samples of one minute (`at`, unix seconds), kept a day; averages are sums over `samples`. */
export interface UsageMinutesTable {
  server_id: number;
  at: number;
  samples: number;
  cpu_sum: number;
  /** MiB. */
  memory_sum: number;
  /** GB. */
  disk_max: number;
  /** Bytes sent and received in the minute. */
  net_bytes: number;
  /** Bytes received and sent in the minute (migration 0026; 0 before). */
  net_in_bytes: Generated<number>;
  net_out_bytes: Generated<number>;
  /** The newest sample folded in (unix ms): one no newer is a repeat and is ignored. */
  last_sample_ms: number;
}

/** A server's minutes of one hour rolled up, kept 31 days. */
export interface UsageHoursTable {
  server_id: number;
  at: number;
  samples: number;
  cpu_sum: number;
  memory_sum: number;
  disk_max: number;
  net_bytes: number;
  net_in_bytes: Generated<number>;
  net_out_bytes: Generated<number>;
}

export interface SimMachinesTable {
  id: string;
  power: string;
  vcpus: number;
  memory_mb: number;
  storage_gb: number;
  boot_count: number;
  started_at: string | null;
  cpu_ns_before: number;
  /** The sum of the two below (what was kept before migration 0026). */
  net_bytes_before: number;
  /** Bytes the machine received and sent before its last boot (migration 0026). */
  net_in_before: Generated<number>;
  net_out_before: Generated<number>;
  created_at: string;
  /**
   * An imported disk's content, base64 (migration 0016); null for any other machine, whose disk is seeded by its
   * id and created_at.
   */
  disk: string | null;
}

export interface IdempotencyKeysTable {
  account_id: number;
  /** The Idempotency-Key's digest, never the key (migration 0011). */
  key: string;
  request_hash: string;
  /** `started` while the first request runs, `done` once its response is stored. */
  state: string;
  status_code: number | null;
  /** Sealed with a key derived from the Idempotency-Key: only its holder's retry can open it. */
  response_body: string | null;
  response_headers: string | null;
  server_id: number | null;
  action_id: number | null;
  created_at: string;
}

export interface RateLimitsTable {
  token_id: number;
  budget: string;
  window_start: string;
  count: number;
}

/** Failed authentications per client address (an IPv6 address by its /64) and window (migration 0012). */
export interface AuthFailuresTable {
  address: string;
  window_start: string;
  count: number;
}

/** Credit given back: what a server was charged, when its create failed for good (migration 0013). */
export interface RefundsTable {
  /** The operation whose failure it answers: at most one refund each. */
  operation_id: number;
  account_id: number;
  server_id: number;
  amount_minor: number;
  reason: "create_failed";
  created_at: string;
}

/** Live servers per account, status and location, kept by triggers on servers (migration 0009). */
export interface ServerCountsTable {
  account_id: number;
  status: StoredServerStatus;
  location_id: number;
  n: number;
}

/** A hypervisor host (migration 0014). Ratios are in thousandths: 4000 is an allocation ratio of 4.0. */
export interface HostsTable {
  id: Generated<number>;
  name: string;
  location_id: number;
  /** What the operator set: enabled, disabled or draining; `down` is seen from last_heartbeat_at. */
  state: string;
  vcpus_total: Generated<number>;
  memory_mb_total: Generated<number>;
  disk_gb_total: Generated<number>;
  vcpus_reserved: Generated<number>;
  memory_mb_reserved: Generated<number>;
  disk_gb_reserved: Generated<number>;
  vcpus_ratio_milli: Generated<number>;
  memory_mb_ratio_milli: Generated<number>;
  disk_gb_ratio_milli: Generated<number>;
  vcpus_allocated: Generated<number>;
  memory_mb_allocated: Generated<number>;
  disk_gb_allocated: Generated<number>;
  server_count: Generated<number>;
  last_heartbeat_at: string | null;
  agent_version: string | null;
  driver: string | null;
  /** JSON array of the image file names the host reported; null: every image. */
  images: string | null;
  /** Where the host's agent serves disks to migrations' targets (migration 0016); null: it serves none. */
  transfer_url: string | null;
  /** Set by a heartbeat that ends a down spell: the host reconciles at its agent's next report. */
  reconcile_requested_at: string | null;
  join_token_hash: string | null;
  join_token_expires_at: string | null;
  join_token_used_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface HostCredentialsTable {
  id: Generated<number>;
  host_id: number;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** What one server holds on its host, so that releasing it frees exactly this. */
export interface HostAllocationsTable {
  server_id: number;
  host_id: number;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  created_at: string;
}

export type MigrationState = "running" | "succeeded" | "failed";

/** A cold migration of a server from one host to another (migration 0016). */
export interface MigrationsTable {
  id: Generated<number>;
  server_id: number;
  source_host_id: number;
  target_host_id: number;
  state: MigrationState;
  /** The server's status when the migration was asked for, where it returns. */
  prior_status: StoredServerStatus;
  /** 1 when the machine ran: it is started on the target (or again on the source if the move fails). */
  was_running: number;
  /** The room claimed on the target. */
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  disk_bytes: number | null;
  /** The disk's sha256, hex, as the source exported it. */
  checksum: string | null;
  /** Digest of the current attempt's single-use transfer token; never the token. */
  transfer_token_hash: string | null;
  transfer_token_used_at: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** The plan a resize waits to give the server once it has moved (its room is the one claimed), else null (migration 0019). */
  resize_plan_id: number | null;
}

export interface AccountInvitationsTable {
  token_hash: string;
  account_id: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface WebSessionsTable {
  /** SHA-256 of the session id the browser's cookie holds. */
  id_hash: string;
  account_id: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string;
}

/** A console ticket (a customer's WebSocket) or grant (the control plane's call to a host agent); see 0020. */
export interface ConsoleTicketsTable {
  token_hash: string;
  kind: "ticket" | "grant";
  server_id: number;
  account_id: number | null;
  host_id: number | null;
  expires_at: string;
  created_at: string;
}

/** One change of an account's balance (migration 0025): never edited; a mistake is corrected by another entry. */
export interface LedgerEntriesTable {
  id: Generated<number>;
  account_id: number;
  kind: LedgerKind;
  /** Signed: credit is positive, a charge negative. */
  amount_minor: number;
  currency: string;
  /** What the entry pays for, unique: a second write of the same key changes nothing. */
  key: string;
  server_id: number | null;
  image_id: number | null;
  plan_id: number | null;
  /** The hour (or other period) the entry pays for. */
  period_start: string | null;
  period_end: string | null;
  description: string;
  /** Who made a top-up or a correction: the admin token, or an operator of the web console. */
  created_by: string | null;
  reason: string | null;
  created_at: string;
}

/** A server's charges in one calendar month (UTC), beside its ledger entries, for the monthly cap (0025). */
export interface ServerMonthsTable {
  server_id: number;
  /** "2030-01" */
  month: string;
  account_id: number;
  /** The highest monthly price of the plans billed in the month. */
  cap_minor: number;
  usage_minor: number;
  /** Hours charged in the month, those recorded at zero past the cap too. */
  hours: number;
  backup_cap_minor: number;
  backup_minor: number;
  /** Bytes of traffic the month's charged hours allow, each its plan's bandwidth / 672 (0028). */
  bandwidth_allowance_bytes: number;
  /** What the month was charged for traffic beyond the allowance so far (0028). */
  bandwidth_minor: number;
}

/** A closed month of an account: stored once on the 1st, never rewritten (0025). */
export interface StatementsTable {
  account_id: number;
  month: string;
  currency: string;
  opening_minor: number;
  total_minor: number;
  closing_minor: number;
  /** JSON: the lines, per server and kind, that add up to total_minor. */
  lines: string;
  closed_at: string;
}

/** An account's webhook endpoint (migration 0027). */
export interface WebhookEndpointsTable {
  id: Generated<number>;
  account_id: number;
  url: string;
  description: string | null;
  /** The event types it takes, each between commas: ",action.finished,balance.low,". */
  events: string;
  /** The signing secret, sealed (domain/webhook-secret.ts). */
  secret_sealed: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: string | null;
  /** Deliveries that failed for good since its last success. */
  failed_deliveries: Generated<number>;
  /** When its attempts began failing; null after a success. */
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

export type WebhookDeliveryStatus = "pending" | "succeeded" | "failed";

/** One event for one endpoint: written with the change it reports, sent by the dispatcher (migration 0027). */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  account_id: number;
  event_type: string;
  /** The event's `data`, JSON. */
  data: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
  /** A redelivery's first delivery of the same message, whose webhook-id it is sent with (migration 0030). */
  redelivery_of: number | null;
  /** A redelivery's payload timestamp: its first delivery's created_at. */
  message_created_at: string | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  /** The start of the response's body, bounded. */
  response_excerpt: string | null;
  error: string | null;
}

export interface Database {
  accounts: AccountsTable;
  api_tokens: ApiTokensTable;
  settings: SettingsTable;
  locations: LocationsTable;
  plans: PlansTable;
  plan_locations: PlanLocationsTable;
  operating_systems: OperatingSystemsTable;
  ssh_keys: SshKeysTable;
  servers: ServersTable;
  ip_addresses: IpAddressesTable;
  address_blocks: AddressBlocksTable;
  operations: OperationsTable;
  server_usage: ServerUsageTable;
  usage_minutes: UsageMinutesTable;
  usage_hours: UsageHoursTable;
  sim_machines: SimMachinesTable;
  idempotency_keys: IdempotencyKeysTable;
  rate_limits: RateLimitsTable;
  auth_failures: AuthFailuresTable;
  server_counts: ServerCountsTable;
  refunds: RefundsTable;
  hosts: HostsTable;
  host_credentials: HostCredentialsTable;
  host_allocations: HostAllocationsTable;
  migrations: MigrationsTable;
  images: ImagesTable;
  account_invitations: AccountInvitationsTable;
  web_sessions: WebSessionsTable;
  console_tickets: ConsoleTicketsTable;
  ledger_entries: LedgerEntriesTable;
  server_months: ServerMonthsTable;
  statements: StatementsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type AccountRow = Selectable<AccountsTable>;
export type PlanRow = Selectable<PlansTable>;
export type LocationRow = Selectable<LocationsTable>;
export type OsRow = Selectable<OperatingSystemsTable>;
export type SshKeyRow = Selectable<SshKeysTable>;
export type ServerRow = Selectable<ServersTable>;
export type OperationRow = Selectable<OperationsTable>;
export type SimMachineRow = Selectable<SimMachinesTable>;
export type ServerUsageRow = Selectable<ServerUsageTable>;
export type UsageMinuteRow = Selectable<UsageMinutesTable>;
export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;
export type HostRow = Selectable<HostsTable>;
export type HostAllocationRow = Selectable<HostAllocationsTable>;
export type MigrationRow = Selectable<MigrationsTable>;
export type ImageRow = Selectable<ImagesTable>;
export type LedgerEntryRow = Selectable<LedgerEntriesTable>;
export type ServerMonthRow = Selectable<ServerMonthsTable>;
export type StatementRow = Selectable<StatementsTable>;
export type WebSessionRow = Selectable<WebSessionsTable>;
export type ConsoleTicketRow = Selectable<ConsoleTicketsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
