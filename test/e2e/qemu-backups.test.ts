import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, type Json, waitForStatus } from "../support/client.ts";
import { checkDataFilesystem, readDataFile } from "../support/guest-filesystem.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { type KeyPair, makeKeyPair, sshRun, sshWhenReady } from "../support/ssh.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const image = qemuTestImage();

/**
 * Snapshots, rebuilds and backups of real VMs (qemu driver, TCG) through the API: the guest runs
 * qemu-guest-agent and has an ext4 filesystem on its disk at /data, so what a test writes there is on the disk
 * that is copied.
 */
describe("snapshots, rebuilds and restores of real VMs (qemu)", { skip: image.skip }, () => {
  let t: TestApp;
  let api: Client;
  // The days of the daily backups pass at once.
  const clock = new SettableClock();
  let key: KeyPair;
  let osId: number;
  let sshKeyId: number;
  const vms = mkdtempSync(join(tmpdir(), "vps-qemu-backups-"));
  const vmDir = () => vms;

  before(async () => {
    key = await makeKeyPair();
    t = await startTestApp(
      {
        VPS_DRIVER: "qemu",
        VPS_QEMU_ACCEL: "tcg",
        VPS_QEMU_IMAGE_DIR: image.dir,
        VPS_QEMU_DIR: vms,
        VPS_SHUTDOWN_TIMEOUT_MS: "90000",
        VPS_SIM_DELAY_MS: "0",
      },
      clock,
    );
    api = t.owner;
    const os = await t.admin.post("/api/v1/admin/os/", {
      name: "VPS test image",
      distribution: "busybox",
      version: "1",
      image: "vps-test.qcow2",
    });
    assert.equal(os.status, 201, os.text);
    osId = os.body.id;
    const sshKey = await api.post("/api/v1/ssh-keys/", { name: "tests", public_key: key.publicKey });
    assert.equal(sshKey.status, 201, sshKey.text);
    sshKeyId = sshKey.body.id;
    // Enough credit for every server the tests make.
    await t.admin.post("/api/v1/admin/accounts/1/credit/", { amount: "1000.00" });
  });

  after(async () => {
    // The VMs are daemonised: never leave one running behind a failed test.
    const dir = vmDir();
    for (const vm of existsSync(dir) ? readdirSync(dir) : []) {
      try {
        process.kill(Number(readFileSync(join(dir, vm, "qemu.pid"), "utf8")), "SIGKILL");
      } catch {}
    }
    await t?.close();
    rmSync(vms, { recursive: true, force: true });
  });

  const guest = (server: Json, command: string) => sshRun(server.ssh.host, server.ssh.port, key, command);
  const ended = async (actionId: number): Promise<Json> => {
    for (;;) {
      const action = (await api.get(`/api/v1/actions/${actionId}/?wait=60`)).body;
      if (action.status !== "pending" && action.status !== "running") return action;
    }
  };
  async function create(name: string, extra: Record<string, unknown> = {}): Promise<Json> {
    const created = await api.post("/api/v1/servers/", {
      name,
      plan_id: 3,
      os_id: osId,
      location: "us-west",
      ssh_key_id: sshKeyId,
      ...extra,
    });
    assert.equal(created.status, 201, created.text);
    const server = await waitForStatus(api, created.body.id, "active", 180_000);
    await sshWhenReady(server.ssh.host, server.ssh.port, key, "true");
    return server;
  }
  async function snapshot(server: Json, name: string): Promise<Json> {
    const res = await api.post(`/api/v1/servers/${server.id}/create_image/`, { name });
    assert.equal(res.status, 200, res.text);
    const action = await ended(res.body.action_id);
    assert.equal(action.status, "success", JSON.stringify(action));
    assert.equal(action.progress, 100);
    const made = (await api.get(`/api/v1/images/${res.body.image.id}/`)).body;
    assert.equal(made.status, "available");
    return made;
  }

  let first: Json;

  it("writes a file, snapshots, changes the file, rebuilds from the snapshot: the file is as it was", {
    timeout: 400_000,
  }, async () => {
    first = await create("snap-me");
    await guest(first, "echo as-it-was > /data/file && sync");
    const snap = await snapshot(first, "before-the-change");
    // The guest runs qemu-guest-agent: its filesystems were frozen for the copy.
    assert.equal(snap.consistency, "filesystem");
    assert.ok(snap.size_bytes > 0);

    await guest(first, "echo changed > /data/file && sync");
    assert.equal(await guest(first, "cat /data/file"), "changed");

    const rebuild = await api.post(`/api/v1/servers/${first.id}/rebuild/`, { image_id: snap.id });
    assert.equal(rebuild.status, 200, rebuild.text);
    assert.equal((await ended(rebuild.body.action_id)).status, "success");
    const rebuilt = await waitForStatus(api, first.id, "active", 180_000);
    // Same server, same addresses.
    assert.deepEqual([rebuilt.id, rebuilt.ip_address], [first.id, first.ip_address]);
    assert.equal(await sshWhenReady(rebuilt.ssh.host, rebuilt.ssh.port, key, "cat /data/file"), "as-it-was");
    first = rebuilt;
  });

  it("copies a VM while a process in it writes continuously; the copy restored into a new server boots and its filesystem checks clean", {
    timeout: 400_000,
  }, async () => {
    assert.ok(first, "the first test made a server");
    // A writer that appends numbered lines without pause, detached from the SSH session.
    await guest(
      first,
      "sh -c 'trap \"\" HUP; i=0; while true; do echo line-$i >> /data/log; i=$((i+1)); done' </dev/null >/dev/null 2>&1 & echo $! > /tmp/writer.pid",
    );
    await guest(first, "sleep 2; test -s /data/log");
    const enabled = await api.patch(`/api/v1/servers/${first.id}/`, { backups_enabled: true });
    assert.equal(enabled.status, 200, enabled.text);
    const backup = await api.post(`/api/v1/servers/${first.id}/backup/`);
    assert.equal(backup.status, 200, backup.text);
    const action = await ended(backup.body.action_id);
    assert.equal(action.status, "success", JSON.stringify(action));
    assert.equal(action.command, "backup");
    const copy = (await api.get(`/api/v1/images/${action.image_id}/`)).body;
    assert.deepEqual([copy.type, copy.status, copy.consistency], ["backup", "available", "filesystem"]);
    // The writer went on writing all along.
    const growing = "a=$(wc -l < /data/log); sleep 1; b=$(wc -l < /data/log); test $b -gt $a && echo writing";
    assert.equal(await guest(first, growing), "writing");

    const restored = await create("restored", { image_id: copy.id });
    const lines = (await guest(restored, "cat /data/log")).split("\n");
    assert.ok(lines.length > 1, "the copy has the writer's lines");
    // Every line is whole and in order: line-0, line-1, ...
    assert.deepEqual(
      lines,
      lines.map((_, i) => `line-${i}`),
    );

    // Shut down gracefully, then check the restored disk's filesystem on the host.
    const stop = await api.post(`/api/v1/servers/${restored.id}/stop/`);
    assert.equal(stop.status, 200, stop.text);
    await waitForStatus(api, restored.id, "stopped", 180_000);
    const disk = join(vmDir(), String(restored.id), "disk.qcow2");
    const fsck = await checkDataFilesystem(disk);
    assert.ok(fsck.clean, fsck.output);
    assert.equal(fsck.needsRecovery, false, fsck.output);
    assert.equal((await readDataFile(disk, "log")).split("\n")[0], "line-0");
    await guest(first, "kill $(cat /tmp/writer.pid)");
  });

  it("backs the VM up every day in the window and keeps seven: each new backup beyond them evicts the oldest", {
    timeout: 400_000,
  }, async () => {
    assert.ok(first, "the first test made a server with backups on");
    const backups = async (): Promise<Json[]> =>
      (await api.get(`/api/v1/images/?type=backup&server_id=${first.id}&page_size=50`)).body.results;
    const before = await backups();
    assert.equal(before.length, 1, "the backup the second test took");
    const made: number[] = [before[0].id];
    for (let day = 1; day <= 8; day++) {
      const server = await t.app.repos.servers.findById(first.id);
      const due = Date.parse(server?.backup_next_at ?? "");
      assert.ok(Number.isFinite(due), "backups on: the next one is scheduled");
      clock.advance(Math.max(0, due - clock.now().getTime()) + 1000);
      assert.equal((await t.app.engine.backups.runOnce()).queued, 1, `day ${day}: one backup queued`);
      const newest = (await backups())[0];
      assert.equal((await ended(newest.operation_id ?? (await actionOf(newest.id)))).status, "success");
      made.push(newest.id);
      // The next slot is a day later, at the same offset in the window.
      const next = Date.parse((await t.app.repos.servers.findById(first.id))?.backup_next_at ?? "");
      assert.equal(next - due, 86_400_000);
    }
    // Retention runs with the scheduler: the newest seven stay, the two oldest go, bytes and all.
    await t.app.engine.backups.runOnce();
    const kept = await backups();
    assert.deepEqual(
      kept.map((b: Json) => b.id),
      made.slice(-7).reverse(),
    );
    for (const gone of made.slice(0, 2)) {
      assert.equal((await api.get(`/api/v1/images/${gone}/`)).status, 404);
      const row = await t.app.repos.images.findById(gone);
      assert.ok(row?.deleted_at, "deleted");
      assert.equal(await t.app.store.stat(row.store_key), null, "its bytes are gone from the store");
    }
    // Every kept backup restores: the newest is on the store whole.
    const newest = await t.app.repos.images.findById(made.at(-1) as number);
    assert.ok(newest && (await t.app.store.stat(newest.store_key)));
  });

  /** The action that made an image (the newest backup action of the server). */
  async function actionOf(imageId: number): Promise<number> {
    const list = (await api.get(`/api/v1/servers/${first.id}/actions/?page_size=50`)).body.results;
    const action = list.find((a: Json) => a.image_id === imageId);
    assert.ok(action, `the action of image ${imageId}`);
    return action.id;
  }
});
