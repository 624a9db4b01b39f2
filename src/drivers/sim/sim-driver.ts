import { createCipheriv, createHash } from "node:crypto";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimMachineRow } from "../../db/schema.ts";
import { type Clock, isoAt } from "../../domain/clock.ts";
import {
  type DiskCapture,
  type DiskExport,
  type DiskImport,
  type Driver,
  type DriverCall,
  DriverError,
  type DriverInventory,
  type MachineSpec,
  type MachineStats,
  type PowerState,
  type ProbeResult,
} from "../driver.ts";
import { SimConsole } from "./sim-console.ts";
import { SimFaults } from "./sim-faults.ts";
import type { SimMachineStore } from "./sim-machine-store.ts";

export interface SimDriverOptions {
  machines: SimMachineStore;
  clock: Clock;
  /** How long each transition takes. */
  delayMs: number;
  faults?: SimFaults;
  /** The capacity the simulated host reports (VPS_SIM_HOST_CAPACITY). */
  capacity?: SimCapacity;
}

export type SimCapacity = Pick<DriverInventory, "vcpus" | "memoryMb" | "diskGb">;

/** Large, so that hundreds of servers fit on a laptop's simulated host. */
export const DEFAULT_SIM_CAPACITY: SimCapacity = { vcpus: 512, memoryMb: 2_097_152, diskGb: 100_000 };

/**
 * A simulated hypervisor. Machines live in the database so that, like real VMs, they outlive the control
 * plane process; every transition takes `delayMs`; faults can be injected; usage is plausible and bounded
 * by the plan, with a steady per-machine load derived from its id.
 */
export class SimDriver implements Driver {
  readonly name = "sim";
  readonly faults: SimFaults;
  readonly #machines: SimMachineStore;
  readonly #clock: Clock;
  readonly #delayMs: number;
  readonly #capacity: SimCapacity;

  constructor(options: SimDriverOptions) {
    this.#machines = options.machines;
    this.#clock = options.clock;
    this.#delayMs = options.delayMs;
    this.faults = options.faults ?? new SimFaults();
    this.#capacity = options.capacity ?? DEFAULT_SIM_CAPACITY;
  }

  /** The configured capacity, and every image: a simulated machine boots from any. */
  async inventory(): Promise<DriverInventory> {
    return { ...this.#capacity, images: null };
  }

  async probe(): Promise<ProbeResult> {
    return { ok: true, detail: `simulated hypervisor, transitions take ${this.#delayMs} ms` };
  }

  async create(spec: MachineSpec, call: DriverCall): Promise<void> {
    this.faults.check("create");
    // Only a transition is worth a look first: the insert leaves a machine that exists as it is.
    if (this.#delayMs > 0 && (await this.#machines.find(spec.id))) return;
    await this.#transition(call);
    // No disk is stored: a new machine's is its seeded one (see #copyOfDisk), 87 KB less in each insert.
    await this.#machines.insertIfAbsent(this.#newMachine(spec, null));
  }

  async exportDisk(id: string, call: DriverCall): Promise<DiskExport> {
    this.faults.check("export");
    const machine = await this.#require(id);
    if (machine.power === "running") {
      throw new DriverError("machine_running", `machine ${id} runs; stop it before its disk is copied`);
    }
    return this.#copyOfDisk(machine, call);
  }

  /** The disk as it is now, running or not: a simulated machine's writes are atomic, so every copy is whole. */
  async captureDisk(id: string, call: DriverCall): Promise<DiskCapture> {
    this.faults.check("capture");
    const machine = await this.#require(id);
    call.progress?.(0);
    const copy = await this.#copyOfDisk(machine, call);
    call.progress?.(1);
    return {
      ...copy,
      consistency: machine.power === "running" ? "crash" : "filesystem",
      release: async () => {},
    };
  }

  async resize(spec: MachineSpec, call: DriverCall): Promise<void> {
    this.faults.check("resize");
    const machine = await this.#require(spec.id);
    if (machine.power === "running") {
      throw new DriverError("machine_running", `machine ${spec.id} runs; stop it before it is resized`);
    }
    await this.#transition(call);
    await this.#machines.update(spec.id, {
      vcpus: spec.vcpus,
      memory_mb: spec.memoryMb,
      storage_gb: Math.max(machine.storage_gb, spec.storageGb),
    });
  }

  async #copyOfDisk(machine: SimMachineRow, call: DriverCall): Promise<DiskExport> {
    const bytes = simDiskOf(machine);
    await this.#transition(call);
    return {
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      async *read() {
        for (let at = 0; at < bytes.length; at += DISK_CHUNK) yield bytes.subarray(at, at + DISK_CHUNK);
      },
    };
  }

  async importDisk(spec: MachineSpec, disk: DiskImport, call: DriverCall): Promise<void> {
    this.faults.check("import");
    const parts: Buffer[] = [];
    for await (const chunk of disk.chunks) {
      call.signal.throwIfAborted();
      parts.push(Buffer.from(chunk));
    }
    const bytes = Buffer.concat(parts);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (bytes.length !== disk.size || sha256 !== disk.sha256) {
      throw new DriverError(
        "checksum_mismatch",
        `the disk of machine ${spec.id} arrived with ${bytes.length} bytes and sha256 ${sha256}, not ${disk.size} and ${disk.sha256}`,
      );
    }
    await this.#transition(call);
    // A copy an earlier attempt left is replaced.
    await this.#machines.delete(spec.id);
    await this.#machines.insertIfAbsent(this.#newMachine(spec, bytes));
  }

  async start(id: string, call: DriverCall): Promise<void> {
    this.faults.check("start");
    // A running machine takes no transition; with none to wait, the one conditional UPDATE is the check.
    if (this.#delayMs > 0 && (await this.#require(id)).power === "running") return;
    await this.#transition(call);
    // Nothing started: the machine runs already, or it is missing.
    if (!(await this.#machines.startIfStopped(id, isoAt(this.#clock)))) await this.#require(id);
  }

  async shutdown(id: string, _options: { timeoutMs: number }, call: DriverCall): Promise<void> {
    this.faults.check("shutdown");
    // A stopped machine takes no transition; with none to wait, the one conditional UPDATE is the check.
    if (this.#delayMs > 0 && (await this.#require(id)).power !== "running") return;
    await this.#transition(call);
    await this.#powerOff(id);
  }

  async stop(id: string): Promise<void> {
    this.faults.check("stop");
    await this.#powerOff(id);
  }

  async reboot(id: string, _options: { hard: boolean }, call: DriverCall): Promise<void> {
    this.faults.check("reboot");
    const machine = await this.#require(id);
    await this.#transition(call);
    const counters = this.#counters(machine);
    await this.#machines.update(id, {
      power: "running",
      started_at: isoAt(this.#clock),
      boot_count: machine.boot_count + 1,
      ...counters.before,
    });
  }

  async destroy(id: string, call: DriverCall): Promise<void> {
    this.faults.check("destroy");
    if (!(await this.#machines.find(id))) return;
    await this.#transition(call);
    await this.#machines.delete(id);
  }

  async info(id: string): Promise<PowerState> {
    const machine = await this.#machines.find(id);
    if (!machine) return "missing";
    return machine.power === "running" ? "running" : "stopped";
  }

  async stats(id: string): Promise<MachineStats | null> {
    const machine = await this.#machines.find(id);
    if (machine?.power !== "running") return null;
    const load = loadOf(id);
    const { before: _, ...counters } = this.#counters(machine);
    return {
      ...counters,
      memoryUsedMb: Math.round(machine.memory_mb * (0.2 + 0.6 * load)),
      diskUsedGb: Math.max(1, Math.round(machine.storage_gb * (0.1 + 0.4 * load))),
    };
  }

  async endpoint(): Promise<null> {
    return null;
  }

  /** A simulated getty on the machine's serial port (sim-console.ts). */
  async openConsole(id: string): Promise<Duplex> {
    const machine = await this.#require(id);
    if (machine.power !== "running") {
      throw new DriverError("machine_not_running", `machine ${id} is not running`, true);
    }
    return new SimConsole(`sim-${id}`);
  }

  async list(): Promise<string[]> {
    return (await this.#machines.list()).map((m) => m.id);
  }

  /**
   * Cumulative CPU time and network bytes, grown at the machine's steady load since it last booted (it sends four
   * times what it receives, like a web server), and the columns that carry them over a reboot or power-off.
   */
  #counters(machine: SimMachineRow): {
    cpuTimeNs: number;
    netInBytes: number;
    netOutBytes: number;
    before: Pick<SimMachineRow, "cpu_ns_before" | "net_in_before" | "net_out_before" | "net_bytes_before">;
  } {
    const load = loadOf(machine.id);
    const upMs = machine.started_at
      ? Math.max(0, this.#clock.now().getTime() - Date.parse(machine.started_at))
      : 0;
    const cpuTimeNs = Number(machine.cpu_ns_before) + Math.round(upMs * 1e6 * machine.vcpus * load);
    const netInBytes = Number(machine.net_in_before) + Math.round(upMs * load * 1000);
    const netOutBytes = Number(machine.net_out_before) + Math.round(upMs * load * 4000);
    return {
      cpuTimeNs,
      netInBytes,
      netOutBytes,
      before: {
        cpu_ns_before: cpuTimeNs,
        net_in_before: netInBytes,
        net_out_before: netOutBytes,
        net_bytes_before: netInBytes + netOutBytes,
      },
    };
  }

  /** Powers the machine off, its counters carried over as `#counters` computes them; nothing if it is stopped. */
  async #powerOff(id: string): Promise<void> {
    // Nothing stopped: the machine is stopped already, or it is missing.
    if (!(await this.#machines.stopIfRunning(id, isoAt(this.#clock), loadOf(id)))) await this.#require(id);
  }

  async #require(id: string): Promise<SimMachineRow> {
    const machine = await this.#machines.find(id);
    if (!machine) throw new DriverError("machine_missing", `machine ${id} does not exist`, true);
    return machine;
  }

  /** A defined machine, stopped and never booted, with this disk (null: its seeded one). */
  #newMachine(spec: MachineSpec, disk: Buffer | null): SimMachineRow {
    return {
      id: spec.id,
      power: "stopped",
      vcpus: spec.vcpus,
      memory_mb: spec.memoryMb,
      storage_gb: spec.storageGb,
      boot_count: 0,
      started_at: null,
      cpu_ns_before: 0,
      net_bytes_before: 0,
      net_in_before: 0,
      net_out_before: 0,
      created_at: isoAt(this.#clock),
      disk: disk?.toString("base64") ?? null,
    };
  }

  async #transition(call: DriverCall): Promise<void> {
    if (this.#delayMs > 0) await sleep(this.#delayMs, undefined, { signal: call.signal });
    call.signal.throwIfAborted();
  }
}

/** The size of a simulated disk, and of the pieces it is read in. */
const DISK_BYTES = 64 * 1024;
const DISK_CHUNK = 16 * 1024;

/**
 * A simulated disk's content: pseudo-random bytes seeded by the machine and its creation, unlike any other's: an
 * AES-CTR keystream under the seed's sha256 (one native call; a sha256 per 32 bytes took a quarter of the
 * service's CPU under a load of creates).
 */
function seededDisk(id: string, createdAt: string): Buffer {
  const key = createHash("sha256").update(`${id}:${createdAt}`).digest();
  return createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(DISK_BYTES));
}

/**
 * A machine's disk: the one imported into it (the only kind stored), else the one seeded by its id and creation,
 * made again on each read, the same bytes each time.
 */
export function simDiskOf(machine: Pick<SimMachineRow, "id" | "created_at" | "disk">): Buffer {
  return machine.disk === null
    ? seededDisk(machine.id, machine.created_at)
    : Buffer.from(machine.disk, "base64");
}

/** A steady load between 5% and 65%, different for each machine and the same on every call. */
function loadOf(id: string): number {
  const byte = createHash("sha256").update(id).digest()[0] ?? 0;
  return 0.05 + (byte / 255) * 0.6;
}
