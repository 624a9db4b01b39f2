import type { Duplex } from "node:stream";
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

/**
 * Cumulative counters; the control plane turns them into rates. The network's are counted on the host (never
 * asked of the guest, which its customer controls) and go on from where they were across the machine's restarts
 * on this host: one that goes backwards reads as a reset and counts again from zero.
 */
export interface MachineStats {
  cpuTimeNs: number;
  memoryUsedMb: number;
  diskUsedGb: number;
  /** Bytes of the frames the machine received. */
  netInBytes: number;
  /** Bytes of the frames the machine sent. */
  netOutBytes: number;
}

/** Where the guest's SSH server is reached from outside. */
export interface SshEndpoint {
  host: string;
  port: number;
}

export interface DriverCall {
  signal: AbortSignal;
  log: Logger;
  /** How far a long step is, 0 to 1 (a disk copy's block job); the engine shows it on the action. */
  progress?: (fraction: number) => void;
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

/** A stopped machine's disk as a migration copies it: its size, its checksum, and its bytes. */
export interface DiskExport {
  size: number;
  /** sha256 of the bytes, hex. */
  sha256: string;
  /** The bytes, from the start; each call reads them again. */
  read(): AsyncIterable<Uint8Array>;
}

/**
 * A point-in-time copy of a machine's disk, held on its host until released: what a snapshot or backup writes to
 * the image store. A running machine's disk is copied by the hypervisor's own block job, after the guest's
 * filesystems were frozen where its guest agent answers (`filesystem`), else as a power cut would leave it
 * (`crash`); a stopped machine's disk is `filesystem`-consistent.
 */
export interface DiskCapture extends DiskExport {
  consistency: "filesystem" | "crash";
  /** Removes the host's copy (the machine's own disk is untouched); idempotent. */
  release(): Promise<void>;
}

/** A disk arriving for a machine, with the size and checksum its source exported. */
export interface DiskImport {
  size: number;
  sha256: string;
  chunks: AsyncIterable<Uint8Array>;
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
  /** The disk of a stopped machine, to be copied to another host (cold migration). */
  exportDisk(id: string, call: DriverCall): Promise<DiskExport>;
  /**
   * Defines the machine, stopped, from `spec` with the disk that arrives, replacing any copy an earlier attempt
   * left; a disk whose size or checksum differs from what was exported fails (`checksum_mismatch`) and defines nothing.
   * A disk smaller than `spec.storageGb` is grown to it (an image restored onto a larger plan).
   */
  importDisk(spec: MachineSpec, disk: DiskImport, call: DriverCall): Promise<void>;
  /**
   * A point-in-time copy of the machine's disk, running or stopped (snapshots and backups), reporting its progress
   * through `call.progress`; the machine goes on running.
   */
  captureDisk(id: string, call: DriverCall): Promise<DiskCapture>;
  /** Gives a stopped machine `spec`'s vCPUs and memory and grows its disk to `spec.storageGb` (a disk never shrinks). */
  resize(spec: MachineSpec, call: DriverCall): Promise<void>;
  /** Where to reach the machine's SSH server; null when that is simply its own address, port 22. */
  endpoint(id: string, call: DriverCall): Promise<SshEndpoint | null>;
  /**
   * The running machine's serial console as a byte stream both ways: what the guest writes to its first serial
   * port, and what is written to it as typed. Ending the stream leaves the machine as it was. A machine that is
   * not running fails (`machine_not_running`). A driver without consoles leaves it out.
   */
  openConsole?(id: string, call: DriverCall): Promise<Duplex>;
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
