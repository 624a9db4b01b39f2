import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { DiskCapture, DriverCall } from "../driver.ts";
import { BACKUP_PREFIX, clearBackups, diskNode, startBackup, waitForBackup } from "./backup-job.ts";
import { freezeGuest, type GuestFreezer } from "./guest-freezer.ts";
import type { QmpClient } from "./qmp-client.ts";
import { runTool } from "./run-tool.ts";
import type { VmDirectory } from "./vm-directory.ts";

/** Disks are read in 1 MiB chunks: sha256 over 64 KiB ones (the stream default) costs a third more. */
export const DISK_CHUNK = 2 ** 20;

/** sha256 and size of a file, read once. */
export async function sha256Of(file: string, signal: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file, { signal, highWaterMark: DISK_CHUNK })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

export interface DiskCapturerOptions {
  vms: VmDirectory;
  qemuImg: string;
  freezer: GuestFreezer;
  /** How long a freeze may take before the copy goes on without it. */
  freezeTimeoutMs: number;
  /** How often a block job is asked how far it is. */
  backupPollMs?: number;
  running(id: string): boolean;
  qmp<T>(id: string, use: (qmp: QmpClient) => Promise<T>): Promise<T>;
}

/** The qemu driver's disk copies for snapshots and backups (src/drivers/README.md, "Disk copies"). */
export class DiskCapturer {
  readonly #o: DiskCapturerOptions;
  #last = 0;

  constructor(options: DiskCapturerOptions) {
    this.#o = options;
  }

  /**
   * A running VM's disk copied by QEMU's backup block job (sync=top: the overlay's own clusters, into a new overlay
   * on the same base image), after freezing the guest's filesystems where the freezer can; a stopped VM's overlay
   * copied as it is. The copy is a `backup-<n>.qcow2` beside the disk, importable like an exported disk; a capture
   * first removes what an earlier attempt left (one capture per VM at a time: the engine runs a server's
   * operations one by one).
   */
  async capture(id: string, call: DriverCall): Promise<DiskCapture> {
    const n = Math.max(Date.now(), this.#last + 1);
    this.#last = n;
    const file = this.#o.vms.backupFile(id, n);
    if (!this.#o.running(id)) {
      await this.#removeBackups(id);
      return this.#copyStoppedDisk(id, file, call);
    }
    const consistency = await this.#o.qmp(id, (qmp) => this.#backUp(qmp, id, n, call));
    try {
      // An abort can land after a short job has concluded: the copy is then removed here, not left behind.
      const { sha256, size } = await sha256Of(file, call.signal);
      return this.#handOut(file, size, sha256, consistency, call);
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
  }

  async #backUp(
    qmp: QmpClient,
    id: string,
    n: number,
    call: DriverCall,
  ): Promise<DiskCapture["consistency"]> {
    await clearBackups(qmp);
    await this.#removeBackups(id);
    const source = await diskNode(qmp, this.#o.vms.file(id, "disk.qcow2"));
    const name = `${BACKUP_PREFIX}${n}`;
    const file = this.#o.vms.backupFile(id, n);
    const backing = source.backing ? ["-F", "qcow2", "-b", source.backing] : [];
    try {
      await runTool(
        this.#o.qemuImg,
        ["create", "-q", "-f", "qcow2", ...backing, file, String(source.virtualSize)],
        call.signal,
      );
      call.progress?.(0);
      const frozen = await freezeGuest(this.#o.freezer, id, this.#o.freezeTimeoutMs, call.log);
      try {
        await startBackup(qmp, source.node, name, file);
      } finally {
        // Thawed as soon as the job runs: from then on the copy-before-write filter keeps the point in time.
        await frozen.thaw();
      }
      await waitForBackup(qmp, name, call.progress, call.signal, this.#o.backupPollMs);
      await clearBackups(qmp, name);
      call.log.info({ vm: id, file, frozen: frozen.filesystems }, "qemu: disk copied by a backup job");
      return frozen.filesystems > 0 ? "filesystem" : "crash";
    } catch (err) {
      await clearBackups(qmp, name).catch((cleanup: unknown) => {
        call.log.warn({ vm: id, err: cleanup }, "qemu: an aborted backup job could not be cleared");
      });
      await rm(file, { force: true });
      throw err;
    }
  }

  /** A stopped VM's overlay is a consistent file: copied as a stream, its progress counted in bytes. */
  async #copyStoppedDisk(id: string, file: string, call: DriverCall): Promise<DiskCapture> {
    const disk = this.#o.vms.file(id, "disk.qcow2");
    const total = (await stat(disk)).size;
    const hash = createHash("sha256");
    let size = 0;
    call.progress?.(0);
    try {
      await pipeline(
        createReadStream(disk, { highWaterMark: DISK_CHUNK }),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            call.progress?.(total > 0 ? Math.min(1, size / total) : 1);
            yield chunk;
          }
        },
        createWriteStream(file),
        { signal: call.signal },
      );
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    call.progress?.(1);
    return this.#handOut(file, size, hash.digest("hex"), "filesystem", call);
  }

  #handOut(
    file: string,
    size: number,
    sha256: string,
    consistency: DiskCapture["consistency"],
    call: DriverCall,
  ): DiskCapture {
    return {
      size,
      sha256,
      consistency,
      read: () => createReadStream(file, { signal: call.signal, highWaterMark: DISK_CHUNK }),
      release: () => rm(file, { force: true }),
    };
  }

  async #removeBackups(id: string): Promise<void> {
    for (const file of this.#o.vms.backupFiles(id)) await rm(file, { force: true });
  }
}
