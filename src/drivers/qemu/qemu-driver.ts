import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { isAbsolute, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  type Driver,
  type DriverCall,
  DriverError,
  type MachineSpec,
  type MachineStats,
  type PowerState,
  type ProbeResult,
  type SshEndpoint,
} from "../driver.ts";
import { processAlive } from "../process-alive.ts";
import { type Accel, chooseAccel } from "./accel-probe.ts";
import { renderSeed, type SeedNetwork, writeSeedIso } from "./cloud-init-seed.ts";
import { macFor, type NetworkAttachment, qemuArgs } from "./qemu-cmdline.ts";
import { QmpClient } from "./qmp-client.ts";

const run = promisify(execFile);

export type QemuNetwork =
  | { mode: "user"; hostfwdAddress: string }
  | ({ mode: "bridge"; bridge: string } & Omit<Extract<SeedNetwork, { mode: "static" }>, "mode">);

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
}

/** What create records about a VM: everything start needs to launch it again, even after a restart. */
interface VmRecord {
  id: string;
  vcpus: number;
  memoryMb: number;
  storageGb: number;
  mac: string;
  sshPort: number | null;
  ipv4: string | null;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Real virtual machines with qemu-system-x86_64: a qcow2 overlay on the OS's base image, a cloud-init
 * NoCloud seed, a QMP socket, daemonised so VMs outlive the control plane. Everything the driver knows
 * about a VM is in its directory, so a restarted control plane re-attaches through the pidfile and QMP.
 */
export class QemuDriver implements Driver {
  readonly name = "qemu";
  readonly #o: QemuDriverOptions;
  #accel: Promise<{ accel: Accel; detail: string }> | undefined;
  readonly #diskCache = new Map<string, { at: number; gb: number }>();

  constructor(options: QemuDriverOptions) {
    this.#o = options;
  }

  async probe(): Promise<ProbeResult> {
    const missing: string[] = [];
    for (const tool of [this.#o.qemuBinary, this.#o.qemuImg, this.#o.isoTool]) {
      try {
        await run(tool, ["--version"]);
      } catch {
        missing.push(tool);
      }
    }
    if (missing.length > 0) return { ok: false, detail: `missing: ${missing.join(", ")}` };
    const { detail } = await this.#chooseAccel();
    return { ok: true, detail };
  }

  /** The accelerator, probed once per process (by booting, not by looking for /dev/kvm). */
  #chooseAccel(): Promise<{ accel: Accel; detail: string }> {
    this.#accel ??= chooseAccel(this.#o.qemuBinary, this.#o.accel);
    return this.#accel;
  }

  async create(spec: MachineSpec, call: DriverCall): Promise<void> {
    if (this.#record(spec.id)) return;
    const base = this.#baseImage(spec.image);
    const dir = this.#dir(spec.id);
    mkdirSync(dir, { recursive: true });
    const disk = join(dir, "disk.qcow2");
    await this.#exec(
      this.#o.qemuImg,
      ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, disk, `${spec.storageGb}G`],
      call,
    );
    const mac = macFor(spec.id);
    const network = this.#o.network;
    const seedNetwork: SeedNetwork =
      network.mode === "user" ? { mode: "dhcp" } : { ...network, mode: "static" };
    await writeSeedIso(
      join(dir, "seed.iso"),
      renderSeed(spec, mac, seedNetwork),
      this.#o.isoTool,
      call.signal,
    );
    const record: VmRecord = {
      id: spec.id,
      vcpus: spec.vcpus,
      memoryMb: spec.memoryMb,
      storageGb: spec.storageGb,
      mac,
      sshPort: network.mode === "user" ? await freePort(network.hostfwdAddress) : null,
      ipv4: spec.ipv4,
    };
    // vm.json is written last, atomically: its presence means the VM was created completely.
    this.#writeRecord(record);
    call.log.info({ vm: spec.id, base }, "qemu: VM created");
  }

  async start(id: string, call: DriverCall): Promise<void> {
    const record = this.#requireRecord(id);
    if (await this.#running(id)) return;
    const { accel } = await this.#chooseAccel();
    const dir = this.#dir(id);
    rmSync(join(dir, "qmp.sock"), { force: true });
    rmSync(join(dir, "qemu.pid"), { force: true });
    let attachment: NetworkAttachment;
    if (this.#o.network.mode === "user") {
      // The forwarded port may have been taken while the VM was off; then it moves to a free one.
      if (record.sshPort === null || !(await portFree(this.#o.network.hostfwdAddress, record.sshPort))) {
        record.sshPort = await freePort(this.#o.network.hostfwdAddress);
        this.#writeRecord(record);
      }
      attachment = { mode: "user", hostfwdAddress: this.#o.network.hostfwdAddress, sshPort: record.sshPort };
    } else {
      attachment = { mode: "bridge", tap: await this.#ensureTap(id, this.#o.network.bridge, call) };
    }
    const args = qemuArgs({
      id,
      accel,
      vcpus: record.vcpus,
      memoryMb: record.memoryMb,
      disk: join(dir, "disk.qcow2"),
      seed: join(dir, "seed.iso"),
      mac: record.mac,
      network: attachment,
      qmpSocket: join(dir, "qmp.sock"),
      pidFile: join(dir, "qemu.pid"),
      consoleLog: join(dir, "console.log"),
    });
    // With -daemonize the command returns once the VM runs; the VM itself is no child of this process.
    await this.#exec(this.#o.qemuBinary, args, call);
    call.log.info({ vm: id, accel, pid: this.#pid(id) }, "qemu: VM started");
  }

  async shutdown(id: string, options: { timeoutMs: number }, call: DriverCall): Promise<void> {
    this.#requireRecord(id);
    const deadline = Date.now() + options.timeoutMs;
    const every = this.#o.powerButtonEveryMs ?? 5000;
    while (await this.#running(id)) {
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
    this.#requireRecord(id);
    if (!(await this.#running(id))) return;
    await this.#qmp(id, (qmp) => qmp.execute("quit")).catch(() => undefined);
    if (await this.#waitForExit(id, 5000, call.signal)) return;
    const pid = this.#pid(id);
    if (pid !== null) process.kill(pid, "SIGKILL");
    await this.#waitForExit(id, 5000, call.signal);
  }

  async reboot(id: string, options: { hard: boolean }, call: DriverCall): Promise<void> {
    this.#requireRecord(id);
    if (!(await this.#running(id))) {
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

  async destroy(id: string, call: DriverCall): Promise<void> {
    if (existsSync(join(this.#dir(id), "vm.json")) && (await this.#running(id))) await this.stop(id, call);
    if (this.#o.network.mode === "bridge") {
      await this.#exec("ip", ["link", "delete", tapName(id)], call).catch(() => undefined);
    }
    rmSync(this.#dir(id), { recursive: true, force: true });
    this.#diskCache.delete(id);
  }

  async info(id: string): Promise<PowerState> {
    if (!this.#record(id)) return "missing";
    return (await this.#running(id)) ? "running" : "stopped";
  }

  async stats(id: string, call: DriverCall): Promise<MachineStats | null> {
    const record = this.#record(id);
    const pid = this.#pid(id);
    if (!record || pid === null || !(await this.#running(id))) return null;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces: utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return {
      cpuTimeNs: (ticks / CLOCK_TICKS_PER_SECOND) * 1e9,
      memoryUsedMb: Math.min(record.memoryMb, Math.round(rssKb / 1024)),
      diskUsedGb: await this.#diskUsedGb(id, call),
      netBytes: this.#o.network.mode === "bridge" ? tapBytes(tapName(id)) : 0,
    };
  }

  async list(): Promise<string[]> {
    if (!existsSync(this.#o.vmDir)) return [];
    return readdirSync(this.#o.vmDir).filter((id) => this.#record(id) !== null);
  }

  async endpoint(id: string): Promise<SshEndpoint | null> {
    const record = this.#record(id);
    if (!record) return null;
    if (this.#o.network.mode === "user") {
      return record.sshPort === null ? null : { host: this.#o.network.hostfwdAddress, port: record.sshPort };
    }
    return record.ipv4 ? { host: record.ipv4, port: 22 } : null;
  }

  /** The allocated size of the overlay (what the guest wrote), sampled at most once a minute. */
  async #diskUsedGb(id: string, call: DriverCall): Promise<number> {
    const cached = this.#diskCache.get(id);
    if (cached && Date.now() - cached.at < 60_000) return cached.gb;
    const { stdout } = await this.#exec(
      this.#o.qemuImg,
      ["info", "--output=json", "--force-share", join(this.#dir(id), "disk.qcow2")],
      call,
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

  async #running(id: string): Promise<boolean> {
    const pid = this.#pid(id);
    if (pid === null || !processAlive(pid)) return false;
    // A recycled pid is some other process: only a QEMU started for this VM counts.
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`vps-${id},process=vps-${id}`);
    } catch {
      return false;
    }
  }

  async #waitForExit(id: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (!(await this.#running(id))) return true;
      if (Date.now() >= deadline) return false;
      await sleep(100, undefined, { signal });
    }
  }

  async #qmp<T>(id: string, use: (qmp: QmpClient) => Promise<T>): Promise<T> {
    const qmp = await QmpClient.connect(join(this.#dir(id), "qmp.sock"));
    try {
      return await use(qmp);
    } finally {
      qmp.close();
    }
  }

  async #ensureTap(id: string, bridge: string, call: DriverCall): Promise<string> {
    const tap = tapName(id);
    if (!existsSync(`/sys/class/net/${tap}`)) {
      await this.#exec("ip", ["tuntap", "add", "dev", tap, "mode", "tap"], call);
    }
    await this.#exec("ip", ["link", "set", tap, "master", bridge, "up"], call);
    return tap;
  }

  async #exec(file: string, args: string[], call: DriverCall): Promise<{ stdout: string; stderr: string }> {
    try {
      return await run(file, args, { signal: call.signal, maxBuffer: 4 * 1024 * 1024 });
    } catch (err) {
      if (call.signal.aborted) throw err;
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const permanent = e.code === "ENOENT";
      throw new DriverError(
        permanent ? "tool_missing" : "qemu_failed",
        `${file} ${args[0] ?? ""} failed: ${(e.stderr ?? e.message).trim().split("\n").slice(-3).join(" ")}`,
        permanent,
      );
    }
  }

  #dir(id: string): string {
    if (!/^\d{1,20}$/.test(id)) throw new DriverError("bad_id", `invalid machine id "${id}"`, true);
    return join(this.#o.vmDir, id);
  }

  #pid(id: string): number | null {
    try {
      const pid = Number(readFileSync(join(this.#dir(id), "qemu.pid"), "utf8").trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  #record(id: string): VmRecord | null {
    try {
      return JSON.parse(readFileSync(join(this.#dir(id), "vm.json"), "utf8")) as VmRecord;
    } catch {
      return null;
    }
  }

  #requireRecord(id: string): VmRecord {
    const record = this.#record(id);
    if (!record) throw new DriverError("machine_missing", `VM ${id} does not exist`, true);
    return record;
  }

  #writeRecord(record: VmRecord): void {
    const path = join(this.#dir(record.id), "vm.json");
    writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }
}

function tapName(id: string): string {
  return `vps${id}`;
}

function tapBytes(tap: string): number {
  try {
    const read = (name: string) => Number(readFileSync(`/sys/class/net/${tap}/statistics/${name}`, "utf8"));
    return read("rx_bytes") + read("tx_bytes");
  } catch {
    return 0;
  }
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen(port, host, () => server.close(() => resolvePort(true)));
  });
}

/** A port the OS considers free right now, for the guest's forwarded SSH port. */
function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolvePort(address.port) : reject(new Error("no port")),
      );
    });
  });
}
