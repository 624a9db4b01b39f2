import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { MachineStats } from "../../src/drivers/driver.ts";
import { bootToSsh, qemuTestDriver, testImageSpec } from "../support/qemu-test-driver.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { type KeyPair, makeKeyPair, sshTransfer } from "../support/ssh.ts";

const image = qemuTestImage();
const OUT = 20_000_000;
const IN = 10_000_000;

/**
 * A user-mode (slirp) VM's traffic is counted on the host in each direction: data sent from the guest over SSH
 * shows as sent, data piped into it as received, and the totals go on across a restart of the control plane (a
 * new driver over the same VM directory) and of the VM itself.
 */
describe("traffic of a user-mode VM, counted on the host", { skip: image.skip }, () => {
  const vmDir = mkdtempSync(join(tmpdir(), "vps-qemu-traffic-"));
  const call = { signal: AbortSignal.timeout(600_000), log: pino({ level: "silent" }) };
  const id = "4343";
  const newDriver = () => qemuTestDriver(vmDir);
  let driver = newDriver();
  let key: KeyPair;
  let ssh: { host: string; port: number };
  const stats = async (): Promise<MachineStats> => {
    const s = await driver.stats(id, call);
    assert.ok(s, "the VM runs");
    return s;
  };

  before(async () => {
    key = await makeKeyPair();
    await driver.create(
      testImageSpec(id, { hostname: "metered.example.com", sshPublicKey: key.publicKey }),
      call,
    );
    ssh = await bootToSsh(driver, id, key, call);
  });

  after(async () => {
    await driver.destroy(id, call).catch(() => undefined);
    rmSync(vmDir, { recursive: true, force: true });
  });

  it("counts 20 MB the guest sends as sent and 10 MB piped into it as received, not absurdly more", async () => {
    const before = await stats();
    const received = await sshTransfer(ssh.host, ssh.port, key, `head -c ${OUT} /dev/zero`);
    assert.equal(received, OUT);
    const afterOut = await stats();
    await sshTransfer(ssh.host, ssh.port, key, "cat > /dev/null", Buffer.alloc(IN));
    const afterIn = await stats();

    const sent = afterOut.netOutBytes - before.netOutBytes;
    assert.ok(sent >= OUT && sent < OUT * 1.25, `sent ${sent} bytes for ${OUT}`);
    // Sending 20 MB brings back only its TCP acknowledgements.
    assert.ok(afterOut.netInBytes - before.netInBytes < OUT / 10);
    const got = afterIn.netInBytes - afterOut.netInBytes;
    assert.ok(got >= IN && got < IN * 1.25, `received ${got} bytes for ${IN}`);
    assert.ok(afterIn.netOutBytes - afterOut.netOutBytes < IN / 10);
  });

  it("goes on from the same totals in a restarted control plane, counting nothing twice", async () => {
    const before = await stats();
    driver = newDriver();
    const again = await stats();
    assert.ok(again.netInBytes >= before.netInBytes && again.netOutBytes >= before.netOutBytes);
    // Only what the guest exchanged meanwhile (a few packets at most), not the transfers again.
    assert.ok(again.netOutBytes - before.netOutBytes < 1_000_000);
    await sshTransfer(ssh.host, ssh.port, key, `head -c ${OUT} /dev/zero`);
    const afterOut = await stats();
    const sent = afterOut.netOutBytes - again.netOutBytes;
    assert.ok(sent >= OUT && sent < OUT * 1.25, `sent ${sent} bytes for ${OUT}`);
  });

  it("keeps the totals when the VM stops and starts again, where they go on growing", async () => {
    const running = await stats();
    await driver.stop(id, call);
    ssh = await bootToSsh(driver, id, key, call);
    const restarted = await stats();
    assert.ok(restarted.netOutBytes >= running.netOutBytes, "the totals did not start again from zero");
    assert.ok(restarted.netOutBytes - running.netOutBytes < 1_000_000);
    await sshTransfer(ssh.host, ssh.port, key, "cat > /dev/null", Buffer.alloc(IN));
    const got = (await stats()).netInBytes - restarted.netInBytes;
    assert.ok(got >= IN && got < IN * 1.25, `received ${got} bytes for ${IN}`);
  });
});
