// How fast a running VM's disk is copied (qemu driver, test image), beside a baseline measured in the same run: a
// plain `cp` of the same disk file on the same disk, fsynced. The VM's overlay holds BENCH_BACKUP_MB MB written on
// the host before boot (qemu-io); each figure is the median of BENCH_RUNS runs, as MB/s of the overlay's bytes
// and as a ratio to the baseline:
//   (a) cp of disk.qcow2 + fsync (the baseline)
//   (b) captureDisk of the running VM (QEMU's backup job, then the sha256 of the copy)
//   (c) captureDisk + DirectoryImageStore.put (a backup, as the engine makes it)
//   (d) DirectoryImageStore.get + importDisk (a restore, its sha256 checked)
//
//   npm run bench:backup               (needs QEMU and data/images/vps-test.qcow2: scripts/build-test-image.sh)
//   BENCH_RUNS=5 BENCH_BACKUP_MB=512 npm run bench:backup
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import type { MachineSpec } from "../src/drivers/driver.ts";
import { DirectoryImageStore } from "../src/store/directory-image-store.ts";
import { bootToSsh, qemuTestDriver, testImageSpec } from "../test/support/qemu-test-driver.ts";
import { qemuTestImage } from "../test/support/qemu-test-image.ts";
import { makeKeyPair } from "../test/support/ssh.ts";

const run = promisify(execFile);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const megabytes = Number(process.env.BENCH_BACKUP_MB ?? 256);
const accel = (process.env.VPS_QEMU_ACCEL ?? "tcg") as "kvm" | "tcg";
const image = qemuTestImage();
if (image.skip) throw new Error(image.skip);
const dir = mkdtempSync(join(tmpdir(), "vps-bench-backup-"));
const key = await makeKeyPair();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const call = () => ({ signal: AbortSignal.timeout(600_000), log: pino({ level: "silent" }) });

const vmDir = join(dir, "vms");
const driver = qemuTestDriver(vmDir, { accel });
const store = new DirectoryImageStore(join(dir, "store"));
const spec = (id: string): MachineSpec =>
  testImageSpec(id, {
    hostname: "bench.example.com",
    storageGb: Math.ceil((64 + megabytes) / 1024) + 1,
    sshPublicKey: key.publicKey,
  });

/** Seconds `step` takes and the bytes it moved. */
async function timed(step: () => Promise<number>): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  const bytes = await step();
  return { seconds: (performance.now() - started) / 1000, bytes };
}

try {
  const id = "91001";
  await driver.create(spec(id), call());
  const disk = join(vmDir, id, "disk.qcow2");
  // Past the test image's FAT partition, so the guest boots as usual.
  await run("qemu-io", ["-f", "qcow2", "-c", `write -P 0x5a 64M ${megabytes}M`, disk]);
  await bootToSsh(driver, id, key, call());

  const figures: Record<"a" | "b" | "c" | "d", number[]> = { a: [], b: [], c: [], d: [] };
  const rate = ({ seconds, bytes }: { seconds: number; bytes: number }) => bytes / 1e6 / seconds;
  for (let n = 0; n < runs; n++) {
    const plain = join(dir, "plain.qcow2");
    const a = await timed(async () => {
      await run("cp", ["--reflink=never", disk, plain]);
      const file = await open(plain, "r+");
      await file.sync();
      await file.close();
      return statSync(plain).size;
    });
    rmSync(plain);
    const b = await timed(async () => {
      const capture = await driver.captureDisk(id, call());
      await capture.release();
      return capture.size;
    });
    const stored = { key: `bench/${n}`, size: 0, sha256: "" };
    const c = await timed(async () => {
      const capture = await driver.captureDisk(id, call());
      const put = await store.put(stored.key, capture.read(), call());
      await capture.release();
      Object.assign(stored, put);
      return capture.size;
    });
    const restored = String(92_000 + n);
    const d = await timed(async () => {
      const chunks = await store.get(stored.key, call());
      await driver.importDisk(spec(restored), { size: stored.size, sha256: stored.sha256, chunks }, call());
      return stored.size;
    });
    await driver.destroy(restored, call());
    await store.delete(stored.key);
    for (const [name, figure] of [
      ["a", a],
      ["b", b],
      ["c", c],
      ["d", d],
    ] as const)
      figures[name].push(rate(figure));
    console.error(
      `run ${n + 1}: ${(a.bytes / 1e6).toFixed(0)} MB; a ${rate(a).toFixed(0)}, b ${rate(b).toFixed(0)}, c ${rate(c).toFixed(0)}, d ${rate(d).toFixed(0)} MB/s`,
    );
  }

  const baseline = median(figures.a);
  const rows: [string, number[]][] = [
    ["(a) `cp` of disk.qcow2 + fsync (baseline)", figures.a],
    ["(b) captureDisk, running VM (backup job + sha256)", figures.b],
    ["(c) captureDisk + DirectoryImageStore.put", figures.c],
    ["(d) DirectoryImageStore.get + importDisk (restore)", figures.d],
  ];
  console.log(
    `\n${cpus().length} × ${cpus()[0]?.model ?? "?"}, load ${loadavg()[0]?.toFixed(1)}, ${accel}, ${megabytes} MB written, ${runs} runs\n`,
  );
  console.log("| step | MB/s (median) | runs | ratio to (a) |\n|---|---|---|---|");
  for (const [name, values] of rows) {
    const m = median(values);
    console.log(
      `| ${name} | ${m.toFixed(0)} | ${values.map((v) => v.toFixed(0)).join(", ")} | ${(m / baseline).toFixed(2)} |`,
    );
  }
} finally {
  for (const id of await driver.list()) await driver.destroy(id, call());
  rmSync(dir, { recursive: true, force: true });
}
