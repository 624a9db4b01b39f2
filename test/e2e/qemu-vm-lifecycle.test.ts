import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processAlive } from "../../src/drivers/process-alive.ts";
import { type Client, client, eventually, waitForStatus } from "../support/client.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { type SpawnedServer, spawnServer } from "../support/spawned-server.ts";
import { type KeyPair, makeKeyPair, sshRun, sshWhenReady } from "../support/ssh.ts";
import { dropDatabase, freshDatabaseUrl, inspectDatabase } from "../support/test-database.ts";

const TOKEN = "qemu-owner-token-0123456789abcdef";
const ADMIN = "qemu-admin-token-0123456789abcdef";
const HOSTNAME = "vm01.example.com";
const image = qemuTestImage();

/**
 * A real virtual machine through the HTTP API, under TCG: created with an SSH key, logged into with the
 * matching private key, stopped, started, rebooted, kept running across a SIGKILL of the control plane,
 * and deleted with nothing left behind.
 */
describe("a real VM through the API (qemu driver)", { skip: image.skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-qemu-"));
  const env = {
    DATABASE_URL: "",
    VPS_BOOTSTRAP_TOKEN: TOKEN,
    VPS_ADMIN_TOKEN: ADMIN,
    VPS_DRIVER: "qemu",
    VPS_QEMU_ACCEL: "tcg",
    VPS_QEMU_DIR: join(dir, "vms"),
    VPS_QEMU_IMAGE_DIR: image.dir,
    VPS_SHUTDOWN_TIMEOUT_MS: "90000",
    VPS_POWER_SYNC_MS: "2000",
  };
  let server: SpawnedServer;
  let api: Client;
  let key: KeyPair;
  let id: number;
  let ssh: { host: string; port: number };
  const vmDir = () => join(env.VPS_QEMU_DIR, String(id));
  const qemuPid = () => Number(readFileSync(join(vmDir(), "qemu.pid"), "utf8"));
  const guest = (command: string) => sshRun(ssh.host, ssh.port, key, command);

  before(async () => {
    key = await makeKeyPair();
    env.DATABASE_URL = await freshDatabaseUrl(dir);
    server = await spawnServer(env);
    api = client(server.url, TOKEN);
  });

  after(async () => {
    if (id && existsSync(vmDir())) {
      // Never leave a VM running behind a failed test.
      try {
        process.kill(qemuPid(), "SIGKILL");
      } catch {}
    }
    server.child.kill("SIGTERM");
    await server.exited;
    await dropDatabase(env.DATABASE_URL);
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates a server from the test image with an SSH key; it becomes active and answers SSH with its hostname", async () => {
    const os = await client(server.url, ADMIN).post("/api/v1/admin/os/", {
      name: "VPS test image",
      distribution: "busybox",
      version: "1",
      image: "vps-test.qcow2",
    });
    assert.equal(os.status, 201, os.text);
    const sshKey = await api.post("/api/v1/ssh-keys/", { name: "tests", public_key: key.publicKey });
    assert.equal(sshKey.status, 201, sshKey.text);
    const created = await api.post("/api/v1/servers/", {
      name: "vm01",
      plan_id: 3,
      os_id: os.body.id,
      location: "us-west",
      hostname: HOSTNAME,
      ssh_key_id: sshKey.body.id,
    });
    assert.equal(created.status, 201, created.text);
    id = created.body.id;

    const active = await waitForStatus(api, id, "active", 120_000);
    assert.equal(active.ssh.host, "127.0.0.1");
    ssh = active.ssh;
    assert.ok(processAlive(qemuPid()), "active means the VM is running");
    assert.equal(await sshWhenReady(ssh.host, ssh.port, key, "hostname"), HOSTNAME);
  });

  it("stops gracefully: the guest powers itself off and the QEMU process exits", async () => {
    const pid = qemuPid();
    assert.equal((await api.post(`/api/v1/servers/${id}/stop/`)).status, 200);
    await waitForStatus(api, id, "stopped", 120_000);
    assert.equal(processAlive(pid), false);
    assert.match(readFileSync(join(vmDir(), "console.log"), "utf8"), /reboot: Power down/);
  });

  it("starts again and answers SSH", async () => {
    assert.equal((await api.post(`/api/v1/servers/${id}/start/`)).status, 200);
    const active = await waitForStatus(api, id, "active", 120_000);
    ssh = active.ssh;
    assert.equal(await sshWhenReady(ssh.host, ssh.port, key, "hostname"), HOSTNAME);
  });

  it("reboots: the guest's uptime starts again, in the same QEMU process", async () => {
    const pid = qemuPid();
    await new Promise((r) => setTimeout(r, 3000));
    const before = Number((await guest("cat /proc/uptime")).split(" ")[0]);
    const asked = Date.now();
    assert.equal((await api.post(`/api/v1/servers/${id}/reboot/`)).status, 200);
    await waitForStatus(api, id, "active", 120_000);
    const uptime = Number((await sshWhenReady(ssh.host, ssh.port, key, "cat /proc/uptime")).split(" ")[0]);
    assert.ok(uptime < before + (Date.now() - asked) / 1000 - 1, `uptime ${uptime} s after ${before} s`);
    assert.ok(uptime <= (Date.now() - asked) / 1000, "the guest booted after the reboot was asked");
    assert.equal(qemuPid(), pid);
  });

  it("keeps the VM running and active when the control plane is killed and restarted", async () => {
    const pid = qemuPid();
    server.child.kill("SIGKILL");
    await server.exited;
    assert.ok(processAlive(pid), "the VM outlives the control plane");
    server = await spawnServer(env, Number(new URL(server.url).port));
    api = client(server.url, TOKEN);
    // Let a power sync (every 2 s here) compare the VM with the database after the restart.
    await new Promise((r) => setTimeout(r, 3000));
    const detail = (await api.get(`/api/v1/servers/${id}/`)).body;
    assert.equal(detail.status, "active");
    assert.equal(await guest("hostname"), HOSTNAME);
    // Usage measured on the real VM: the QEMU process's CPU time and memory, the overlay's allocated size.
    const usage = detail.resource_usage;
    assert.ok(usage.cpu_percent >= 0 && usage.cpu_percent <= 100, `cpu_percent ${usage.cpu_percent}`);
    assert.ok(
      usage.memory_used > 0 && usage.memory_used <= detail.plan.memory,
      `memory_used ${usage.memory_used}`,
    );
    assert.ok(usage.disk_used >= 1 && usage.disk_used <= detail.plan.storage, `disk_used ${usage.disk_used}`);
  });

  it("marks a VM that died as stopped, and starts it again", async () => {
    process.kill(qemuPid(), "SIGKILL");
    await waitForStatus(api, id, "stopped", 30_000);
    assert.equal((await api.post(`/api/v1/servers/${id}/start/`)).status, 200);
    ssh = (await waitForStatus(api, id, "active", 120_000)).ssh;
    assert.equal(await sshWhenReady(ssh.host, ssh.port, key, "hostname"), HOSTNAME);
  });

  it("deletes the server: the process, the files and the addresses are gone", async () => {
    const pid = qemuPid();
    const directory = vmDir();
    assert.equal((await api.delete(`/api/v1/servers/${id}/`)).status, 204);
    assert.equal((await api.get(`/api/v1/servers/${id}/`)).status, 404);
    await eventually(async () => (!existsSync(directory) ? true : undefined), 60_000, "the VM's files to go");
    assert.equal(processAlive(pid), false);
    const inspect = await inspectDatabase(env.DATABASE_URL);
    try {
      const held = await inspect.db
        .selectFrom("ip_addresses")
        .select("address")
        .where("server_id", "=", id)
        .execute();
      assert.equal(held.length, 0, "the addresses are back in the pool");
    } finally {
      await inspect.close();
    }
  });
});
