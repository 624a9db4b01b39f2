import type { Logger } from "pino";

// The one interface every hypervisor driver implements. Every method is idempotent: start on a running
// machine succeeds, destroy of a missing machine succeeds, so the engine can retry any step after a crash.

export type PowerState = "running" | "stopped" | "missing";

export interface MachineSpec {
  /** The server id as text; the driver's name for the machine. */
  id: string;
  hostname: string;
  vcpus: number;
  memoryMb: number;
  storageGb: number;
  /** The OS's base image. */
  image: string;
  sshPublicKey: string | null;
  ipv4: string | null;
  ipv6: string | null;
}

/** Cumulative counters; the control plane turns them into rates. */
export interface MachineStats {
  cpuTimeNs: number;
  memoryUsedMb: number;
  diskUsedGb: number;
  netBytes: number;
}

/** Where the guest's SSH server is reached from outside. */
export interface SshEndpoint {
  host: string;
  port: number;
}

export interface DriverCall {
  signal: AbortSignal;
  log: Logger;
}

/** What a host can hold, as its driver sees it: the totals placement claims against, and its images. */
export interface DriverInventory {
  vcpus: number;
  memoryMb: number;
  /** Whole GiB of disk where the machines' disks live. */
  diskGb: number;
  /** The OS images (file names) the host has; null: every image. */
  images: string[] | null;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

export interface Driver {
  readonly name: string;
  probe(call: DriverCall): Promise<ProbeResult>;
  /** The host's capacity and images, reported at every heartbeat. */
  inventory(call: DriverCall): Promise<DriverInventory>;
  create(spec: MachineSpec, call: DriverCall): Promise<void>;
  start(id: string, call: DriverCall): Promise<void>;
  /** Graceful power-off (ACPI); a hard stop once `timeoutMs` has passed. */
  shutdown(id: string, options: { timeoutMs: number }, call: DriverCall): Promise<void>;
  /** Hard power-off. */
  stop(id: string, call: DriverCall): Promise<void>;
  reboot(id: string, options: { hard: boolean }, call: DriverCall): Promise<void>;
  destroy(id: string, call: DriverCall): Promise<void>;
  /** The observed power state. */
  info(id: string, call: DriverCall): Promise<PowerState>;
  /** Counters of a running machine; null when it is not running. */
  stats(id: string, call: DriverCall): Promise<MachineStats | null>;
  list(call: DriverCall): Promise<string[]>;
  /** Where to reach the machine's SSH server; null when that is simply its own address, port 22. */
  endpoint(id: string, call: DriverCall): Promise<SshEndpoint | null>;
}

/** A failed driver step. Transient ones are retried with backoff; permanent ones end the server in `error`. */
export class DriverError extends Error {
  readonly code: string;
  readonly permanent: boolean;
  constructor(code: string, message: string, permanent = false) {
    super(message);
    this.code = code;
    this.permanent = permanent;
  }
}
