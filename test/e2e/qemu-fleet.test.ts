import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, it } from "node:test";
import { promisify } from "node:util";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, eventually, type Json, waitForStatus } from "../support/client.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { freePort } from "../support/spawned-server.ts";
import { type KeyPair, makeKeyPair, sshRun, sshWhenReady } from "../support/ssh.ts";

const run = promisify(execFile);
const image = qemuTestImage();
const IMAGE = "vps-test.qcow2";
const MOUNT = "mount -t vfat /dev/vda1 /mnt";

/**
 * The fleet with real VMs (TCG): a control plane that drives no host itself and two qemu host agents on this
 * machine, each with its own state and VM directories and its own copy of the base image, user-mode networking.
 * A server on each; draining the first moves its running VM to the second, with what was written on its disk.
 */
const hosts: Record<string, { id: number; vmDir: string; imageDir: string }> = {};
const FLEET = {
  prefix: "qemu-fleet",
  skip: image.skip,
  plane: { VPS_LEASE_MS: "10000", VPS_RETRY_BASE_MS: "500" },
  agent: {
    VPS_DRIVER: "qemu",
    VPS_QEMU_ACCEL: "tcg",
    VPS_QEMU_NETWORK: "user",
    VPS_SHUTDOWN_TIMEOUT_MS: "90000",
    VPS_LEASE_MS: "10000",
    VPS_RETRY_BASE_MS: "500",
    VPS_POWER_SYNC_MS: "2000",
    VPS_HOST_DOWN_AFTER_MS: "15000",
  },
  // The VMs are daemonised, no children of the agents: never leave one running behind a failed test.
  stopped: () => {
    for (const host of Object.values(hosts)) {
      for (const vm of existsSync(host.vmDir) ? readdirSync(host.vmDir) : []) {
        try {
          process.kill(Number(readFileSync(join(host.vmDir, vm, "qemu.pid"), "utf8")), "SIGKILL");
        } catch {}
      }
    }
  },
};

agentFleetSuite("a fleet of two qemu agents: drain one, the data survives", FLEET, (fleet) => {
  const { dir } = fleet;
  let admin: Client;
  let owner: Client;
  let key: KeyPair;
  const servers: Record<string, Json> = {};
  let sshKeyId: number;

  before(async () => {
    ({ admin, owner } = fleet);
    key = await makeKeyPair();
  });

  async function addHost(name: string): Promise<void> {
    const { id, token } = await fleet.register(name, "us-west");
    // Each host has its own copy of the base image, as two machines would.
    const imageDir = join(dir, name, "images");
    mkdirSync(imageDir, { recursive: true });
    copyFileSync(join(image.dir, IMAGE), join(imageDir, IMAGE));
    hosts[name] = { id, vmDir: join(dir, name, "vms"), imageDir };
    await fleet.startAgent(join(dir, name, "state"), {
      VPS_JOIN_TOKEN: token,
      VPS_AGENT_TRANSFER_ADDRESS: `127.0.0.1:${await freePort()}`,
      VPS_QEMU_DIR: join(dir, name, "vms"),
      VPS_QEMU_IMAGE_DIR: imageDir,
      // One image store for the fleet: an image taken on one host is restored on another.
      VPS_IMAGE_STORE: join(dir, "image-store"),
    });
  }

  const hostView = async (name: string) => (await admin.get(`/api/v1/admin/hosts/${hosts[name]?.id}/`)).body;
  const setHost = (name: string, action: "enable" | "disable") =>
    admin.post(`/api/v1/admin/hosts/${hosts[name]?.id}/${action}/`);
  const guest = (server: Json, command: string) => sshRun(server.ssh.host, server.ssh.port, key, command);

  it("places a real VM on each of two qemu agents, each reachable over SSH", {
    timeout: 300_000,
  }, async () => {
    await addHost("hv-a");
    await addHost("hv-b");
    const os = await admin.post("/api/v1/admin/os/", {
      name: "VPS test image",
      distribution: "busybox",
      version: "1",
      image: IMAGE,
    });
    assert.equal(os.status, 201, os.text);
    const sshKey = await owner.post("/api/v1/ssh-keys/", { name: "tests", public_key: key.publicKey });
    assert.equal(sshKey.status, 201, sshKey.text);
    sshKeyId = sshKey.body.id;
    // Placement decides in the create's transaction: with only one host enabled, the server goes there.
    const ids: Record<string, number> = {};
    for (const [name, other] of [
      ["hv-a", "hv-b"],
      ["hv-b", "hv-a"],
    ] as const) {
      await setHost(name, "enable");
      await setHost(other, "disable");
      const created = await owner.post("/api/v1/servers/", {
        name: `on-${name}`,
        plan_id: 3,
        os_id: os.body.id,
        location: "us-west",
        hostname: `on-${name}.example.com`,
        ssh_key_id: sshKey.body.id,
      });
      assert.equal(created.status, 201, created.text);
      ids[name] = created.body.id;
    }
    await setHost("hv-a", "enable");
    for (const name of ["hv-a", "hv-b"]) {
      const id = ids[name] as number;
      servers[name] = await waitForStatus(owner, id, "active", 180_000);
      assert.equal((await hostView(name)).server_count, 1);
      assert.ok(existsSync(join(hosts[name]?.vmDir as string, String(id), "vm.json")));
      const ssh = servers[name].ssh;
      assert.equal(await sshWhenReady(ssh.host, ssh.port, key, "hostname"), `on-${name}.example.com`);
    }
    assert.notEqual(servers["hv-a"].ssh.port, servers["hv-b"].ssh.port);
  });

  it("drains host A: its running VM moves to B with the file written before the move, and A is left empty", {
    timeout: 300_000,
  }, async () => {
    const server = servers["hv-a"];
    assert.ok(server, "the first test made a server on hv-a");
    const content = randomBytes(24).toString("hex");
    // The test guest runs from RAM: the file goes on its disk's FAT partition (the one it boots from).
    await guest(server, `${MOUNT} && echo ${content} > /mnt/before-the-move && sync && umount /mnt`);

    const drained = await admin.post(`/api/v1/admin/hosts/${hosts["hv-a"]?.id}/drain/`);
    assert.equal(drained.status, 200, drained.text);
    assert.deepEqual(drained.body.migrations, { queued: 1, refused: [] });
    // The database is fresh: the drain's migration is the first one.
    const migration = await eventually(
      async () => {
        const m = (await admin.get("/api/v1/admin/migrations/1/")).body;
        return m.state === "running" ? undefined : m;
      },
      240_000,
      "the migration's end",
    );
    assert.equal(migration.state, "succeeded", JSON.stringify(migration));
    assert.deepEqual(
      [migration.server_id, migration.source_host_id, migration.target_host_id],
      [server.id, hosts["hv-a"]?.id, hosts["hv-b"]?.id],
    );
    const moved = await waitForStatus(owner, server.id, "active", 120_000);
    assert.deepEqual(
      [moved.id, moved.ip_address, moved.ipv6_address],
      [server.id, server.ip_address, server.ipv6_address],
    );
    assert.equal(moved.ssh.host, "127.0.0.1");
    assert.equal(
      await sshWhenReady(moved.ssh.host, moved.ssh.port, key, `${MOUNT} && cat /mnt/before-the-move`),
      content,
    );

    // The overlay moved, and on B it is layered on B's own copy of the base image.
    const disk = join(hosts["hv-b"]?.vmDir as string, String(server.id), "disk.qcow2");
    const { stdout } = await run("qemu-img", ["info", "--output=json", "--force-share", disk]);
    const info = JSON.parse(stdout);
    assert.equal(info["backing-filename"], join(hosts["hv-b"]?.imageDir as string, IMAGE));
    assert.equal(info.format, "qcow2");

    // The old copy is destroyed on A, and A holds nothing: it can be deleted.
    const vmOnA = join(hosts["hv-a"]?.vmDir as string, String(server.id));
    await eventually(async () => (existsSync(vmOnA) ? undefined : true), 60_000, "A's copy to go");
    const a = await hostView("hv-a");
    assert.deepEqual(
      [a.server_count, a.allocated.vcpus, a.allocated.memory_mb, a.allocated.disk_gb],
      [0, 0, 0, 0],
    );
    const b = await hostView("hv-b");
    assert.equal(b.server_count, 2);
    const deleted = await eventually(
      async () => {
        const res = await admin.delete(`/api/v1/admin/hosts/${hosts["hv-a"]?.id}/`);
        return res.status === 204 ? res : undefined;
      },
      30_000,
      "host A's delete",
    );
    assert.equal(deleted.status, 204);
    // The server that was on B all along is untouched.
    assert.equal(await guest(servers["hv-b"], "hostname"), "on-hv-b.example.com");
  });

  it("snapshots a running VM on B and restores it as a new server on another host, C, with its files", {
    timeout: 300_000,
  }, async () => {
    const source = servers["hv-b"];
    assert.ok(source, "the first test made a server on hv-b");
    const content = randomBytes(24).toString("hex");
    await guest(source, `echo ${content} > /data/snapshotted && sync`);
    const snap = await owner.post(`/api/v1/servers/${source.id}/create_image/`, { name: "from-b" });
    assert.equal(snap.status, 200, snap.text);
    const made = (await owner.get(`/api/v1/actions/${snap.body.action_id}/?wait=60`)).body;
    assert.equal(made.status, "success", JSON.stringify(made));
    const image = (await owner.get(`/api/v1/images/${snap.body.image.id}/`)).body;
    assert.equal(image.status, "available");
    // The guest runs qemu-guest-agent: its filesystems were frozen for the copy.
    assert.equal(image.consistency, "filesystem");

    await addHost("hv-c");
    await setHost("hv-b", "disable");
    const created = await owner.post("/api/v1/servers/", {
      name: "restored-on-c",
      plan_id: 3,
      os_id: image.os_id,
      image_id: image.id,
      location: "us-west",
      ssh_key_id: sshKeyId,
    });
    await setHost("hv-b", "enable");
    assert.equal(created.status, 201, created.text);
    const restored = await waitForStatus(owner, created.body.id, "active", 180_000);
    assert.ok(existsSync(join(hosts["hv-c"]?.vmDir as string, String(restored.id), "vm.json")));
    assert.equal(
      await sshWhenReady(restored.ssh.host, restored.ssh.port, key, "cat /data/snapshotted"),
      content,
    );
  });
});
