import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { before, it } from "node:test";
import { simDiskOf } from "../../src/drivers/sim/sim-driver.ts";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, eventually, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { freePort } from "../support/spawned-server.ts";

// A control plane and host agents of one location (separate processes, each with its own sim machines and a
// transfer listener): servers move between them with their disks, over HTTP only.
const FLEET = {
  prefix: "migrate",
  plane: { VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50", VPS_MAX_ATTEMPTS: "2" },
  agent: {
    VPS_SIM_DELAY_MS: "50",
    VPS_LEASE_MS: "3000",
    VPS_RETRY_BASE_MS: "50",
    VPS_POWER_SYNC_MS: "300",
    VPS_HOST_DOWN_AFTER_MS: "3000",
  },
};

agentFleetSuite("cold migration between host agents", FLEET, (fleet) => {
  const { dir } = fleet;
  let admin: Client;
  let owner: Client;
  const hosts: Record<string, { id: number; state: string; port: number }> = {};
  before(() => {
    ({ admin, owner } = fleet);
  });

  async function addHost(name: string, env: Record<string, string> = {}): Promise<void> {
    const { id, token } = await fleet.register(name, "us-west");
    const port = await freePort();
    hosts[name] = { id, state: join(dir, name), port };
    await fleet.startAgent(join(dir, name), {
      VPS_AGENT_TRANSFER_ADDRESS: `127.0.0.1:${port}`,
      VPS_JOIN_TOKEN: token,
      ...env,
    });
  }

  /** The sim machines of a host, with their disks' content, from its agent's own state. */
  function machinesOf(name: string): { id: string; power: string; disk: string | null }[] {
    const db = new DatabaseSync(join(dir, name, "machines.db"), { readOnly: true });
    try {
      return db
        .prepare("select id, power, created_at, disk from sim_machines order by id")
        .all()
        .map((row) => {
          const id = String(row.id);
          const disk = simDiskOf({ id, created_at: String(row.created_at), disk: row.disk as string | null });
          return { id, power: String(row.power), disk: disk.toString("base64") };
        });
    } finally {
      db.close();
    }
  }

  const hostView = async (name: string) => (await admin.get(`/api/v1/admin/hosts/${hosts[name]?.id}/`)).body;
  const migrationEnds = (id: number) =>
    eventually(
      async () => {
        const m = (await admin.get(`/api/v1/admin/migrations/${id}/`)).body;
        return m.state === "running" ? undefined : m;
      },
      30_000,
      "the migration's end",
    );

  async function createOn(name: string, serverName: string): Promise<Json> {
    // Only this host is enabled: placement puts the server there.
    for (const other of Object.keys(hosts)) {
      await admin.post(`/api/v1/admin/hosts/${hosts[other]?.id}/${other === name ? "enable" : "disable"}/`);
    }
    const created = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: serverName });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(owner, created.body.id, "active");
    for (const other of Object.keys(hosts))
      await admin.post(`/api/v1/admin/hosts/${hosts[other]?.id}/enable/`);
    return (await owner.get(`/api/v1/servers/${created.body.id}/`)).body;
  }

  it("moves a running server: active on the other host, same id and addresses, its disk's content intact", async () => {
    await addHost("hv-a");
    await addHost("hv-b");
    const server = await createOn("hv-a", "mover");
    const [machine] = machinesOf("hv-a");
    assert.ok(machine?.disk);

    const migrating = await admin.post(`/api/v1/admin/servers/${server.id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    assert.equal(migrating.body.target_host_id, hosts["hv-b"]?.id);
    const ended = await migrationEnds(migrating.body.id);
    assert.equal(ended.state, "succeeded", JSON.stringify(ended));
    await waitForStatus(owner, server.id, "active");
    const moved = (await owner.get(`/api/v1/servers/${server.id}/`)).body;
    assert.deepEqual(
      [moved.id, moved.ip_address, moved.ipv6_address],
      [server.id, server.ip_address, server.ipv6_address],
    );
    assert.deepEqual(machinesOf("hv-b"), [{ id: String(server.id), power: "running", disk: machine.disk }]);
    // The old copy is destroyed on the source.
    await eventually(async () => (machinesOf("hv-a").length === 0 ? true : undefined), 15_000);
  });

  it("refuses a wrong transfer token at the source's listener", async () => {
    const res = await fetch(`http://127.0.0.1:${hosts["hv-b"]?.port}/transfers/1`, {
      headers: { Authorization: "Bearer vpst_not-a-token" },
    });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as Json).error.code, "transfer_token_invalid");
  });

  it("a copy in that fails for good leaves the server whole and running on its source", async () => {
    await addHost("hv-bad", { VPS_SIM_FAULTS: "import:permanent" });
    await admin.post(`/api/v1/admin/hosts/${hosts["hv-a"]?.id}/disable/`);
    const [machine] = machinesOf("hv-b");
    const id = Number(machine?.id);
    const migrating = await admin.post(`/api/v1/admin/servers/${id}/migrate/`, {
      target_host_id: hosts["hv-bad"]?.id,
    });
    assert.equal(migrating.status, 202, migrating.text);
    const ended = await migrationEnds(migrating.body.id);
    assert.equal(ended.state, "failed");
    await waitForStatus(owner, id, "active");
    assert.deepEqual(machinesOf("hv-b"), [{ id: String(id), power: "running", disk: machine?.disk }]);
    assert.deepEqual(machinesOf("hv-bad"), []);
    const bad = await hostView("hv-bad");
    assert.deepEqual([bad.server_count, bad.allocated.memory_mb], [0, 0]);
    await admin.post(`/api/v1/admin/hosts/${hosts["hv-bad"]?.id}/disable/`);
    await admin.post(`/api/v1/admin/hosts/${hosts["hv-a"]?.id}/enable/`);
  });

  it("drains a host: all its servers move, it is left empty and can be deleted", async () => {
    const second = await createOn("hv-b", "second");
    const stoppedRes = await owner.post(`/api/v1/servers/${second.id}/stop/`);
    assert.ok(stoppedRes.status < 300, stoppedRes.text);
    await waitForStatus(owner, second.id, "stopped");
    // The faulty host takes nothing: the drain's servers go to hv-a.
    await admin.post(`/api/v1/admin/hosts/${hosts["hv-bad"]?.id}/disable/`);
    const drained = await admin.post(`/api/v1/admin/hosts/${hosts["hv-b"]?.id}/drain/`);
    assert.equal(drained.status, 200, drained.text);
    assert.equal(drained.body.state, "draining");
    assert.deepEqual(drained.body.migrations, { queued: 2, refused: [] });
    await eventually(async () => (machinesOf("hv-b").length === 0 ? true : undefined), 30_000);
    const onA = machinesOf("hv-a");
    assert.equal(onA.length, 2);
    assert.deepEqual(
      onA.map((m) => m.power),
      [second.id, Number(onA.find((m) => m.id !== String(second.id))?.id)]
        .sort((x, y) => x - y)
        .map((id) => (id === second.id ? "stopped" : "running")),
    );
    await waitForStatus(owner, second.id, "stopped");
    const b = await hostView("hv-b");
    assert.deepEqual(
      [b.server_count, b.allocated.vcpus, b.allocated.memory_mb, b.allocated.disk_gb],
      [0, 0, 0, 0],
    );
    const deleted = await admin.delete(`/api/v1/admin/hosts/${hosts["hv-b"]?.id}/`);
    assert.equal(deleted.status, 204, deleted.text);
  });
});
