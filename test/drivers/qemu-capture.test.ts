import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { pino } from "pino";
import type { DiskCapture, DriverCall, MachineSpec } from "../../src/drivers/driver.ts";
import type { GuestFreezer } from "../../src/drivers/qemu/guest-freezer.ts";
import { QmpClient } from "../../src/drivers/qemu/qmp-client.ts";
import { bootToSsh, qemuTestDriver, testImageSpec } from "../support/qemu-test-driver.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { type KeyPair, makeKeyPair, sshRun } from "../support/ssh.ts";

const run = promisify(execFile);
const image = qemuTestImage();
const IMAGE = "vps-test.qcow2";
const GIB = 2 ** 30;

/** Bytes of a capture, as its reader hands them out. */
async function bytesOf(capture: DiskCapture): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of capture.read()) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

// Snapshots and backups of real VMs under TCG: a running VM's disk copied by QEMU's backup block job at one point
// in time, a stopped VM's copied as it is, the copy restored as a new VM, and a stopped VM resized.
describe("qemu driver: disk copies and resizes", { skip: image.skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-qemu-capture-"));
  const vmDir = join(dir, "vms");
  // What each test wants of the guest's freeze; the driver sees only the seam.
  let freezer: GuestFreezer | undefined;
  const driver = qemuTestDriver(vmDir, {
    freezer: {
      freeze: (id, signal) => (freezer ? freezer.freeze(id, signal) : Promise.resolve(0)),
      thaw: (id, signal) => (freezer ? freezer.thaw(id, signal) : Promise.resolve()),
    },
    freezeTimeoutMs: 2000,
    backupPollMs: 50,
  });
  const call = (extra: Partial<DriverCall> = {}): DriverCall => ({
    signal: AbortSignal.timeout(300_000),
    log: pino({ level: "silent" }),
    ...extra,
  });
  let key: KeyPair;
  const spec = (id: string, storageGb: number): MachineSpec =>
    testImageSpec(id, { storageGb, sshPublicKey: key.publicKey });
  const ssh = async (id: string, command: string) => {
    const endpoint = await driver.endpoint(id);
    assert.ok(endpoint);
    return sshRun(endpoint.host, endpoint.port, key, command, 60_000);
  };
  const boot = (id: string) => bootToSsh(driver, id, key, call());
  // A marker written to the guest's raw disk, past the FAT partition, and read back from it or from a copy.
  const writeMarker = (id: string, mib: number, text: string) =>
    ssh(id, `printf '${text}' | dd of=/dev/vda bs=1M seek=${mib} conv=fsync 2>/dev/null && sync`);
  const guestMarker = (id: string, mib: number, length: number) =>
    ssh(id, `dd if=/dev/vda bs=1M skip=${mib} count=1 2>/dev/null | head -c ${length}`);
  const copyMarker = async (file: string, mib: number, length: number) => {
    const { stdout } = await run("qemu-io", ["-r", "-f", "qcow2", "-c", `read -v ${mib}M ${length}`, file]);
    // qemu-io's dump: "06400000:  77 72 69 ...  wri...", sixteen bytes a line.
    const hex = stdout
      .split("\n")
      .map((line) => /^[0-9a-f]+:((?: [0-9a-f]{2})+)/.exec(line.replace(/:\s+/, ": "))?.[1] ?? "")
      .join("")
      .replaceAll(" ", "");
    return Buffer.from(hex, "hex").toString("latin1");
  };
  const info = async (file: string) =>
    JSON.parse((await run("qemu-img", ["info", "--output=json", "--force-share", file])).stdout);
  const backupsLeft = (id: string) => readdirSync(join(vmDir, id)).filter((f) => f.startsWith("backup-"));
  const inQemu = async (id: string) => {
    const qmp = await QmpClient.connect(join(vmDir, id, "qmp.sock"));
    try {
      const jobs = await qmp.execute<{ device: string }[]>("query-block-jobs");
      const nodes = await qmp.execute<{ "node-name": string }[]>("query-named-block-nodes", { flat: true });
      return {
        jobs: jobs.map((j) => j.device),
        nodes: nodes.map((n) => n["node-name"]).filter((n) => n.startsWith("backup-")),
      };
    } finally {
      qmp.close();
    }
  };

  let running: DiskCapture | undefined;
  const BEFORE = "written-before-the-copy";
  const AFTER = "written-after-the-copy!";

  before(async () => {
    key = await makeKeyPair();
  });
  after(async () => {
    for (const id of await driver.list()) await driver.destroy(id, call());
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies a running VM's disk as it was when the copy started, reporting progress up to 1", async () => {
    await driver.create(spec("501", 1), call());
    await boot("501");
    await writeMarker("501", 100, BEFORE);
    const seen: string[] = [];
    freezer = {
      async freeze() {
        seen.push("freeze");
        return 1;
      },
      // Thawed once the job runs: the guest's writes from now on must not reach the copy.
      async thaw() {
        seen.push("thaw");
        await writeMarker("501", 100, AFTER);
        await writeMarker("501", 200, AFTER);
      },
    };
    const progress: number[] = [];
    running = await driver.captureDisk("501", call({ progress: (f) => progress.push(f) }));
    freezer = undefined;

    assert.deepEqual(seen, ["freeze", "thaw"]);
    assert.equal(running.consistency, "filesystem");
    assert.equal(progress.at(-1), 1);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      "progress never goes back",
    );
    const bytes = await bytesOf(running);
    assert.equal(running.size, bytes.length);
    assert.equal(running.sha256, createHash("sha256").update(bytes).digest("hex"));

    const [file] = backupsLeft("501");
    assert.ok(file, "the copy is held beside the disk until released");
    const copy = join(vmDir, "501", file);
    await run("qemu-img", ["check", "-q", copy]);
    const copied = await info(copy);
    assert.equal(copied["backing-filename"], join(image.dir, IMAGE));
    assert.equal(copied["virtual-size"], 1 * GIB);
    assert.equal(await copyMarker(copy, 100, BEFORE.length), BEFORE);
    assert.equal(await copyMarker(copy, 200, AFTER.length), "\0".repeat(AFTER.length));
    assert.equal(await guestMarker("501", 100, AFTER.length), AFTER, "the VM's own disk has the later write");
    assert.deepEqual(await inQemu("501"), { jobs: [], nodes: [] }, "the job and its target node are gone");
  });

  it("restores a copy as a new VM that boots with the copied bytes, its disk grown to the plan's", async () => {
    assert.ok(running);
    await driver.importDisk(spec("502", 2), { ...running, chunks: running.read() }, call());
    await running.release();
    assert.equal((await info(join(vmDir, "502", "disk.qcow2")))["virtual-size"], 2 * GIB);
    await boot("502");
    assert.equal(await guestMarker("502", 100, BEFORE.length), BEFORE);
    assert.equal(await ssh("502", "cat /sys/block/vda/size"), String((2 * GIB) / 512));
    await driver.destroy("502", call());
  });

  it("refuses to resize a running VM", async () => {
    await assert.rejects(driver.resize({ ...spec("501", 2) }, call()), { code: "machine_running" });
    assert.equal((await info(join(vmDir, "501", "disk.qcow2")))["virtual-size"], 1 * GIB);
  });

  it("gives up a freeze that hangs: the copy is crash-consistent and the guest is thawed anyway", async () => {
    const seen: string[] = [];
    freezer = {
      freeze: () => new Promise<number>(() => seen.push("freeze")),
      async thaw() {
        seen.push("thaw");
      },
    };
    const capture = await driver.captureDisk("501", call());
    freezer = undefined;
    assert.equal(capture.consistency, "crash");
    assert.deepEqual(seen, ["freeze", "thaw"]);
    await capture.release();
    assert.deepEqual(backupsLeft("501"), [], "release removes the host's copy");
  });

  it("cancels the job of an aborted copy and leaves neither file nor node behind", async () => {
    const abort = new AbortController();
    freezer = {
      freeze: async () => 0,
      // Aborted while the job runs.
      thaw: async () => abort.abort(new Error("stop")),
    };
    await assert.rejects(driver.captureDisk("501", call({ signal: abort.signal })));
    freezer = undefined;
    assert.deepEqual(backupsLeft("501"), []);
    assert.deepEqual(await inQemu("501"), { jobs: [], nodes: [] });
  });

  it("removes the copy when the abort lands after the job has concluded, while its bytes are read", async () => {
    const abort = new AbortController();
    const progress = (fraction: number) => {
      // The job's end is reported as 1: aborted there, the capture fails in hashing the finished copy.
      if (fraction === 1) abort.abort(new Error("stop"));
    };
    await assert.rejects(driver.captureDisk("501", call({ signal: abort.signal, progress })));
    assert.deepEqual(backupsLeft("501"), []);
    assert.deepEqual(await inQemu("501"), { jobs: [], nodes: [] });
  });

  it("clears the job, node and file a crashed copy left, and copies again", async () => {
    // What a control plane that died mid-copy leaves: a target file and node, and a job still copying (slowly).
    const stale = join(vmDir, "501", "backup-1.qcow2");
    await run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-F",
      "qcow2",
      "-b",
      join(image.dir, IMAGE),
      stale,
      "1G",
    ]);
    const qmp = await QmpClient.connect(join(vmDir, "501", "qmp.sock"));
    try {
      const [drive] = await qmp.execute<{ inserted: { "node-name": string } }[]>("query-block");
      await qmp.execute("blockdev-add", {
        driver: "qcow2",
        "node-name": "backup-1",
        file: { driver: "file", filename: stale },
      });
      await qmp.execute("blockdev-backup", {
        "job-id": "backup-1",
        device: drive?.inserted["node-name"],
        target: "backup-1",
        sync: "full",
        speed: 1,
        "auto-dismiss": false,
      });
    } finally {
      qmp.close();
    }
    assert.deepEqual(await inQemu("501"), { jobs: ["backup-1"], nodes: ["backup-1"] });

    const capture = await driver.captureDisk("501", call());
    assert.equal(existsSync(stale), false);
    assert.equal(backupsLeft("501").length, 1);
    assert.deepEqual(await inQemu("501"), { jobs: [], nodes: [] });
    await capture.release();
  });

  it("copies a stopped VM's disk as it is, filesystem-consistent", async () => {
    await driver.stop("501", call());
    const progress: number[] = [];
    const capture = await driver.captureDisk("501", call({ progress: (f) => progress.push(f) }));
    assert.equal(capture.consistency, "filesystem");
    assert.equal(progress.at(-1), 1);
    const disk = readFileSync(join(vmDir, "501", "disk.qcow2"));
    assert.deepEqual(await bytesOf(capture), disk);
    assert.equal(capture.sha256, createHash("sha256").update(disk).digest("hex"));
    await capture.release();
    await capture.release();
    assert.deepEqual(backupsLeft("501"), []);
  });

  it("resizes a stopped VM: its next start has the new vCPUs and the larger disk, which never shrinks", async () => {
    await driver.resize({ ...spec("501", 2), vcpus: 2 }, call());
    await driver.resize({ ...spec("501", 1), vcpus: 2 }, call());
    assert.equal((await info(join(vmDir, "501", "disk.qcow2")))["virtual-size"], 2 * GIB);
    await boot("501");
    assert.equal(await ssh("501", "cat /sys/block/vda/size"), String((2 * GIB) / 512));
    assert.equal(await ssh("501", "grep -c ^processor /proc/cpuinfo"), "2");
    assert.equal(await guestMarker("501", 100, AFTER.length), AFTER, "the disk kept its bytes");
  });
});
