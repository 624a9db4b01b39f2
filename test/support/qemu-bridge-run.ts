// Runs inside a network namespace made by test/drivers/qemu-bridge.test.ts: one VM on the namespace's bridge
// through the qemu driver in bridge mode, reached over SSH at its own address. Prints what it saw as JSON.
import { existsSync } from "node:fs";
import { pino } from "pino";
import { QemuDriver } from "../../src/drivers/qemu/qemu-driver.ts";
import { sshTransfer, sshWhenReady } from "./ssh.ts";

const [vmDir, imageDir, privateKeyPath, publicKey] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const key = { privateKeyPath, publicKey };
const driver = new QemuDriver({
  vmDir,
  imageDir,
  qemuBinary: "qemu-system-x86_64",
  qemuImg: "qemu-img",
  isoTool: "genisoimage",
  accel: "tcg",
  network: {
    mode: "bridge",
    bridge: "br0",
    ipv4Prefix: 24,
    ipv4Gateway: "203.0.113.1",
    ipv6Prefix: 64,
    ipv6Gateway: "2001:db8:1::1",
    nameservers: ["203.0.113.53"],
  },
});
const call = { signal: AbortSignal.timeout(300_000), log: pino({ level: "silent" }) };
const id = "4242";
try {
  await driver.create(
    {
      id,
      hostname: "bridged.example.com",
      vcpus: 1,
      memoryMb: 256,
      storageGb: 2,
      image: "vps-test.qcow2",
      sshPublicKey: publicKey,
      ipv4: "203.0.113.10",
      ipv6: "2001:db8:1::a",
    },
    call,
  );
  await driver.start(id, call);
  const endpoint = await driver.endpoint(id);
  const tapOnBridge = existsSync("/sys/class/net/br0/brif/vps4242");
  const hostname = await sshWhenReady("203.0.113.10", 22, key, "hostname");
  const addresses = await sshWhenReady("203.0.113.10", 22, key, "ip -o addr show dev eth0");
  // A known amount each way: 5 MB out of the guest, 3 MB into it.
  const before = await driver.stats(id, call);
  await sshTransfer("203.0.113.10", 22, key, "head -c 5000000 /dev/zero");
  await sshTransfer("203.0.113.10", 22, key, "cat > /dev/null", Buffer.alloc(3_000_000));
  const stats = await driver.stats(id, call);
  const moved = before &&
    stats && [stats.netInBytes - before.netInBytes, stats.netOutBytes - before.netOutBytes];
  await driver.destroy(id, call);
  const tapAfterDelete = existsSync("/sys/class/net/vps4242");
  console.log(
    JSON.stringify({
      endpoint,
      tapOnBridge,
      hostname,
      addresses,
      moved,
      tapAfterDelete,
    }),
  );
} catch (err) {
  await driver.destroy(id, call).catch(() => undefined);
  throw err;
}
