import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { makeKeyPair } from "../support/ssh.ts";

const run = promisify(execFile);
const image = qemuTestImage();
const namespace = `vpsbr${process.pid}`;
const skip =
  image.skip || (process.getuid?.() !== 0 ? "bridge mode needs root to make a network namespace" : false);

/**
 * Bridge mode for real hosts, proven in a network namespace this test makes: a bridge carrying the location's
 * prefix, a tap per VM joined to it, the server's own addresses configured by cloud-init, SSH at its address.
 */
describe("the qemu driver on a bridged network", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-bridge-"));
  const ns = (...args: string[]) => run("ip", ["netns", "exec", namespace, ...args]);

  before(async () => {
    await run("ip", ["netns", "add", namespace]);
    await ns("ip", "link", "set", "lo", "up");
    await ns("ip", "link", "add", "br0", "type", "bridge");
    await ns("ip", "addr", "add", "203.0.113.1/24", "dev", "br0");
    await ns("ip", "addr", "add", "2001:db8:1::1/64", "dev", "br0", "nodad");
    await ns("ip", "link", "set", "br0", "up");
  });

  after(async () => {
    await run("ip", ["netns", "del", namespace]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("puts the VM on the bridge with its own addresses and reaches its SSH server there", async () => {
    const key = await makeKeyPair();
    const script = join(import.meta.dirname, "..", "support", "qemu-bridge-run.ts");
    const { stdout } = await ns(
      process.execPath,
      "--disable-warning=ExperimentalWarning",
      script,
      join(dir, "vms"),
      image.dir,
      key.privateKeyPath,
      key.publicKey,
    );
    const seen = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    assert.deepEqual(seen.endpoint, { host: "203.0.113.10", port: 22 });
    assert.equal(seen.tapOnBridge, true, "the VM's tap joined the bridge");
    assert.equal(seen.hostname, "bridged.example.com");
    assert.match(seen.addresses, /inet 203\.0\.113\.10\/24/);
    assert.match(seen.addresses, /inet6 2001:db8:1::a\/64/);
    // Traffic each way from the tap's counters: 5 MB sent and 3 MB received, with SSH's overhead, not much more.
    const [received, sent] = seen.moved;
    assert.ok(sent >= 5_000_000 && sent < 6_250_000, `sent ${sent}`);
    assert.ok(received >= 3_000_000 && received < 3_750_000, `received ${received}`);
    assert.equal(seen.tapAfterDelete, false, "delete removes the tap");
  });
});
