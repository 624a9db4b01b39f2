import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

// Plans of the sample catalogue: 1 Standard (2 vCPU, 4 GB, 80 GB), 2 Performance (4 vCPU, 8 GB, 160 GB),
// 3 Starter (1 vCPU, 1 GB, 25 GB).

async function stoppedServer(api: Client, name: string): Promise<number> {
  const { body } = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name, backups_enabled: false });
  await waitForStatus(api, body.id, "active");
  assert.equal((await api.post(`/api/v1/servers/${body.id}/stop/`)).status, 200);
  await waitForStatus(api, body.id, "stopped");
  return body.id;
}

const allocationOf = async (t: TestApp, id: number) => {
  const held = await t.app.services.repos.hostAllocations.findAllocation(id);
  assert.ok(held);
  const host = await t.app.services.repos.hosts.findById(held.host_id);
  return {
    held: { vcpus: held.vcpus, memory_mb: Number(held.memory_mb), disk_gb: Number(held.disk_gb) },
    hostVcpus: host?.vcpus_allocated,
  };
};

describe("resizing a server", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("moves a stopped server to a bigger plan: its machine, plan and room on its host change", async () => {
    const api = await t.newAccount();
    const id = await stoppedServer(api, "grows");
    const before = await allocationOf(t, id);
    const res = await api.request(
      "POST",
      `/api/v1/servers/${id}/resize/`,
      { plan_id: 2 },
      { "Idempotency-Key": "grow-1" },
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.server.status, "stopped");
    const again = await api.request(
      "POST",
      `/api/v1/servers/${id}/resize/`,
      { plan_id: 2 },
      { "Idempotency-Key": "grow-1" },
    );
    assert.equal(again.body.action_id, res.body.action_id, "a retry is the same resize");
    const action = await eventually(async () => {
      const a = (await api.get(`/api/v1/actions/${res.body.action_id}/`)).body;
      return a.status === "running" ? undefined : a;
    });
    assert.equal(action.command, "resize");
    assert.equal(action.status, "success", JSON.stringify(action));
    const server = (await api.get(`/api/v1/servers/${id}/`)).body;
    assert.equal(server.plan.id, 2);
    assert.equal(server.status, "stopped");
    const after = await allocationOf(t, id);
    assert.deepEqual(after.held, { vcpus: 4, memory_mb: 8192, disk_gb: 160 });
    assert.equal((after.hostVcpus ?? 0) - (before.hostVcpus ?? 0), 2, "the host holds the difference");
    const machine = await t.app.services.repos.db
      .selectFrom("sim_machines")
      .selectAll()
      .where("id", "=", String(id))
      .executeTakeFirst();
    assert.equal(machine?.vcpus, 4);
    assert.equal(machine?.storage_gb, 160);
  });

  it("refuses a smaller disk, a running server, and a plan not offered, changing nothing", async () => {
    const api = await t.newAccount();
    const id = await stoppedServer(api, "stays");
    expectError(await api.post(`/api/v1/servers/${id}/resize/`, { plan_id: 3 }), 400, "disk_cannot_shrink");
    expectError(await api.post(`/api/v1/servers/${id}/resize/`, { plan_id: 4 }), 400, "invalid_input");
    await api.post(`/api/v1/servers/${id}/start/`);
    await waitForStatus(api, id, "active");
    expectError(await api.post(`/api/v1/servers/${id}/resize/`, { plan_id: 2 }), 400, "server_not_stopped");
    assert.equal((await api.get(`/api/v1/servers/${id}/`)).body.plan.id, 1);
    assert.deepEqual((await allocationOf(t, id)).held, { vcpus: 2, memory_mb: 4096, disk_gb: 80 });
    const other = await t.newAccount();
    expectError(await other.post(`/api/v1/servers/${id}/resize/`, { plan_id: 2 }), 404, "not_found");
  });
});

describe("resizing where no host has room", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_SIM_HOST_CAPACITY: "disk=100" });
  });
  after(() => t.close());

  it("answers 409 no_capacity and changes nothing", async () => {
    const api = await t.newAccount();
    const id = await stoppedServer(api, "full");
    const before = await allocationOf(t, id);
    expectError(await api.post(`/api/v1/servers/${id}/resize/`, { plan_id: 2 }), 409, "no_capacity");
    const server = (await api.get(`/api/v1/servers/${id}/`)).body;
    assert.equal(server.plan.id, 1);
    assert.equal(server.status, "stopped");
    assert.deepEqual(await allocationOf(t, id), before);
    assert.equal((await t.app.services.repos.migrations.running(id)) ?? null, null);
  });
});
