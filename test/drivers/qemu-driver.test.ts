import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { QemuDriver } from "../../src/drivers/qemu/qemu-driver.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { driverContract } from "./driver-contract.ts";

const image = qemuTestImage();

// The same contract as the sim driver, on real VMs booted from the test image under TCG.
if (image.skip) {
  const { it } = await import("node:test");
  it("driver contract: qemu", { skip: image.skip }, () => {});
} else {
  driverContract("qemu", async () => {
    const vmDir = mkdtempSync(join(tmpdir(), "vps-qemu-contract-"));
    const driver = new QemuDriver({
      vmDir,
      imageDir: image.dir,
      qemuBinary: "qemu-system-x86_64",
      qemuImg: "qemu-img",
      isoTool: "genisoimage",
      accel: "tcg",
      network: { mode: "user", hostfwdAddress: "127.0.0.1" },
      rebootTimeoutMs: 30_000,
    });
    return {
      driver,
      spec: (id) => ({
        id,
        hostname: `vm${id}.example.com`,
        vcpus: 1,
        memoryMb: 256,
        storageGb: 2,
        image: "vps-test.qcow2",
        sshPublicKey: null,
        ipv4: "203.0.113.10",
        ipv6: null,
      }),
      async close() {
        const call = {
          signal: AbortSignal.timeout(60_000),
          log: pino({ level: "silent" }),
        };
        for (const id of await driver.list()) await driver.destroy(id, call);
        rmSync(vmDir, { recursive: true, force: true });
      },
    };
  });
}
