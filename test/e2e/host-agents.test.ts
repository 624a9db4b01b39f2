import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { before, it } from "node:test";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, client, eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import type { SpawnedServer } from "../support/spawned-server.ts";

// A control plane that drives no host itself, and two host agents (separate processes, each with its own state
// directory and its own sim machines) that reach it over HTTP only, with credentials from the admin API.
const FLEET = {
  prefix: "agents",
  plane: { VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50" },
  agent: {
    VPS_SIM_DELAY_MS: "50",
    VPS_LEASE_MS: "3000",
    VPS_POWER_SYNC_MS: "300",
    VPS_HOST_DOWN_AFTER_MS: "3000",
    VPS_SHUTDOWN_GRACE_MS: "5000",
  },
};

agentFleetSuite("host agents driving their hosts over HTTP", FLEET, (fleet) => {
  const { dir, agents } = fleet;
  let admin: Client;
  let owner: Client;
  before(() => {
    ({ admin, owner } = fleet);
  });

  /** The sim machines an agent's host holds, from its own local state. */
  function machinesOf(stateDir: string): { id: string; power: string }[] {
    const db = new DatabaseSync(join(stateDir, "machines.db"), { readOnly: true });
    try {
      return db
        .prepare("select id, power from sim_machines order by id")
        .all()
        .map((row) => ({ id: String(row.id), power: String(row.power) }));
    } finally {
      db.close();
    }
  }

  const stateA = join(dir, "agent-a");
  const stateB = join(dir, "agent-b");
  let hostA: { id: number; token: string };
  let hostB: { id: number; token: string };
  let agentA: SpawnedServer;

  it("joins with a token, keeps its credential 0600, and runs its own host's servers through their lifecycle", async () => {
    hostA = await fleet.register("hv-a", "us-west");
    hostB = await fleet.register("hv-b", "eu-central");
    agentA = await fleet.startAgent(stateA, { VPS_JOIN_TOKEN: hostA.token });
    await fleet.startAgent(stateB, { VPS_JOIN_TOKEN: hostB.token });
    for (const state of [stateA, stateB]) {
      assert.equal(statSync(join(state, "credential")).mode & 0o777, 0o600);
    }
    const hosts = (await admin.get("/api/v1/admin/hosts/")).body.results;
    assert.deepEqual(
      hosts.map((h: { name: string; state: string; driver: string }) => [h.name, h.state, h.driver]),
      [
        ["hv-a", "enabled", "sim"],
        ["hv-b", "enabled", "sim"],
      ],
    );

    const onA = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "on-a", location: "us-west" });
    const onB = await owner.post("/api/v1/servers/", {
      ...SAMPLE_CREATE,
      name: "on-b",
      location: "eu-central",
    });
    assert.equal(onA.status, 201, onA.text);
    assert.equal(onB.status, 201, onB.text);
    await waitForStatus(owner, onA.body.id, "active");
    await waitForStatus(owner, onB.body.id, "active");
    assert.deepEqual(machinesOf(stateA), [{ id: String(onA.body.id), power: "running" }]);
    assert.deepEqual(machinesOf(stateB), [{ id: String(onB.body.id), power: "running" }]);

    const id = onA.body.id;
    for (const [action, status, power] of [
      ["stop", "stopped", "stopped"],
      ["start", "active", "running"],
      ["reboot", "active", "running"],
    ] as const) {
      const res = await owner.post(`/api/v1/servers/${id}/${action}/`);
      assert.ok(res.status < 300, res.text);
      await eventually(async () => {
        const actions = (await owner.get(`/api/v1/servers/${id}/actions/`)).body.results;
        return actions[0].status === "success" ? true : undefined;
      });
      assert.equal((await owner.get(`/api/v1/servers/${id}/`)).body.status, status);
      assert.deepEqual(machinesOf(stateA), [{ id: String(id), power }]);
    }
    assert.equal((await owner.delete(`/api/v1/servers/${id}/`)).status < 300, true);
    await eventually(async () =>
      (await owner.get(`/api/v1/servers/${id}/`)).status === 404 ? true : undefined,
    );
    await eventually(async () => (machinesOf(stateA).length === 0 ? true : undefined));
    assert.deepEqual(machinesOf(stateB), [{ id: String(onB.body.id), power: "running" }]);
  });

  it("reports a machine that died: its server becomes stopped", async () => {
    const [machine] = machinesOf(stateB);
    assert.ok(machine);
    const db = new DatabaseSync(join(stateB, "machines.db"));
    db.prepare("update sim_machines set power = 'stopped' where id = ?").run(machine.id);
    db.close();
    await waitForStatus(owner, Number(machine.id), "stopped");
  });

  it("resumes an operation whose agent was killed halfway, once, when the agent comes back", async () => {
    agentA.child.kill("SIGTERM");
    assert.deepEqual(await agentA.exited, { code: 0, signal: null });
    // A slow machine: the create is still running when the agent dies.
    const slow = await fleet.startAgent(stateA, { VPS_SIM_DELAY_MS: "1500" });
    const created = await owner.post("/api/v1/servers/", {
      ...SAMPLE_CREATE,
      name: "killed",
      location: "us-west",
    });
    assert.equal(created.status, 201, created.text);
    await slow.waitForLog((l) => l.msg === "operation started" && l.server === created.body.id);
    slow.child.kill("SIGKILL");
    await slow.exited;
    const actions = async () => (await owner.get(`/api/v1/servers/${created.body.id}/actions/`)).body.results;
    assert.equal((await actions())[0].status, "running");
    assert.equal((await owner.get(`/api/v1/servers/${created.body.id}/`)).body.status, "provisioning");

    // The same state directory: the kept credential, no join token.
    await fleet.startAgent(stateA, { VPS_SIM_DELAY_MS: "50" });
    await waitForStatus(owner, created.body.id, "active", 30_000);
    const [create] = await actions();
    assert.equal(create.status, "success");
    assert.equal(create.attempts, 2, "the killed attempt, then the one that finished it");
    assert.deepEqual(machinesOf(stateA), [{ id: String(created.body.id), power: "running" }]);
  });

  it("keeps host A's credential from host B's servers, and stops an agent whose credential is revoked", async () => {
    const credentialA = (await import("node:fs")).readFileSync(join(stateA, "credential"), "utf8").trim();
    const asA = client(fleet.plane.url, credentialA);
    const [onB] = machinesOf(stateB);
    assert.ok(onB);
    const report = await asA.post("/api/v1/agent/reports", {
      machines: [
        ...machinesOf(stateA).map((m) => ({ server_id: Number(m.id), power: m.power })),
        { server_id: Number(onB.id), power: "running" },
      ],
    });
    assert.equal(report.body.ignored, 1, report.text);
    assert.equal((await owner.get(`/api/v1/servers/${onB.id}/`)).body.status, "stopped");
    assert.equal((await asA.get("/api/v1/account/")).status, 401);

    const agentB = agents[1];
    assert.ok(agentB);
    await admin.post(`/api/v1/admin/hosts/${hostB.id}/credentials/revoke/`);
    assert.equal((await agentB.exited).code, 1);
    assert.ok(agentB.logs.some((l) => /refused this host's credential/.test(String(l.msg))));
  });
});
