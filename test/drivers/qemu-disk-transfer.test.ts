import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { pino } from "pino";
import { qemuTestDriver, testImageSpec } from "../support/qemu-test-driver.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";

const run = promisify(execFile);
const image = qemuTestImage();
const IMAGE = "vps-test.qcow2";

// A migrating qemu disk between two hosts' drivers (no VM is booted): the overlay as it is on the source, its
// checksum that of the bytes sent, and on the target the same overlay on the target's own base image.
describe("qemu driver: a disk exported on one host and imported on another", { skip: image.skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-qemu-disk-"));
  const call = () => ({ signal: AbortSignal.timeout(60_000), log: pino({ level: "silent" }) });
  const host = (name: string) => {
    const imageDir = join(dir, name, "images");
    mkdirSync(imageDir, { recursive: true });
    copyFileSync(join(image.dir, IMAGE), join(imageDir, IMAGE));
    const vmDir = join(dir, name, "vms");
    const driver = qemuTestDriver(vmDir, { imageDir });
    return { driver, vmDir, imageDir };
  };
  const a = host("a");
  const b = host("b");
  const spec = testImageSpec("42", { ipv4: "203.0.113.10" });
  const info = async (path: string) =>
    JSON.parse((await run("qemu-img", ["info", "--output=json", "--force-share", path])).stdout);

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exports the overlay with its size and the sha256 of the bytes it reads", async () => {
    await a.driver.create(spec, call());
    const disk = await a.driver.exportDisk(spec.id, call());
    const file = readFileSync(join(a.vmDir, spec.id, "disk.qcow2"));
    const sent: Buffer[] = [];
    for await (const chunk of disk.read()) sent.push(Buffer.from(chunk));
    assert.deepEqual(Buffer.concat(sent), file);
    assert.equal(disk.size, file.length);
    assert.equal(disk.sha256, createHash("sha256").update(file).digest("hex"));
  });

  it("imports it stopped on the target, layered on the target's own base image", async () => {
    const disk = await a.driver.exportDisk(spec.id, call());
    await b.driver.importDisk(spec, { ...disk, chunks: disk.read() }, call());
    assert.deepEqual(await b.driver.list(), [spec.id]);
    assert.equal(await b.driver.info(spec.id), "stopped");
    const moved = await info(join(b.vmDir, spec.id, "disk.qcow2"));
    assert.equal(moved["backing-filename"], join(b.imageDir, IMAGE));
    assert.equal(moved["virtual-size"], 2 * 2 ** 30);
    assert.equal(
      (await info(join(a.vmDir, spec.id, "disk.qcow2")))["backing-filename"],
      join(a.imageDir, IMAGE),
    );
  });

  it("refuses a disk whose bytes are not the ones exported, and defines nothing", async () => {
    await b.driver.destroy(spec.id, call());
    const disk = await a.driver.exportDisk(spec.id, call());
    async function* altered() {
      for await (const chunk of disk.read()) yield Buffer.from(chunk).fill(0, 0, 1);
    }
    await assert.rejects(b.driver.importDisk(spec, { ...disk, chunks: altered() }, call()), {
      code: "checksum_mismatch",
    });
    assert.deepEqual(await b.driver.list(), []);
  });

  it("fails an import whose copy cannot be written, instead of crashing", async () => {
    const disk = await a.driver.exportDisk(spec.id, call());
    // Where the copy is written, a directory: the write fails as on a full or broken disk.
    mkdirSync(join(b.vmDir, spec.id, "disk.qcow2.part"), { recursive: true });
    await assert.rejects(b.driver.importDisk(spec, { ...disk, chunks: disk.read() }, call()), {
      code: "EISDIR",
    });
    assert.deepEqual(await b.driver.list(), []);
  });
});
