import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimMachineRow } from "../../db/schema.ts";
import { type Clock, isoAt } from "../../domain/clock.ts";
import {
  type Driver,
  type DriverCall,
  DriverError,
  type DriverInventory,
  type MachineSpec,
  type MachineStats,
  type PowerState,
  type ProbeResult,
} from "../driver.ts";
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
    if (await this.#machines.find(spec.id)) return;
    await this.#transition(call);
    await this.#machines.insertIfAbsent({
      id: spec.id,
      power: "stopped",
      vcpus: spec.vcpus,
      memory_mb: spec.memoryMb,
      storage_gb: spec.storageGb,
      boot_count: 0,
      started_at: null,
      cpu_ns_before: 0,
      net_bytes_before: 0,
      created_at: isoAt(this.#clock),
    });
  }

  async start(id: string, call: DriverCall): Promise<void> {
    this.faults.check("start");
    const machine = await this.#require(id);
    if (machine.power === "running") return;
    await this.#transition(call);
    await this.#machines.update(id, {
      power: "running",
      started_at: isoAt(this.#clock),
      boot_count: machine.boot_count + 1,
    });
  }

  async shutdown(id: string, _options: { timeoutMs: number }, call: DriverCall): Promise<void> {
    this.faults.check("shutdown");
    const machine = await this.#require(id);
    if (machine.power !== "running") return;
    await this.#transition(call);
    await this.#powerOff(machine);
  }

  async stop(id: string): Promise<void> {
    this.faults.check("stop");
    const machine = await this.#require(id);
    if (machine.power === "running") await this.#powerOff(machine);
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
      cpu_ns_before: counters.cpuTimeNs,
      net_bytes_before: counters.netBytes,
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
    const counters = this.#counters(machine);
    return {
      ...counters,
      memoryUsedMb: Math.round(machine.memory_mb * (0.2 + 0.6 * load)),
      diskUsedGb: Math.max(1, Math.round(machine.storage_gb * (0.1 + 0.4 * load))),
    };
  }

  async endpoint(): Promise<null> {
    return null;
  }

  async list(): Promise<string[]> {
    return (await this.#machines.list()).map((m) => m.id);
  }

  /** Cumulative CPU time and network bytes, grown at the machine's steady load since it last booted. */
  #counters(machine: SimMachineRow): { cpuTimeNs: number; netBytes: number } {
    const load = loadOf(machine.id);
    const upMs = machine.started_at
      ? Math.max(0, this.#clock.now().getTime() - Date.parse(machine.started_at))
      : 0;
    return {
      cpuTimeNs: Number(machine.cpu_ns_before) + Math.round(upMs * 1e6 * machine.vcpus * load),
      netBytes: Number(machine.net_bytes_before) + Math.round(upMs * load * 4000),
    };
  }

  async #powerOff(machine: SimMachineRow): Promise<void> {
    const counters = this.#counters(machine);
    await this.#machines.update(machine.id, {
      power: "stopped",
      started_at: null,
      cpu_ns_before: counters.cpuTimeNs,
      net_bytes_before: counters.netBytes,
    });
  }

  async #require(id: string): Promise<SimMachineRow> {
    const machine = await this.#machines.find(id);
    if (!machine) throw new DriverError("machine_missing", `machine ${id} does not exist`, true);
    return machine;
  }

  async #transition(call: DriverCall): Promise<void> {
    if (this.#delayMs > 0) await sleep(this.#delayMs, undefined, { signal: call.signal });
    call.signal.throwIfAborted();
  }
}

/** A steady load between 5% and 65%, different for each machine and the same on every call. */
function loadOf(id: string): number {
  const byte = createHash("sha256").update(id).digest()[0] ?? 0;
  return 0.05 + (byte / 255) * 0.6;
}
