import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { readdir, rename, rm, statfs } from "node:fs/promises";
import { createConnection } from "node:net";
import { availableParallelism, totalmem } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
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
  type SshEndpoint,
} from "../driver.ts";
import { type Accel, chooseAccel } from "./accel-probe.ts";
import { renderSeed, writeSeedIso } from "./cloud-init-seed.ts";
import { DISK_CHUNK, DiskCapturer, sha256Of } from "./disk-capture.ts";
import { guestAgentFreezer } from "./guest-agent-freezer.ts";
import type { GuestFreezer } from "./guest-freezer.ts";
import { HostNetwork, type QemuNetwork } from "./host-network.ts";
import { macFor, qemuArgs } from "./qemu-cmdline.ts";
import { QmpClient } from "./qmp-client.ts";
import { runTool } from "./run-tool.ts";
import { TrafficMeter } from "./traffic-meter.ts";
import { VmDirectory, type VmRecord } from "./vm-directory.ts";
import { isVmProcess, processUsage } from "./vm-process.ts";

export interface QemuDriverOptions {
  /** Where each VM keeps its disk overlay, seed, sockets, pidfile, console log and vm.json. */
  vmDir: string;
  /** Where the OS base images are; an OS's `image` is a file name in it. */
  imageDir: string;
  qemuBinary: string;
  qemuImg: string;
  isoTool: string;
  /** VPS_QEMU_ACCEL; undefined means probe. */
  accel: Accel | undefined;
  network: QemuNetwork;
  /** How often a graceful shutdown presses the ACPI power button again. */
  powerButtonEveryMs?: number;
  /** How long a reboot waits for the guest to restart by itself before resetting it. */
  rebootTimeoutMs?: number;
  /** Freezes a guest's filesystems for a disk copy; by default its qemu-guest-agent on `qga.sock`. */
  freezer?: GuestFreezer;
  /** How long a freeze may take before the copy goes on without it. */
  freezeTimeoutMs?: number;
  /** How often a disk copy's block job is asked how far it is. */
  backupPollMs?: number;
}

/**
 * Real virtual machines with qemu-system-x86_64: a qcow2 overlay on the OS's base image, a cloud-init
 * NoCloud seed, a QMP socket, daemonised so VMs outlive the control plane. Everything the driver knows
 * about a VM is in its directory (VmDirectory), so a restarted control plane re-attaches through the pidfile
 * and QMP; the host's side of networking is HostNetwork's.
 */
export class QemuDriver implements Driver {
  readonly name = "qemu";
  readonly #o: QemuDriverOptions;
  readonly #vms: VmDirectory;
  readonly #network: HostNetwork;
  readonly #capture: DiskCapturer;
  #accel: Promise<{ accel: Accel; detail: string }> | undefined;
  readonly #diskCache = new Map<string, { at: number; gb: number }>();

  constructor(options: QemuDriverOptions) {
    this.#o = options;
    this.#vms = new VmDirectory(options.vmDir);
    this.#network = new HostNetwork(options.network, new TrafficMeter(this.#vms));
    this.#capture = new DiskCapturer({
      vms: this.#vms,
      qemuImg: options.qemuImg,
      freezer: options.freezer ?? guestAgentFreezer((id) => this.#vms.file(id, "qga.sock")),
      freezeTimeoutMs: options.freezeTimeoutMs ?? 10_000,
      backupPollMs: options.backupPollMs,
      running: (id) => this.#running(id),
      qmp: (id, use) => this.#qmp(id, use),
    });
  }

  async probe(call: DriverCall): Promise<ProbeResult> {
    const missing: string[] = [];
    for (const tool of [this.#o.qemuBinary, this.#o.qemuImg, this.#o.isoTool]) {
      try {
        await runTool(tool, ["--version"], call.signal);
      } catch {
        missing.push(tool);
      }
    }
    if (missing.length > 0) return { ok: false, detail: `missing: ${missing.join(", ")}` };
    const { detail } = await this.#chooseAccel();
    return { ok: true, detail };
  }

  /** This machine's vCPUs, memory, the disk under the VM directory, and the base images in the image directory. */
  async inventory(_call: DriverCall): Promise<DriverInventory> {
    // The VM directory may not exist before the first VM: its nearest existing parent is on the same disk.
    let dir = this.#o.vmDir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const disk = await statfs(dir);
    const entries = await readdir(this.#o.imageDir, { withFileTypes: true }).catch(() => []);
    return {
      vcpus: availableParallelism(),
      memoryMb: Math.floor(totalmem() / 2 ** 20),
      diskGb: Math.floor((disk.blocks * disk.bsize) / 2 ** 30),
      images: entries
        .filter((e) => e.isFile() && !e.name.startsWith("."))
        .map((e) => e.name)
        .sort(),
    };
  }

  /** The accelerator, probed once per process (by booting, not by looking for /dev/kvm). */
  /** Writes the VM's cloud-init seed, then its vm.json, last and atomically: its presence means the VM is defined. */
  async #define(spec: MachineSpec, call: DriverCall): Promise<void> {
    const mac = macFor(spec.id);
    await writeSeedIso(
      this.#vms.file(spec.id, "seed.iso"),
      renderSeed(spec, mac, this.#network.seedNetwork()),
      this.#o.isoTool,
      call.signal,
    );
    const record: VmRecord = {
      id: spec.id,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      storageGb: spec.storageGb,
      mac,
      sshPort: await this.#network.newSshPort(),
      ipv4: spec.ipv4,
    };
    this.#vms.writeRecord(record);
  }

  #chooseAccel(): Promise<{ accel: Accel; detail: string }> {
    this.#accel ??= chooseAccel(this.#o.qemuBinary, this.#o.accel);
    return this.#accel;
  }

  async create(spec: MachineSpec, call: DriverCall): Promise<void> {
    if (this.#vms.record(spec.id)) return;
    const base = this.#baseImage(spec.image);
    this.#vms.make(spec.id);
    const disk = this.#vms.file(spec.id, "disk.qcow2");
    await runTool(
      this.#o.qemuImg,
      ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, disk, `${spec.storageGb}G`],
      call.signal,
    );
    await this.#define(spec, call);
    call.log.info({ vm: spec.id, base }, "qemu: VM created");
  }

  async start(id: string, call: DriverCall): Promise<void> {
    const record = this.#vms.requireRecord(id);
    if (this.#running(id)) return;
    const { accel } = await this.#chooseAccel();
    this.#vms.clearRunFiles(id);
    const { attachment, sshPort } = await this.#network.attach(record, call);
    if (sshPort !== record.sshPort) this.#vms.writeRecord({ ...record, sshPort });
    const args = qemuArgs({
      id,
      accel,
      vcpus: record.vcpus,
      memoryMb: record.memoryMb,
      disk: this.#vms.file(id, "disk.qcow2"),
      seed: this.#vms.file(id, "seed.iso"),
      mac: record.mac,
      network: attachment,
      qmpSocket: this.#vms.file(id, "qmp.sock"),
      qgaSocket: this.#vms.file(id, "qga.sock"),
      pidFile: this.#vms.file(id, "qemu.pid"),
      serialSocket: this.#vms.file(id, "serial.sock"),
      consoleLog: this.#vms.file(id, "console.log"),
    });
    // With -daemonize the command returns once the VM runs; the VM itself is no child of this process.
    await runTool(this.#o.qemuBinary, args, call.signal);
    call.log.info({ vm: id, accel, pid: this.#vms.pid(id) }, "qemu: VM started");
  }

  async shutdown(id: string, options: { timeoutMs: number }, call: DriverCall): Promise<void> {
    this.#vms.requireRecord(id);
    const deadline = Date.now() + options.timeoutMs;
    const every = this.#o.powerButtonEveryMs ?? 5000;
    while (this.#running(id)) {
      if (Date.now() >= deadline) {
        call.log.warn({ vm: id }, "qemu: guest ignored the power button; stopping it hard");
        await this.stop(id, call);
        return;
      }
      // Pressed again and again: a guest still booting may not listen to the first press.
      await this.#qmp(id, (qmp) => qmp.execute("system_powerdown")).catch(() => undefined);
      await this.#waitForExit(id, Math.min(every, deadline - Date.now()), call.signal);
    }
  }

  async stop(id: string, call: DriverCall): Promise<void> {
    this.#vms.requireRecord(id);
    if (!this.#running(id)) return;
    await this.#qmp(id, (qmp) => qmp.execute("quit")).catch(() => undefined);
    if (await this.#waitForExit(id, 5000, call.signal)) return;
    const pid = this.#vms.pid(id);
    if (pid !== null) process.kill(pid, "SIGKILL");
    await this.#waitForExit(id, 5000, call.signal);
  }

  async reboot(id: string, options: { hard: boolean }, call: DriverCall): Promise<void> {
    this.#vms.requireRecord(id);
    if (!this.#running(id)) {
      await this.start(id, call);
      return;
    }
    if (options.hard) {
      await this.#qmp(id, (qmp) => qmp.execute("system_reset"));
      return;
    }
    // Ctrl-Alt-Del asks the guest to reboot itself; QEMU reports the guest's own reset as a RESET event.
    const rebooted = await this.#qmp(id, async (qmp) => {
      qmp.clearEvents();
      await qmp.execute("send-key", {
        keys: ["ctrl", "alt", "delete"].map((key) => ({ type: "qcode", data: key })),
      });
      return (await qmp.waitForEvent("RESET", this.#o.rebootTimeoutMs ?? 60_000)) !== null;
    });
    if (!rebooted) {
      call.log.warn({ vm: id }, "qemu: guest did not reboot by itself; resetting it");
      await this.#qmp(id, (qmp) => qmp.execute("system_reset"));
    }
  }

  /** The VM's qcow2 overlay, as it is: the base image it is layered on is the target's own (placement's image filter). */
  async exportDisk(id: string, call: DriverCall): Promise<DiskExport> {
    this.#vms.requireRecord(id);
    if (this.#running(id)) {
      throw new DriverError("machine_running", `VM ${id} runs; stop it before its disk is copied`);
    }
    const path = this.#vms.file(id, "disk.qcow2");
    const { size, sha256 } = await sha256Of(path, call.signal);
    return {
      size,
      sha256,
      read: () => createReadStream(path, { signal: call.signal, highWaterMark: DISK_CHUNK }),
    };
  }

  /** Writes the overlay beside its place, checks it, moves it in, points it at this host's base image, and defines the VM. */
  async importDisk(spec: MachineSpec, disk: DiskImport, call: DriverCall): Promise<void> {
    const base = this.#baseImage(spec.image);
    // An earlier attempt's copy, complete or not, is replaced.
    if (this.#vms.record(spec.id)) await this.destroy(spec.id, call);
    this.#vms.make(spec.id);
    const path = this.#vms.file(spec.id, "disk.qcow2");
    const part = `${path}.part`;
    const hash = createHash("sha256");
    let size = 0;
    // pipeline, not a bare write stream: a write that fails (a full disk) fails the import, not the process.
    await pipeline(
      disk.chunks,
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(part),
      { signal: call.signal },
    );
    const sha256 = hash.digest("hex");
    if (size !== disk.size || sha256 !== disk.sha256) {
      await rm(part, { force: true });
      throw new DriverError(
        "checksum_mismatch",
        `the disk of VM ${spec.id} arrived with ${size} bytes and sha256 ${sha256}, not ${disk.size} and ${disk.sha256}`,
      );
    }
    await rename(part, path);
    await runTool(this.#o.qemuImg, ["rebase", "-u", "-F", "qcow2", "-b", base, path], call.signal);
    // An image restored onto a larger plan.
    await this.#growDisk(spec.id, spec.storageGb, call);
    await this.#define(spec, call);
    call.log.info({ vm: spec.id, base }, "qemu: VM defined from a migrated disk");
  }

  /** A point-in-time copy of the disk (disk-capture.ts). */
  captureDisk(id: string, call: DriverCall): Promise<DiskCapture> {
    this.#vms.requireRecord(id);
    return this.#capture.capture(id, call);
  }

  /** A stopped VM gets the spec's vCPUs and memory at its next start, and its disk grows (never shrinks). */
  async resize(spec: MachineSpec, call: DriverCall): Promise<void> {
    const record = this.#vms.requireRecord(spec.id);
    if (this.#running(spec.id)) {
      throw new DriverError("machine_running", `VM ${spec.id} runs; stop it before it is resized`);
    }
    await this.#growDisk(spec.id, spec.storageGb, call);
    this.#vms.writeRecord({
      ...record,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      storageGb: Math.max(record.storageGb, spec.storageGb),
    });
    call.log.info({ vm: spec.id, vcpus: spec.vcpus, memoryMb: spec.memoryMb }, "qemu: VM resized");
  }

  /** Grows the VM's overlay to `gb` GiB when it is smaller; a larger disk is left as it is. */
  async #growDisk(id: string, gb: number, call: DriverCall): Promise<void> {
    const disk = this.#vms.file(id, "disk.qcow2");
    const { stdout } = await runTool(
      this.#o.qemuImg,
      ["info", "--output=json", "--force-share", disk],
      call.signal,
    );
    const bytes = gb * 2 ** 30;
    if (Number(JSON.parse(stdout)["virtual-size"]) >= bytes) return;
    await runTool(this.#o.qemuImg, ["resize", "-q", "-f", "qcow2", disk, String(bytes)], call.signal);
  }

  async destroy(id: string, call: DriverCall): Promise<void> {
    if (existsSync(this.#vms.file(id, "vm.json")) && this.#running(id)) await this.stop(id, call);
    await this.#network.detach(id, call);
    this.#vms.remove(id);
    this.#diskCache.delete(id);
  }

  async info(id: string): Promise<PowerState> {
    if (!this.#vms.record(id)) return "missing";
    return this.#running(id) ? "running" : "stopped";
  }

  async stats(id: string, call: DriverCall): Promise<MachineStats | null> {
    const record = this.#vms.record(id);
    const pid = this.#vms.pid(id);
    if (!record || pid === null || !this.#running(id)) return null;
    const usage = processUsage(pid);
    const traffic = await this.#network.traffic(id, call);
    return {
      cpuTimeNs: usage.cpuTimeNs,
      memoryUsedMb: Math.min(record.memoryMb, usage.rssMb),
      diskUsedGb: await this.#diskUsedGb(id, call),
      netInBytes: traffic.inBytes,
      netOutBytes: traffic.outBytes,
    };
  }

  async list(): Promise<string[]> {
    return this.#vms.ids();
  }

  async endpoint(id: string): Promise<SshEndpoint | null> {
    const record = this.#vms.record(id);
    return record ? this.#network.endpoint(record) : null;
  }

  /** The VM's serial port socket (QEMU serves one client at a time; a second waits until the first leaves). */
  async openConsole(id: string, call: DriverCall): Promise<Duplex> {
    this.#vms.requireRecord(id);
    if (!this.#running(id)) {
      throw new DriverError("machine_not_running", `VM ${id} is not running`, true);
    }
    const socket = createConnection(this.#vms.file(id, "serial.sock"));
    await once(socket, "connect", { signal: call.signal });
    return socket;
  }

  /** The allocated size of the overlay (what the guest wrote), sampled at most once a minute. */
  async #diskUsedGb(id: string, call: DriverCall): Promise<number> {
    const cached = this.#diskCache.get(id);
    if (cached && Date.now() - cached.at < 60_000) return cached.gb;
    const { stdout } = await runTool(
      this.#o.qemuImg,
      ["info", "--output=json", "--force-share", this.#vms.file(id, "disk.qcow2")],
      call.signal,
    );
    const gb = Math.ceil(Number(JSON.parse(stdout)["actual-size"] ?? 0) / 1e9);
    this.#diskCache.set(id, { at: Date.now(), gb });
    return gb;
  }

  #baseImage(image: string): string {
    // The catalogue validates image names as plain file names; a path would escape the image directory.
    if (image.includes("/") || image.startsWith(".")) {
      throw new DriverError("bad_image", `image "${image}" must be a file name in the image directory`, true);
    }
    const path = resolve(this.#o.imageDir, image);
    if (!existsSync(path)) {
      throw new DriverError(
        "image_missing",
        `base image ${path} does not exist; see the README on images`,
        true,
      );
    }
    return isAbsolute(path) ? path : resolve(path);
  }

  #running(id: string): boolean {
    return isVmProcess(this.#vms.pid(id), id);
  }

  async #waitForExit(id: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (!this.#running(id)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(100, undefined, { signal });
    }
  }

  async #qmp<T>(id: string, use: (qmp: QmpClient) => Promise<T>): Promise<T> {
    const qmp = await QmpClient.connect(this.#vms.file(id, "qmp.sock"));
    try {
      return await use(qmp);
    } finally {
      qmp.close();
    }
  }
}
