import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { before, it } from "node:test";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, eventually, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import type { SpawnedServer } from "../support/spawned-server.ts";

// The fleet: a control plane that drives no host itself, and three host agents (separate processes, each with its
// own state directory and sim machines) in one location. One is killed outright mid-operation and restarted,
// another frozen and thawed; the third must never notice.
// The lease outlives every wait below: an operation the killed agent held resumes at once only because the
// restarted agent frees its predecessor's leases.
const LEASE_MS = "20000";
const FLEET = {
  prefix: "fleet",
  plane: {
    VPS_HOST_DOWN_AFTER_MS: "2000",
    VPS_HOST_UNAVAILABLE_AFTER_MS: "30000",
    VPS_LEASE_MS: LEASE_MS,
    VPS_RETRY_BASE_MS: "50",
    VPS_RATE_LIMIT_READS: "100000",
    VPS_RATE_LIMIT_WRITES: "100000",
  },
  agent: {
    VPS_LEASE_MS: LEASE_MS,
    VPS_POWER_SYNC_MS: "300",
    VPS_HOST_DOWN_AFTER_MS: "2000",
    VPS_SHUTDOWN_GRACE_MS: "1000",
  },
};

agentFleetSuite("a fleet of three agents: one killed, one frozen, one untouched", FLEET, (fleet) => {
  let admin: Client;
  let owner: Client;
  const hosts: { id: number; token: string; state: string; agent?: SpawnedServer }[] = [];
  /** Each host's servers, by the machines its agent made. */
  const serversOf: number[][] = [[], [], []];
  before(() => {
    ({ admin, owner } = fleet);
  });

  const stateOf = (host: number) => join(fleet.dir, `agent-${host}`);

  async function startAgent(host: number, delayMs: number, joinToken?: string): Promise<SpawnedServer> {
    const agent = await fleet.startAgent(stateOf(host), {
      VPS_SIM_DELAY_MS: String(delayMs),
      ...(joinToken ? { VPS_JOIN_TOKEN: joinToken } : {}),
    });
    const entry = hosts[host];
    if (entry) entry.agent = agent;
    return agent;
  }

  /** The sim machines an agent's host holds, from its own local state: id → power and how often it booted. */
  function machinesOf(host: number): Map<number, { power: string; boots: number }> {
    const db = new DatabaseSync(join(stateOf(host), "machines.db"), { readOnly: true });
    try {
      const rows = db.prepare("select id, power, boot_count from sim_machines order by id").all();
      return new Map(
        rows.map((r) => [Number(r.id), { power: String(r.power), boots: Number(r.boot_count) }]),
      );
    } finally {
      db.close();
    }
  }

  const hostState = async (host: number) =>
    (await admin.get(`/api/v1/admin/hosts/${hosts[host]?.id}/`)).body.state as string;
  const actions = async (id: number): Promise<Json[]> =>
    (await owner.get(`/api/v1/servers/${id}/actions/`)).body.results;
  const status = async (id: number) => (await owner.get(`/api/v1/servers/${id}/`)).body.status;

  async function create(name: string): Promise<number> {
    const res = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name, location: "us-west" });
    assert.equal(res.status, 201, res.text);
    return res.body.id;
  }

  /** Which host made the server's machine. */
  function hostOf(id: number): number {
    const found = [0, 1, 2].filter((host) => machinesOf(host).has(id));
    assert.equal(found.length, 1, `server ${id} has a machine on hosts ${found}`);
    return found[0] as number;
  }

  it("joins three agents and spreads servers across them, which go active", async () => {
    for (const host of [0, 1, 2]) {
      hosts.push({ ...(await fleet.register(`hv${host}`, "us-west")), state: "" });
    }
    // Host 0's machines are slow, so that it can be killed in the middle of one.
    await Promise.all([0, 1, 2].map((host) => startAgent(host, host === 0 ? 1500 : 100, hosts[host]?.token)));
    for (const host of [0, 1, 2]) assert.equal(await hostState(host), "enabled");

    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await create(`web-${i}`));
    for (const id of ids) await waitForStatus(owner, id, "active", 15_000);
    for (const id of ids) serversOf[hostOf(id)]?.push(id);
    assert.deepEqual(
      serversOf.map((s) => s.length),
      [2, 2, 2],
    );
    for (const host of [0, 1, 2]) {
      assert.equal((await admin.get(`/api/v1/admin/hosts/${hosts[host]?.id}/`)).body.server_count, 2);
    }
  });

  it("keeps a killed agent's operation waiting, places nothing on its host, and finishes it once when it restarts", async () => {
    const [victim, bystander] = serversOf[0] as [number, number];
    const agent = hosts[0]?.agent as SpawnedServer;
    assert.equal((await owner.post(`/api/v1/servers/${victim}/stop/`)).status, 200);
    await agent.waitForLog((l) => l.msg === "operation started" && l.server === victim);
    agent.child.kill("SIGKILL");
    await agent.exited;

    await eventually(async () => ((await hostState(0)) === "down" ? true : undefined), 10_000, "host 0 down");
    const [stop] = await actions(victim);
    assert.equal(stop.command, "stop");
    assert.equal(stop.status, "running");
    assert.equal(await status(victim), "stopping");
    // Nothing new goes to the down host.
    const placedMeanwhile = [await create("while-0-down-a"), await create("while-0-down-b")];
    for (const id of placedMeanwhile) await waitForStatus(owner, id, "active", 15_000);
    for (const id of placedMeanwhile) {
      const host = hostOf(id);
      assert.notEqual(host, 0);
      serversOf[host]?.push(id);
    }
    assert.equal((await admin.get(`/api/v1/admin/hosts/${hosts[0]?.id}/`)).body.server_count, 2);
    assert.equal((await actions(victim))[0].status, "running", "still waiting for its host, not failed");

    // The same state directory: the kept credential, no join token.
    await startAgent(0, 50);
    await waitForStatus(owner, victim, "stopped", 10_000);
    await eventually(
      async () => ((await hostState(0)) === "enabled" ? true : undefined),
      10_000,
      "host 0 up",
    );
    const [ended] = await actions(victim);
    assert.equal(ended.status, "success");
    assert.equal(ended.attempts, 2, "the killed attempt, then the one that finished it");
    assert.deepEqual(
      (await actions(bystander)).map((a: Json) => [a.command, a.status, a.attempts]),
      [["create", "success", 1]],
    );
    assert.equal(await status(bystander), "active");
    assert.deepEqual(
      [...machinesOf(0)],
      [
        [victim, { power: "stopped", boots: 1 }],
        [bystander, { power: "running", boots: 1 }],
      ].sort((a, b) => Number(a[0]) - Number(b[0])),
    );
  });

  /** Changes a host's machines behind its agent's back, as its hypervisor would (a reboot, a leftover). */
  function drift(host: number, change: (db: DatabaseSync) => void): void {
    const db = new DatabaseSync(join(stateOf(host), "machines.db"), { timeout: 5000 });
    try {
      change(db);
    } finally {
      db.close();
    }
  }

  it("lets a frozen agent's host reconcile when it thaws: the host follows the database, its deleted server's machine is destroyed before its addresses are freed, its stopped one stops", async () => {
    const [deleted, stopped, drifted] = serversOf[1] as [number, number, number];
    const agent = hosts[1]?.agent as SpawnedServer;
    const detail = (await owner.get(`/api/v1/servers/${deleted}/`)).body;
    const addresses = [detail.ip_address, detail.ipv6_address].filter(Boolean) as string[];
    assert.ok(addresses.length > 0);
    const inspect = await fleet.database();
    const held = async () =>
      (
        await inspect
          .selectFrom("ip_addresses")
          .select("address")
          .where("address", "in", addresses)
          .where("server_id", "is not", null)
          .execute()
      ).length;
    assert.equal(await held(), addresses.length);

    agent.child.kill("SIGSTOP");
    await eventually(async () => ((await hostState(1)) === "down" ? true : undefined), 10_000, "host 1 down");
    assert.equal((await owner.delete(`/api/v1/servers/${deleted}/`)).status < 300, true);
    assert.equal((await owner.post(`/api/v1/servers/${stopped}/stop/`)).status, 200);
    // Meanwhile the hypervisor powered off the machine of an active server and holds one of no server.
    drift(1, (db) => {
      db.prepare("update sim_machines set power = 'stopped', started_at = null where id = ?").run(
        String(drifted),
      );
      db.prepare(
        `insert into sim_machines (id, power, vcpus, memory_mb, storage_gb, boot_count, started_at, cpu_ns_before,
           net_bytes_before, created_at) values ('999999', 'running', 1, 1024, 10, 1, null, 0, 0, '2025-01-01T00:00:00Z')`,
      ).run();
    });
    // They wait for the host: still running, not failed; the addresses stay with the machine that may still run.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await actions(stopped))[0].status, "running");
    assert.equal(await status(stopped), "stopping");
    assert.equal(await held(), addresses.length);
    assert.equal(await hostState(1), "down");

    agent.child.kill("SIGCONT");
    await eventually(
      async () => ((await hostState(1)) === "enabled" ? true : undefined),
      10_000,
      "host 1 up",
    );
    await eventually(
      async () => {
        const freed = (await held()) === 0;
        const machine = machinesOf(1).has(deleted);
        // The machine goes first: addresses freed while it still exists would be live on two machines.
        if (freed) assert.equal(machine, false, "addresses freed before the machine was destroyed");
        return freed ? true : undefined;
      },
      10_000,
      "the deleted server's addresses back in the pool",
    );
    assert.equal((await owner.get(`/api/v1/servers/${deleted}/`)).status, 404);
    await waitForStatus(owner, stopped, "stopped", 10_000);
    // The database is the truth: the active server's machine is started again, not the server stopped.
    await eventually(
      async () => {
        const [last] = await actions(drifted);
        return last?.command === "start" && last.status === "success" ? true : undefined;
      },
      10_000,
      "the drifted server's start queued by the reconciliation to end",
    );
    assert.equal(machinesOf(1).get(drifted)?.power, "running");
    assert.equal(await status(drifted), "active");
    assert.deepEqual(
      (await actions(drifted)).map((a: Json) => [a.command, a.status, a.attempts]),
      [
        ["start", "success", 1],
        ["create", "success", 1],
      ],
    );
    await eventually(
      async () => (machinesOf(1).has(999_999) ? undefined : true),
      10_000,
      "the machine of no server destroyed",
    );
    const host1 = machinesOf(1);
    assert.deepEqual(
      [...host1.keys()],
      (serversOf[1] as number[]).filter((id) => id !== deleted).sort((a, b) => a - b),
      "exactly the machines of its servers",
    );
    assert.equal(host1.get(stopped)?.power, "stopped");
  });

  it("never touches the third agent's servers", async () => {
    assert.equal(await hostState(2), "enabled");
    const own = serversOf[2] as number[];
    assert.equal(own.length, 3);
    const machines = machinesOf(2);
    assert.deepEqual(
      [...machines.keys()],
      [...own].sort((a, b) => a - b),
    );
    for (const id of own) {
      assert.equal(await status(id), "active");
      assert.deepEqual(
        (await actions(id)).map((a: Json) => [a.command, a.status, a.attempts]),
        [["create", "success", 1]],
      );
      assert.deepEqual(machines.get(id), { power: "running", boots: 1 });
    }
  });
});
