import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { qemuTestDriver, testImageSpec } from "../support/qemu-test-driver.ts";
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
    const driver = qemuTestDriver(vmDir, { rebootTimeoutMs: 30_000 });
    return {
      driver,
      spec: (id) => testImageSpec(id, { ipv4: "203.0.113.10" }),
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
