import { setTimeout as sleep } from "node:timers/promises";
import { DriverError } from "../driver.ts";
import type { QmpClient } from "./qmp-client.ts";

// A running VM's disk copied by QEMU's own backup block job (docs/interop/live-block-operations.rst): a target
// overlay added as a block node, then one `transaction` starting `blockdev-backup` with sync=top. From that moment
// a copy-before-write filter saves each cluster the guest overwrites before the job has copied it, so the target
// holds the disk as it was when the transaction ran, however long the copy takes.

/** Block nodes and jobs of a copy are named `backup-<n>`, like its file: a retry finds an earlier attempt's. */
export const BACKUP_PREFIX = "backup-";

/** The VM's disk as QEMU has it open: its node, virtual size and backing file. */
export interface DiskNode {
  node: string;
  virtualSize: number;
  backing: string | null;
}

interface BlockInfo {
  inserted?: {
    file?: string;
    "node-name"?: string;
    image?: { "virtual-size"?: number; "full-backing-filename"?: string; "backing-filename"?: string };
  };
}

interface BlockJobInfo {
  device: string;
  status?: string;
  offset: number;
  len: number;
  error?: string;
}

/** The node whose file is `file` in a `query-block` answer (found by file, so the drive needs no id), or null. */
export function diskNodeOf(blocks: unknown, file: string): DiskNode | null {
  if (!Array.isArray(blocks)) return null;
  for (const block of blocks as BlockInfo[]) {
    const inserted = block.inserted;
    if (!inserted || inserted.file !== file || !inserted["node-name"]) continue;
    const image = inserted.image ?? {};
    return {
      node: inserted["node-name"],
      virtualSize: Number(image["virtual-size"] ?? 0),
      backing: image["full-backing-filename"] ?? image["backing-filename"] ?? null,
    };
  }
  return null;
}

/** How far a job is, 0 to 1; a job of nothing to copy is done. */
export function jobFraction(job: { offset: number; len: number }): number {
  return job.len > 0 ? Math.min(1, job.offset / job.len) : 1;
}

/** The disk node of the file `file`, or a DriverError when QEMU has no such drive. */
export async function diskNode(qmp: QmpClient, file: string): Promise<DiskNode> {
  const node = diskNodeOf(await qmp.execute("query-block"), file);
  if (!node) throw new DriverError("qemu_failed", `QEMU has no drive with the file ${file}`);
  return node;
}

/**
 * Adds the target overlay `file` as node `name` and starts the job `name` copying `source` into it, in one
 * transaction; it returns once the job runs, i.e. once the point in time is fixed. The job stays until dismissed
 * (auto-dismiss off), so its end and its error are read from `query-block-jobs`, with no event to miss.
 */
export async function startBackup(qmp: QmpClient, source: string, name: string, file: string): Promise<void> {
  await qmp.execute("blockdev-add", {
    driver: "qcow2",
    "node-name": name,
    file: { driver: "file", filename: file },
  });
  await qmp.execute("transaction", {
    actions: [
      {
        type: "blockdev-backup",
        data: { "job-id": name, device: source, target: name, sync: "top", "auto-dismiss": false },
      },
    ],
  });
}

/**
 * Polls the job until it has concluded, reporting `offset / len`; a job that ended with an error fails. An abort
 * throws, and the caller's clean-up cancels the job.
 */
export async function waitForBackup(
  qmp: QmpClient,
  name: string,
  progress: ((fraction: number) => void) | undefined,
  signal: AbortSignal,
  pollMs = 200,
): Promise<void> {
  for (;;) {
    const job = (await qmp.execute<BlockJobInfo[]>("query-block-jobs")).find((j) => j.device === name);
    if (!job) throw new DriverError("backup_failed", `the backup job ${name} is gone`);
    if (job.status === "concluded") {
      if (job.error) throw new DriverError("backup_failed", `the backup job ${name} failed: ${job.error}`);
      progress?.(1);
      return;
    }
    progress?.(jobFraction(job));
    // Asked again at the job's end (its event) or after `pollMs`, whichever comes first.
    await qmp.waitForEvent("BLOCK_JOB_COMPLETED", pollMs);
    signal.throwIfAborted();
  }
}

/**
 * Ends every copy job and removes every target node named `backup-…` (one given name, or all: an earlier attempt's,
 * left by a crash or an abort): a running job is cancelled, a concluded one dismissed, then its node deleted.
 */
export async function clearBackups(qmp: QmpClient, only?: string): Promise<void> {
  const ours = (name: string | undefined) =>
    name !== undefined && (only === undefined ? name.startsWith(BACKUP_PREFIX) : name === only);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const jobs = (await qmp.execute<BlockJobInfo[]>("query-block-jobs")).filter((j) => ours(j.device));
    if (jobs.length === 0) break;
    for (const job of jobs) {
      // A job between states refuses one command or the other; the next round tries again.
      const command =
        job.status === "concluded"
          ? qmp.execute("job-dismiss", { id: job.device })
          : qmp.execute("block-job-cancel", { device: job.device, force: true });
      await command.catch(() => undefined);
    }
    if (Date.now() > deadline) throw new DriverError("qemu_failed", "an earlier backup job does not end");
    await sleep(50);
  }
  const nodes = await qmp.execute<{ "node-name"?: string }[]>("query-named-block-nodes", { flat: true });
  for (const name of new Set(nodes.map((n) => n["node-name"]).filter(ours))) {
    await qmp.execute("blockdev-del", { "node-name": name });
  }
}
