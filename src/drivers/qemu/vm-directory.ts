import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DriverError } from "../driver.ts";

/** What create records about a VM: everything start needs to launch it again, even after a restart. */
export interface VmRecord {
  id: string;
  vcpus: number;
  memoryMb: number;
  storageGb: number;
  mac: string;
  sshPort: number | null;
  ipv4: string | null;
}

/** The files of one VM's directory. */
export type VmFile =
  | "disk.qcow2"
  | "seed.iso"
  | "qmp.sock"
  | "qga.sock"
  | "serial.sock"
  | "qemu.pid"
  | "console.log"
  | "vm.json";

/**
 * One directory per VM under the VM root: its disk overlay, seed, QMP and guest agent sockets, pidfile,
 * console log and vm.json. Everything the driver knows about a VM is here, so a restarted control plane re-attaches from it.
 */
export class VmDirectory {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  dir(id: string): string {
    // The id becomes a path: only a server id (digits) may, never `..` or a slash.
    if (!/^\d{1,20}$/.test(id)) throw new DriverError("bad_id", `invalid machine id "${id}"`, true);
    return join(this.#root, id);
  }

  file(id: string, name: VmFile): string {
    return join(this.dir(id), name);
  }

  /** A copy of the VM's disk (a snapshot or backup being made or uploaded); `n` tells one attempt from another. */
  backupFile(id: string, n: number): string {
    return join(this.dir(id), `backup-${n}.qcow2`);
  }

  /** The disk copies in the VM's directory, whatever attempt left them. */
  backupFiles(id: string): string[] {
    if (!existsSync(this.dir(id))) return [];
    return readdirSync(this.dir(id))
      .filter((name) => /^backup-\d+\.qcow2$/.test(name))
      .map((name) => join(this.dir(id), name));
  }

  /** Makes the VM's directory; returns its path. */
  make(id: string): string {
    const dir = this.dir(id);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Ids of the VMs created completely (with a readable vm.json). */
  ids(): string[] {
    if (!existsSync(this.#root)) return [];
    return readdirSync(this.#root).filter((id) => this.record(id) !== null);
  }

  record(id: string): VmRecord | null {
    try {
      return JSON.parse(readFileSync(this.file(id, "vm.json"), "utf8")) as VmRecord;
    } catch {
      return null;
    }
  }

  requireRecord(id: string): VmRecord {
    const record = this.record(id);
    if (!record) throw new DriverError("machine_missing", `VM ${id} does not exist`, true);
    return record;
  }

  /** Written atomically: a vm.json present is always complete. */
  writeRecord(record: VmRecord): void {
    const path = this.file(record.id, "vm.json");
    writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  /** The pid QEMU wrote at its last start; it may since have exited or been reused. */
  pid(id: string): number | null {
    try {
      const pid = Number(readFileSync(this.file(id, "qemu.pid"), "utf8").trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** Clears what a previous run left behind, so a start waits for files of its own. */
  clearRunFiles(id: string): void {
    rmSync(this.file(id, "qmp.sock"), { force: true });
    rmSync(this.file(id, "qga.sock"), { force: true });
    rmSync(this.file(id, "serial.sock"), { force: true });
    rmSync(this.file(id, "qemu.pid"), { force: true });
  }
}
