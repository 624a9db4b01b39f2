import { execFile } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";

// The test image's /data (the ext4 second partition of its disk), read on the host from a stopped VM's disk,
// a backup or a snapshot: any image qemu-img reads, backing files included. Both helpers work on a copy of
// the partition whose journal they first replay, as the guest's next mount would, when it was not unmounted
// (a crash, a copy of a running VM).

const run = promisify(execFile);

/** e2fsprogs lives in /sbin, which a user's PATH may lack. */
function sbin(tool: string): string {
  return ["/usr/sbin", "/sbin"].map((dir) => join(dir, tool)).find((path) => existsSync(path)) ?? tool;
}

interface DataPartition {
  path: string;
  /** Its journal held changes not yet written back: the filesystem was mounted when the image was taken. */
  needsRecovery: boolean;
  /** What replaying the journal printed. */
  recovery: string;
}

/** Copies the disk's second MBR partition to a file of its own, replays its journal, and hands it to `use`. */
async function withDataPartition<T>(
  diskPath: string,
  use: (partition: DataPartition) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "vps-guest-fs-"));
  try {
    const raw = join(dir, "disk.raw");
    await run("qemu-img", ["convert", "-O", "raw", diskPath, raw]);
    const mbr = Buffer.alloc(512);
    const file = await open(raw, "r");
    try {
      await file.read(mbr, 0, 512, 0);
    } finally {
      await file.close();
    }
    if (mbr.readUInt16LE(510) !== 0xaa55) throw new Error(`${diskPath} has no MBR partition table`);
    const entry = 446 + 16; // the second of the four entries
    const start = mbr.readUInt32LE(entry + 8) * 512;
    const size = mbr.readUInt32LE(entry + 12) * 512;
    if (size === 0) throw new Error(`${diskPath} has no second partition`);
    const partition = join(dir, "data.img");
    await pipeline(createReadStream(raw, { start, end: start + size - 1 }), createWriteStream(partition));
    const { stdout: header } = await run(sbin("dumpe2fs"), ["-h", partition]);
    const features = /^Filesystem features:(.*)$/m.exec(header)?.[1]?.trim().split(/\s+/) ?? [];
    const needsRecovery = features.includes("needs_recovery");
    let recovery = "";
    if (needsRecovery) {
      const replayed = await run(sbin("e2fsck"), ["-y", "-E", "journal_only", partition]);
      recovery = `${replayed.stdout}${replayed.stderr}`;
    }
    return await use({ path: partition, needsRecovery, recovery });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `e2fsck -fn` on the data filesystem: clean when it finds nothing to repair (exit 0), with its report.
 * needsRecovery says whether it was left mounted (a graceful shutdown unmounts it).
 */
export async function checkDataFilesystem(
  diskPath: string,
): Promise<{ clean: boolean; needsRecovery: boolean; output: string }> {
  return withDataPartition(diskPath, async ({ path, needsRecovery, recovery }) => {
    try {
      const { stdout, stderr } = await run(sbin("e2fsck"), ["-fn", path]);
      return { clean: true, needsRecovery, output: `${recovery}${stdout}${stderr}` };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof failed.code !== "number") throw error;
      return {
        clean: false,
        needsRecovery,
        output: `${recovery}exit ${failed.code}\n${failed.stdout ?? ""}${failed.stderr ?? ""}`,
      };
    }
  });
}

/** The content of `/<name>` on the data filesystem (a path below /data in the guest), read with debugfs. */
export async function readDataFile(diskPath: string, name: string): Promise<string> {
  // debugfs takes the command as one string: no spaces or quotes in the path.
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(name)) throw new Error(`unsupported file name "${name}"`);
  return withDataPartition(diskPath, async ({ path }) => {
    const { stdout, stderr } = await run(sbin("debugfs"), ["-R", `cat /${name}`, path]);
    // debugfs prints its version on stderr, and a missing file there too while exiting 0.
    const complaint = stderr.split("\n").find((line) => line.trim() && !line.startsWith("debugfs "));
    if (complaint) throw new Error(`cannot read /${name} on the data filesystem: ${complaint}`);
    return stdout;
  });
}
