import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { pino } from "pino";
import { GuestAgentClient, GuestAgentError } from "../../src/drivers/qemu/guest-agent-client.ts";
import type { QemuDriver } from "../../src/drivers/qemu/qemu-driver.ts";
import { checkDataFilesystem, readDataFile } from "../support/guest-filesystem.ts";
import { bootToSsh, qemuTestDriver, testImageSpec } from "../support/qemu-test-driver.ts";
import { qemuAvailable, qemuTestImage } from "../support/qemu-test-image.ts";
import { type KeyPair, makeKeyPair, sshRun } from "../support/ssh.ts";

const run = promisify(execFile);
const image = qemuTestImage();
const call = () => ({ signal: AbortSignal.timeout(120_000), log: pino({ level: "silent" }) });

// One VM booted from the test image under TCG for the whole file: its /data and its guest agent, in the
// order a backup uses them (write, freeze, thaw, shut down, read the disk on the host).
describe("the test image's /data and guest agent, on a real VM", { skip: image.skip }, () => {
  const id = "31";
  let dir: string;
  let driver: QemuDriver;
  let key: KeyPair;
  let ssh: (command: string) => Promise<string>;
  let qga: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-qemu-qga-"));
    driver = qemuTestDriver(dir);
    key = await makeKeyPair();
    await driver.create(
      testImageSpec(id, { hostname: "data.example.com", sshPublicKey: key.publicKey }),
      call(),
    );
    const endpoint = await bootToSsh(driver, id, key, call());
    ssh = (command) => sshRun(endpoint.host, endpoint.port, key, command);
    qga = join(dir, id, "qga.sock");
  });

  after(async () => {
    await driver?.destroy(id, call());
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("mounts /data read-write as ext4, where a written file reaches the disk", async () => {
    const mount = await ssh("grep ' /data ' /proc/mounts");
    assert.match(mount, /^\/dev\/vda2 \/data ext4 rw[, ]/);
    await ssh("echo hello > /data/hello && sync");
    assert.equal(await ssh("cat /data/hello"), "hello");
  });

  it("runs a guest agent that answers ping and reports the filesystems thawed", async () => {
    await GuestAgentClient.with(qga, async (agent) => {
      await agent.ping();
      assert.equal(await agent.fsfreezeStatus(), "thawed");
    });
  });

  it("answers a new client although an earlier one left half a request in the channel", async () => {
    // Without the 0xFF the sync sends first, the agent would read the rest of this request as its own.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(qga).on("error", reject);
      socket.write('{"execute": "guest-fsfreeze-st', () => {
        socket.end();
        resolve();
      });
    });
    await GuestAgentClient.with(qga, async (agent) => {
      assert.equal(await agent.fsfreezeStatus(), "thawed");
    });
  });

  it("freezes /data: a write in the guest waits until the thaw, then completes", async () => {
    const frozen = await GuestAgentClient.with(qga, (agent) => agent.fsfreezeFreeze(30_000));
    try {
      assert.ok(frozen >= 1, `froze ${frozen} filesystems`);
      await GuestAgentClient.with(qga, async (agent) => {
        assert.equal(await agent.fsfreezeStatus(), "frozen");
      });
      // In the background, detached from the SSH session, which would otherwise wait for it.
      await ssh("rm -f /tmp/written; (echo x > /data/f && touch /tmp/written) </dev/null >/dev/null 2>&1 &");
      // The write started; a frozen filesystem holds it however long we look.
      await sleep(1000);
      assert.equal(await ssh("test -e /tmp/written && echo written || echo waiting"), "waiting");
    } finally {
      const thawed = await GuestAgentClient.with(qga, (agent) => agent.fsfreezeThaw(30_000));
      assert.ok(thawed >= 1, `thawed ${thawed} filesystems`);
    }
    await GuestAgentClient.with(qga, async (agent) => {
      assert.equal(await agent.fsfreezeStatus(), "thawed");
    });
    assert.equal(await until(() => ssh("test -e /tmp/written && cat /data/f || echo waiting"), "x"), "x");
  });

  it("shuts down gracefully while a process writes in /data, leaving it clean with the files written", async () => {
    // A writer with its working directory and an open file on /data keeps it busy until the guest stops it.
    await ssh(
      "sh -c 'cd /data; exec 3>>ticks; while :; do echo tick >&3; sleep 0.2; done' </dev/null >/dev/null 2>&1 &",
    );
    assert.equal(
      await until(() => ssh("test -s /data/ticks && echo ticking || echo waiting"), "ticking"),
      "ticking",
    );
    await driver.shutdown(id, { timeoutMs: 60_000 }, call());
    assert.equal(await driver.info(id), "stopped");
    const disk = join(dir, id, "disk.qcow2");
    const check = await checkDataFilesystem(disk);
    assert.ok(check.clean, check.output);
    assert.equal(check.needsRecovery, false, "the guest unmounts /data before it powers off");
    assert.equal(await readDataFile(disk, "hello"), "hello\n");
    assert.equal(await readDataFile(disk, "f"), "x\n");
    assert.match(await readDataFile(disk, "ticks"), /^(tick\n)+$/);
  });
});

// QEMU accepts the agent's channel whether or not an agent reads it (QEMU issue 520): a guest without one,
// here a machine that never runs (-S), must not hang the caller.
describe("the guest agent client when no agent answers", { skip: qemuAvailable() }, () => {
  let dir: string;
  let pid: number | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-qga-absent-"));
    await run("qemu-system-x86_64", [
      "-machine",
      "pc",
      "-accel",
      "tcg",
      "-S",
      "-nodefaults",
      "-display",
      "none",
      "-chardev",
      `socket,id=qga0,path=${join(dir, "qga.sock")},server=on,wait=off`,
      "-device",
      "virtio-serial-pci",
      "-device",
      "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
      "-daemonize",
      "-pidfile",
      join(dir, "qemu.pid"),
    ]);
    pid = Number(readFileSync(join(dir, "qemu.pid"), "utf8").trim());
  });

  after(() => {
    if (pid) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives up with guest_agent_unavailable after its timeout", async () => {
    assert.ok(existsSync(join(dir, "qga.sock")));
    await assert.rejects(
      GuestAgentClient.connect(join(dir, "qga.sock"), { timeoutMs: 1000 }),
      (error: unknown) => error instanceof GuestAgentError && error.code === "guest_agent_unavailable",
    );
  });

  it("answers guest_agent_unavailable when the socket is not there", async () => {
    await assert.rejects(
      GuestAgentClient.connect(join(dir, "none.sock"), { timeoutMs: 60_000 }),
      (error: unknown) => error instanceof GuestAgentError && error.code === "guest_agent_unavailable",
    );
  });
});

/** Retries `read` until it returns `want`, or returns its last answer after 30 s. */
async function until(read: () => Promise<string>, want: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last = await read();
  while (last !== want && Date.now() < deadline) {
    await sleep(250);
    last = await read();
  }
  return last;
}
