// The only module that reads process.env. Everything else receives a Config.
import { isIP } from "node:net";

import { ConfigError } from "./config-error.ts";
import { type BackupWindow, parseBackupWindow } from "./domain/backup-schedule.ts";
import { MAX_AMOUNT } from "./domain/host-capacity.ts";
import { PLACEMENT_POLICIES, type PlacementPolicy } from "./domain/host-placement.ts";
import { parseMoney } from "./domain/money.ts";
import { type DriverName, defaultDriverName, driverNames } from "./drivers/driver-registry.ts";
import type { QemuConfig } from "./drivers/qemu/qemu-config.ts";
import { DEFAULT_SIM_CAPACITY, type SimCapacity } from "./drivers/sim/sim-driver.ts";
import { imageKeySegments } from "./store/image-key.ts";
import type { ImageStoreSettings } from "./store/image-store-settings.ts";

export type { QemuConfig };
export { ConfigError };

export type Role = "all" | "api" | "worker" | "agent";

export interface Config {
  /** What this process does: serve the API, run the engine (worker, power sync, billing), both, or drive its host as an agent. */
  role: Role;
  /** The agent's: the control plane it drives its host for. */
  controlPlaneUrl: string | undefined;
  /** The agent's: exchanged once, at its first start, for the host credential. */
  joinToken: string | undefined;
  /** The agent's: where it keeps its credential (mode 0600) and its machines' local state. */
  agentStateDir: string;
  /** The agent's: `host:port` where it serves disks to migrations' targets, and advertises as http://host:port. */
  agentTransferAddress: string | undefined;
  port: number;
  host: string;
  /** `postgres://…` or a SQLite file path (`:memory:` for a throwaway database). */
  databaseUrl: string;
  /** One of the drivers in src/drivers/driver-registry.ts. */
  driver: DriverName;
  simDelayMs: number;
  /** Faults for the sim driver, e.g. `create:fail=2,start:fail=always`. */
  simFaults: string;
  /** What the sim driver's hosts report as their capacity. */
  simHostCapacity: SimCapacity;
  /** How creates weigh the hosts that fit: most free memory first (`spread`) or least (`pack`). */
  placement: PlacementPolicy;
  /** Whether roles `all` and `worker` register and heartbeat one host per location for their own driver. */
  embeddedHosts: boolean;
  /** A host not heard from for this long is down: nothing is placed on it. */
  hostDownAfterMs: number;
  /** An operation on a down host's server still waiting this long after it was queued gives up (`host_unavailable`). */
  hostUnavailableAfterMs: number;
  adminToken: string | undefined;
  bootstrapToken: string | undefined;
  bootstrapEmail: string;
  /** Credit of the first account, as a decimal string. */
  bootstrapCredit: string;
  /** A create needs credit for this many hours of the plan's hourly price. */
  minCreditHours: number;
  /** Base of `next`/`previous` links; derived from the request when unset. */
  publicUrl: string | undefined;
  logLevel: string;
  /** `json` lines for machines, or `pretty` lines for a person at a terminal. */
  logFormat: "json" | "pretty";
  workerConcurrency: number;
  leaseMs: number;
  pollMs: number;
  powerSyncMs: number;
  /** How often due hours are charged and accounts out of credit suspended. */
  billingIntervalMs: number;
  maxAttempts: number;
  /** The daily window, UTC, in which each server with backups on is backed up at its own offset. */
  backupWindow: BackupWindow;
  /** How many of a server's backups are kept; older ones are deleted as new ones become available. */
  backupKeep: number;
  /** The backup surcharge: this percent of the plan's hourly price, each hour a server with backups on is billed. */
  backupPricePercent: number;
  /** Snapshot storage, in minor units per GB (2^30 bytes) and month (672 hours). */
  snapshotPriceMinorPerGbMonth: number;
  /** Traffic beyond a server's allowance, in minor units per GB (10^9 bytes); 0 turns it off. */
  bandwidthPriceMinorPerGb: number;
  /** How many snapshots an account may keep (those being made count; failed ones do not). */
  snapshotLimit: number;
  retryBaseMs: number;
  shutdownGraceMs: number;
  bodyLimitBytes: number;
  /** Origins allowed to call the API from a browser; empty means any. */
  corsOrigins: string[];
  /** How long a stop waits for the guest to power off after the ACPI button before stopping it hard. */
  shutdownTimeoutMs: number;
  /** Requests per token and window, reads and writes apart; 0 turns a budget off. */
  rateLimits: { reads: number; writes: number; windowMs: number };
  /** Failed authentications per client address and window before it is refused; 0 turns the limit off. */
  authFailures: { failures: number; windowMs: number };
  /** How long a process trusts an API token it found active without reading it again; 0: every request reads it. */
  tokenCacheMs: number;
  /** The web console: who may sign up, how its cookie is sent, and how long sessions and invitations last. */
  web: WebSettings;
  /** Serial consoles: how many may be open at once per server, and after how long with no byte one is closed. */
  console: { limit: number; idleMs: number };
  /**
   * Which proxies' `X-Forwarded-For` names the client (Fastify's `trustProxy`): none, every one (`true`), or
   * the proxies' addresses and CIDR blocks. With none, the client is the socket's peer.
   */
  trustProxy: boolean | string[];
  qemu: QemuConfig;
  /** Where backups and snapshots live: a directory, or a bucket of an S3-compatible server. */
  imageStore: ImageStoreSettings;
  /** The Bearer token a scrape of `/metrics` must carry; unset: no token is asked (then only an address serves it). */
  metricsToken: string | undefined;
  /** Where `/metrics` is served on a listener of its own, and no longer on the main port. */
  metricsAddress: { host: string; port: number } | undefined;
  webhooks: WebhookSettings;
  /** A charge that takes an account's balance below this (minor units) sends `balance.low`. */
  lowBalanceThresholdMinor: number;
}

export interface WebhookSettings {
  /** CIDR blocks deliveries may reach besides public unicast addresses (e.g. 127.0.0.0/8 on a laptop). */
  allowedNetworks: string[];
  /** How long one attempt may take, connection to the end of the response. */
  timeoutMs: number;
  /** The waits before each retry of a delivery; one attempt more than there are waits, then it has failed. */
  retryScheduleMs: number[];
  /** An endpoint is disabled after this many deliveries in a row failed for good… */
  disableAfterFailures: number;
  /** …or when every attempt has failed for this long. */
  disableAfterMs: number;
  /** Endpoints per account. */
  limit: number;
  /** The operator's key that seals endpoints' signing secrets; unset: one generated and kept in the database. */
  secretKey: string | undefined;
}

export interface WebSettings {
  /** `open`: anyone may create an account at /sign-up; `closed`: accounts come from operators' invitations. */
  signup: "open" | "closed";
  /** Credit of an account made at /sign-up, as a decimal string. */
  signupCredit: string;
  /** Send the session cookie with `Secure` even on a plain-HTTP request (a TLS proxy not named by VPS_TRUST_PROXY). */
  cookieSecure: boolean;
  /** A session unused for this long is signed out. */
  sessionIdleMs: number;
  /** A session ends this long after its sign-in, used or not. */
  sessionMaxMs: number;
  /** How long an invitation link sets a password. */
  invitationTtlMs: number;
  /** Failed sign-ins per account (per email) and VPS_AUTH_FAILURE_WINDOW_MS before it is refused; 0 turns it off. */
  signInFailures: number;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    throw new ConfigError(`${key} must be an integer >= ${min}, got "${raw}"`);
  }
  return Number(raw);
}

function decimal(env: Env, key: string, fallback: string): string {
  const raw = env[key];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+(\.\d{1,2})?$/.test(raw))
    throw new ConfigError(`${key} must be a decimal like 100.00, got "${raw}"`);
  return raw;
}

function backupWindow(env: Env): BackupWindow {
  const raw = optional(env, "VPS_BACKUP_WINDOW") ?? "01:00-05:00";
  const window = parseBackupWindow(raw);
  if (!window)
    throw new ConfigError(`VPS_BACKUP_WINDOW must look like 01:00-05:00 (UTC, not empty), got "${raw}"`);
  return window;
}

function optional(env: Env, key: string): string | undefined {
  const raw = env[key];
  return raw === undefined || raw === "" ? undefined : raw;
}

function choice<T extends string>(
  env: Env,
  key: string,
  allowed: readonly T[],
  fallback: T | undefined,
): T | undefined {
  const raw = optional(env, key);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T))
    throw new ConfigError(`${key} must be one of ${allowed.join(", ")}, got "${raw}"`);
  return raw as T;
}

function list(env: Env, key: string): string[] {
  return (env[key] ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function cidrs(env: Env, key: string): string[] {
  const blocks = list(env, key);
  for (const block of blocks) {
    const [ip = "", prefix = ""] = block.split("/");
    const max = isIP(ip) === 4 ? 32 : 128;
    if (isIP(ip) === 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
      throw new ConfigError(`${key} must be comma-separated CIDR blocks such as 127.0.0.0/8, got "${block}"`);
    }
  }
  return blocks;
}

function delays(env: Env, key: string, fallback: number[]): number[] {
  const raw = list(env, key);
  if (raw.length === 0) return fallback;
  if (!raw.every((d) => /^\d+$/.test(d))) {
    throw new ConfigError(
      `${key} must be comma-separated milliseconds such as 5000,30000, got "${env[key]}"`,
    );
  }
  return raw.map(Number);
}

function webhooks(env: Env): WebhookSettings {
  return {
    allowedNetworks: cidrs(env, "VPS_WEBHOOK_ALLOWED_NETWORKS"),
    timeoutMs: integer(env, "VPS_WEBHOOK_TIMEOUT_MS", 10_000, 100),
    // 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h: nine attempts over about a day.
    retryScheduleMs: delays(
      env,
      "VPS_WEBHOOK_RETRY_SCHEDULE_MS",
      [5_000, 30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000],
    ),
    disableAfterFailures: integer(env, "VPS_WEBHOOK_DISABLE_AFTER_FAILURES", 10, 1),
    disableAfterMs: integer(env, "VPS_WEBHOOK_DISABLE_AFTER_MS", 5 * 24 * 3600_000, 1000),
    limit: integer(env, "VPS_WEBHOOK_LIMIT", 10, 1),
    secretKey: optional(env, "VPS_WEBHOOK_SECRET_KEY"),
  };
}

function trustProxy(env: Env): boolean | string[] {
  const raw = optional(env, "VPS_TRUST_PROXY");
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  const proxies = list(env, "VPS_TRUST_PROXY");
  for (const proxy of proxies) {
    const [ip = "", prefix] = proxy.split("/");
    if (isIP(ip) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) {
      throw new ConfigError(
        `VPS_TRUST_PROXY must be true, false or comma-separated addresses and CIDR blocks, got "${raw}"`,
      );
    }
  }
  return proxies;
}

const SIM_CAPACITY_KEYS = { vcpus: "vcpus", memory: "memoryMb", disk: "diskGb" } as const;

/** `vcpus=512,memory=2097152,disk=100000` (memory in MB, disk in GB); a key left out keeps its default. */
function simHostCapacity(env: Env): SimCapacity {
  const raw = optional(env, "VPS_SIM_HOST_CAPACITY");
  const capacity = { ...DEFAULT_SIM_CAPACITY };
  if (raw === undefined) return capacity;
  const bounds = { vcpus: MAX_AMOUNT.vcpus, memoryMb: MAX_AMOUNT.memory_mb, diskGb: MAX_AMOUNT.disk_gb };
  for (const part of raw.split(",")) {
    const [key = "", value = ""] = part.trim().split("=");
    const field = SIM_CAPACITY_KEYS[key as keyof typeof SIM_CAPACITY_KEYS];
    if (field === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > bounds[field]) {
      throw new ConfigError(
        `VPS_SIM_HOST_CAPACITY must look like vcpus=512,memory=2097152,disk=100000 (memory in MB, disk in GB), got "${raw}"`,
      );
    }
    capacity[field] = Number(value);
  }
  return capacity;
}

function loadQemuConfig(env: Env): QemuConfig {
  return {
    vmDir: optional(env, "VPS_QEMU_DIR") ?? "data/vms",
    imageDir: optional(env, "VPS_QEMU_IMAGE_DIR") ?? "data/images",
    binary: optional(env, "VPS_QEMU_BINARY") ?? "qemu-system-x86_64",
    img: optional(env, "VPS_QEMU_IMG") ?? "qemu-img",
    isoTool: optional(env, "VPS_QEMU_ISO_TOOL") ?? "genisoimage",
    accel: choice(env, "VPS_QEMU_ACCEL", ["kvm", "tcg"] as const, undefined),
    network: choice(env, "VPS_QEMU_NETWORK", ["user", "bridge"] as const, "user") ?? "user",
    hostfwdAddress: optional(env, "VPS_QEMU_HOSTFWD_ADDRESS") ?? "127.0.0.1",
    bridge: optional(env, "VPS_QEMU_BRIDGE") ?? "br0",
    ipv4Prefix: integer(env, "VPS_QEMU_IPV4_PREFIX", 24, 1),
    ipv4Gateway: optional(env, "VPS_QEMU_IPV4_GATEWAY"),
    ipv6Prefix: integer(env, "VPS_QEMU_IPV6_PREFIX", 64, 1),
    ipv6Gateway: optional(env, "VPS_QEMU_IPV6_GATEWAY"),
    nameservers: list(env, "VPS_QEMU_NAMESERVERS"),
  };
}

/** `VPS_IMAGE_STORE`: a directory, or `s3://bucket/prefix` with the `VPS_S3_*` settings. */
function imageStore(env: Env): ImageStoreSettings {
  const raw = optional(env, "VPS_IMAGE_STORE") ?? "data/image-store";
  if (!raw.includes("://")) return { kind: "directory", root: raw };
  const url = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(raw);
  const bucket = url?.[1] ?? "";
  const prefix = (url?.[2] ?? "").replace(/\/+$/, "");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || (prefix !== "" && !validPrefix(prefix))) {
    throw new ConfigError(
      `VPS_IMAGE_STORE must be a directory or s3://bucket/optional/prefix (a bucket of 3 to 63 lowercase letters, digits, '.' and '-'; the prefix's names of letters, digits, '.', '_' and '-'), got "${raw}"`,
    );
  }
  const endpoint = optional(env, "VPS_S3_ENDPOINT")?.replace(/\/+$/, "");
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+$/.test(endpoint)) {
    throw new ConfigError(`VPS_S3_ENDPOINT must look like http://127.0.0.1:9000, got "${endpoint}"`);
  }
  const accessKeyId = optional(env, "VPS_S3_ACCESS_KEY_ID");
  const secretAccessKey = optional(env, "VPS_S3_SECRET_ACCESS_KEY");
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    // The secret itself is never shown.
    throw new ConfigError(
      "VPS_IMAGE_STORE=s3://… needs VPS_S3_ACCESS_KEY_ID and VPS_S3_SECRET_ACCESS_KEY, the bucket's credentials",
    );
  }
  const region = optional(env, "VPS_S3_REGION") ?? "us-east-1";
  if (!/^[a-z0-9-]{1,32}$/.test(region)) {
    throw new ConfigError(`VPS_S3_REGION must look like us-east-1, got "${region}"`);
  }
  return {
    kind: "s3",
    bucket,
    prefix: prefix === "" ? "" : `${prefix}/`,
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
  };
}

/** `VPS_METRICS_ADDRESS`: `host:port` or `[v6]:port`, e.g. 127.0.0.1:9464 (port 0: any free port). */
function metricsAddress(env: Env): { host: string; port: number } | undefined {
  const raw = optional(env, "VPS_METRICS_ADDRESS");
  if (raw === undefined) return undefined;
  const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match?.[1] || port > 65_535) {
    throw new ConfigError(`VPS_METRICS_ADDRESS must be host:port, such as 127.0.0.1:9464, got "${raw}"`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, "$1"), port };
}

function validPrefix(prefix: string): boolean {
  try {
    imageKeySegments(prefix);
    return true;
  } catch {
    return false;
  }
}

/** `stdoutIsTty` picks the log format when LOG_FORMAT is unset: readable at a terminal, JSON anywhere else. */
export function loadConfig(env: Env = process.env, stdoutIsTty = process.stdout.isTTY === true): Config {
  const driver = choice(env, "VPS_DRIVER", driverNames, defaultDriverName) ?? defaultDriverName;
  const publicUrl = optional(env, "VPS_PUBLIC_URL")?.replace(/\/+$/, "");
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+$/.test(publicUrl)) {
    throw new ConfigError(`VPS_PUBLIC_URL must look like https://api.example.com, got "${publicUrl}"`);
  }
  for (const key of ["VPS_ADMIN_TOKEN", "VPS_BOOTSTRAP_TOKEN", "VPS_METRICS_TOKEN"]) {
    const token = optional(env, key);
    if (token !== undefined && !/^[\x21-\x7e]{16,256}$/.test(token)) {
      throw new ConfigError(`${key} must be 16 to 256 printable characters without spaces`);
    }
  }
  const role = choice(env, "VPS_ROLE", ["all", "api", "worker", "agent"] as const, "all") ?? "all";
  const controlPlaneUrl = optional(env, "VPS_CONTROL_PLANE_URL")?.replace(/\/+$/, "");
  if (controlPlaneUrl !== undefined && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(controlPlaneUrl)) {
    throw new ConfigError(
      `VPS_CONTROL_PLANE_URL must look like https://api.example.com, got "${controlPlaneUrl}"`,
    );
  }
  const agentTransferAddress = optional(env, "VPS_AGENT_TRANSFER_ADDRESS");
  if (
    agentTransferAddress !== undefined &&
    !/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(agentTransferAddress)
  ) {
    throw new ConfigError(
      `VPS_AGENT_TRANSFER_ADDRESS must be host:port, such as 10.0.0.5:9443, got "${agentTransferAddress}"`,
    );
  }
  if (role === "agent" && controlPlaneUrl === undefined) {
    throw new ConfigError("VPS_ROLE=agent needs VPS_CONTROL_PLANE_URL, the control plane's URL");
  }
  return {
    role,
    controlPlaneUrl,
    joinToken: optional(env, "VPS_JOIN_TOKEN"),
    agentStateDir: optional(env, "VPS_AGENT_STATE_DIR") ?? "data/agent",
    agentTransferAddress,
    port: integer(env, "PORT", 8080),
    host: env.HOST ?? "127.0.0.1",
    databaseUrl: optional(env, "DATABASE_URL") ?? "data/vps.db",
    driver,
    simDelayMs: integer(env, "VPS_SIM_DELAY_MS", 3000),
    simFaults: env.VPS_SIM_FAULTS ?? "",
    simHostCapacity: simHostCapacity(env),
    placement: choice(env, "VPS_PLACEMENT", PLACEMENT_POLICIES, "spread") ?? "spread",
    embeddedHosts: (choice(env, "VPS_EMBEDDED_HOSTS", ["on", "off"] as const, "on") ?? "on") === "on",
    hostDownAfterMs: integer(env, "VPS_HOST_DOWN_AFTER_MS", 30_000, 1000),
    hostUnavailableAfterMs: integer(env, "VPS_HOST_UNAVAILABLE_AFTER_MS", 300_000, 1000),
    adminToken: optional(env, "VPS_ADMIN_TOKEN"),
    bootstrapToken: optional(env, "VPS_BOOTSTRAP_TOKEN"),
    bootstrapEmail: optional(env, "VPS_BOOTSTRAP_EMAIL") ?? "owner@localhost",
    bootstrapCredit: decimal(env, "VPS_BOOTSTRAP_CREDIT", "100.00"),
    minCreditHours: integer(env, "VPS_MIN_CREDIT_HOURS", 1),
    publicUrl,
    logLevel: env.LOG_LEVEL ?? "info",
    logFormat:
      choice(env, "LOG_FORMAT", ["json", "pretty"] as const, undefined) ?? (stdoutIsTty ? "pretty" : "json"),
    workerConcurrency: integer(env, "VPS_WORKER_CONCURRENCY", 16, 1),
    leaseMs: integer(env, "VPS_LEASE_MS", 30_000, 1000),
    pollMs: integer(env, "VPS_POLL_MS", 5000, 10),
    powerSyncMs: integer(env, "VPS_POWER_SYNC_MS", 15_000, 10),
    billingIntervalMs: integer(env, "VPS_BILLING_INTERVAL_MS", 60_000, 10),
    maxAttempts: integer(env, "VPS_MAX_ATTEMPTS", 5, 1),
    backupWindow: backupWindow(env),
    backupKeep: integer(env, "VPS_BACKUP_KEEP", 7, 1),
    backupPricePercent: integer(env, "VPS_BACKUP_PRICE_PERCENT", 20),
    snapshotPriceMinorPerGbMonth: parseMoney(decimal(env, "VPS_SNAPSHOT_PRICE_GB_MONTH", "0.01")) ?? 0,
    bandwidthPriceMinorPerGb: parseMoney(decimal(env, "VPS_BANDWIDTH_PRICE_GB", "0.01")) ?? 0,
    snapshotLimit: integer(env, "VPS_SNAPSHOT_LIMIT", 50, 0),
    retryBaseMs: integer(env, "VPS_RETRY_BASE_MS", 1000, 1),
    shutdownGraceMs: integer(env, "VPS_SHUTDOWN_GRACE_MS", 10_000),
    bodyLimitBytes: integer(env, "VPS_BODY_LIMIT_BYTES", 64 * 1024, 1024),
    corsOrigins: list(env, "VPS_CORS_ORIGINS"),
    shutdownTimeoutMs: integer(env, "VPS_SHUTDOWN_TIMEOUT_MS", 60_000, 0),
    rateLimits: {
      reads: integer(env, "VPS_RATE_LIMIT_READS", 1200),
      writes: integer(env, "VPS_RATE_LIMIT_WRITES", 300),
      windowMs: integer(env, "VPS_RATE_LIMIT_WINDOW_MS", 60_000, 1000),
    },
    authFailures: {
      failures: integer(env, "VPS_AUTH_FAILURE_LIMIT", 20),
      windowMs: integer(env, "VPS_AUTH_FAILURE_WINDOW_MS", 60_000, 1000),
    },
    tokenCacheMs: integer(env, "VPS_TOKEN_CACHE_MS", 5000, 0),
    web: {
      signup: choice(env, "VPS_SIGNUP", ["open", "closed"] as const, "closed") ?? "closed",
      signupCredit: decimal(env, "VPS_SIGNUP_CREDIT", "0.00"),
      cookieSecure: (choice(env, "VPS_COOKIE_SECURE", ["0", "1"] as const, "0") ?? "0") === "1",
      sessionIdleMs: integer(env, "VPS_SESSION_IDLE_MS", 24 * 3600_000, 60_000),
      sessionMaxMs: integer(env, "VPS_SESSION_MAX_MS", 30 * 24 * 3600_000, 60_000),
      invitationTtlMs: integer(env, "VPS_INVITATION_TTL_MS", 72 * 3600_000, 60_000),
      signInFailures: integer(env, "VPS_SIGNIN_FAILURE_LIMIT", 5),
    },
    console: {
      limit: integer(env, "VPS_CONSOLE_LIMIT", 2, 1),
      idleMs: integer(env, "VPS_CONSOLE_IDLE_MS", 15 * 60_000, 1000),
    },
    trustProxy: trustProxy(env),
    qemu: loadQemuConfig(env),
    imageStore: imageStore(env),
    metricsToken: optional(env, "VPS_METRICS_TOKEN"),
    metricsAddress: metricsAddress(env),
    webhooks: webhooks(env),
    lowBalanceThresholdMinor: parseMoney(decimal(env, "VPS_LOW_BALANCE_THRESHOLD", "5.00")) ?? 0,
  };
}
