import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { before, it } from "node:test";
import { isoAt, systemClock } from "../../src/domain/clock.ts";
import { parseMoney, parseSignedMoney } from "../../src/domain/money.ts";
import { idempotencyKeyDigest } from "../../src/domain/sealed-response.ts";
import { simDiskOf } from "../../src/drivers/sim/sim-driver.ts";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, eventually, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { freePort } from "../support/spawned-server.ts";

// A control plane and two host agents of one location (separate processes, each with its own sim machines and a
// transfer listener), sized so that a Standard server (2 vCPU, 4 GB, 80 GB) fits on either but a Performance one
// (4 vCPU, 8 GB, 160 GB) only on hv-b: a resize on hv-a moves the server to hv-b first, with its disk.
const FLEET = {
  prefix: "resize",
  plane: { VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50", VPS_BILLING_INTERVAL_MS: "200" },
  agent: { VPS_SIM_DELAY_MS: "50", VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50", VPS_POWER_SYNC_MS: "300" },
};
const CAPACITY = { "hv-a": "disk=100", "hv-b": "disk=200" };

agentFleetSuite("resize through migration between host agents", FLEET, (fleet) => {
  const { dir } = fleet;
  let admin: Client;
  let owner: Client;
  const hosts: Record<string, number> = {};
  before(async () => {
    ({ admin, owner } = fleet);
    for (const [name, capacity] of Object.entries(CAPACITY)) {
      const { id, token } = await fleet.register(name, "us-west");
      hosts[name] = id;
      await fleet.startAgent(join(dir, name), {
        VPS_JOIN_TOKEN: token,
        VPS_SIM_HOST_CAPACITY: capacity,
        VPS_AGENT_TRANSFER_ADDRESS: `127.0.0.1:${await freePort()}`,
      });
    }
  });

  /** The sim machines of a host, their disks' checksums instead of their content, from its agent's own state. */
  function machinesOf(host: string) {
    const db = new DatabaseSync(join(dir, host, "machines.db"), { readOnly: true });
    try {
      return db
        .prepare(
          "select id, power, vcpus, memory_mb, storage_gb, created_at, disk from sim_machines order by id",
        )
        .all()
        .map((row) => ({
          id: Number(row.id),
          power: String(row.power),
          vcpus: Number(row.vcpus),
          memory_mb: Number(row.memory_mb),
          storage_gb: Number(row.storage_gb),
          sha256: createHash("sha256")
            .update(
              simDiskOf({
                id: String(row.id),
                created_at: String(row.created_at),
                disk: row.disk as string | null,
              }),
            )
            .digest("hex"),
        }));
    } finally {
      db.close();
    }
  }

  const allocated = async (host: string) => {
    const view = (await admin.get(`/api/v1/admin/hosts/${hosts[host]}/`)).body;
    const { vcpus, memory_mb, disk_gb } = view.allocated;
    return { servers: view.server_count, vcpus, memory_mb, disk_gb };
  };
  const balance = async () =>
    parseSignedMoney((await owner.get("/api/v1/account/")).body.balance) ?? Number.NaN;
  const hourlyPrice = async (planId: number) =>
    parseMoney(
      (await owner.get("/api/v1/plans/")).body.results.find((p: Json) => p.id === planId).price_hourly,
    ) ?? Number.NaN;

  /** A stopped Standard server on hv-a (the only host enabled while it is made). */
  async function stoppedOnA(name: string): Promise<number> {
    await admin.post(`/api/v1/admin/hosts/${hosts["hv-b"]}/disable/`);
    const res = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name, backups_enabled: false });
    assert.equal(res.status, 201, res.text);
    await waitForStatus(owner, res.body.id, "active", 30_000);
    await admin.post(`/api/v1/admin/hosts/${hosts["hv-b"]}/enable/`);
    assert.equal((await owner.post(`/api/v1/servers/${res.body.id}/stop/`)).status, 200);
    await waitForStatus(owner, res.body.id, "stopped", 30_000);
    return res.body.id;
  }

  const migrationsOf = async (serverId: number) =>
    (await fleet.database()).selectFrom("migrations").selectAll().where("server_id", "=", serverId).execute();
  const unfinishedOf = async (serverId: number) =>
    (await fleet.database())
      .selectFrom("operations")
      .select(["kind", "status"])
      .where("server_id", "=", serverId)
      .where("status", "in", ["pending", "running"])
      .execute();

  it("moves a stopped server whose host lacks room to a host with room, resized there with the same disk, billed the new plan from its next hour", async () => {
    const id = await stoppedOnA("grows-away");
    const [machine] = machinesOf("hv-a");
    assert.equal(machine?.id, id);
    assert.deepEqual(await allocated("hv-a"), { servers: 1, vcpus: 2, memory_mb: 4096, disk_gb: 80 });
    assert.deepEqual(await allocated("hv-b"), { servers: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 });
    const paid = await balance();

    const resize = () =>
      owner.request(
        "POST",
        `/api/v1/servers/${id}/resize/`,
        { plan_id: 2 },
        { "Idempotency-Key": "grow-away" },
      );
    // A retry sent while the first request runs waits for it, and answers what it answered.
    const [res, again] = await Promise.all([resize(), resize()]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.server.status, "stopping", "shown as moving until it has moved");
    assert.equal(
      res.body.message,
      "Server is being migrated to a host with room for its new plan, then resized",
    );
    assert.equal(again.text, res.text, "a retry is the same resize");
    // As if the process had died between the resize's commit and storing its answer: the retry is answered
    // from what the resize committed, as the first request was.
    const inspect = await fleet.database();
    await inspect
      .updateTable("idempotency_keys")
      .set({
        state: "started",
        status_code: null,
        response_body: null,
        created_at: new Date(Date.now() - 5000).toISOString(),
      })
      .where("key", "=", idempotencyKeyDigest("grow-away"))
      .execute();
    const rebuilt = await resize();
    assert.equal(rebuilt.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(
      [rebuilt.status, rebuilt.body.action_id, rebuilt.body.message],
      [200, res.body.action_id, res.body.message],
    );

    const action = (await owner.get(`/api/v1/actions/${res.body.action_id}/?wait=30`)).body;
    assert.equal(action.command, "migrate");
    assert.equal(action.status, "success", JSON.stringify(action));
    const resized = await eventually(
      async () => {
        const s = (await owner.get(`/api/v1/servers/${id}/`)).body;
        return s.plan.id === 2 && s.status === "stopped" ? s : undefined;
      },
      30_000,
      "the resize after the migration",
    );
    assert.deepEqual(resized.plan, {
      id: 2,
      name: resized.plan.name,
      vcpus: 4,
      memory: 8192,
      storage: 160,
      bandwidth: resized.plan.bandwidth,
    });
    // Newest first: the resize on hv-b after the migration's two steps (copy out, copy in).
    const actions = (await owner.get(`/api/v1/servers/${id}/actions/`)).body.results as Json[];
    assert.deepEqual(
      actions.slice(0, 3).map((a) => [a.command, a.status]),
      [
        ["resize", "success"],
        ["migrate", "success"],
        ["migrate", "success"],
      ],
    );
    assert.equal(actions[2].id, res.body.action_id);

    // The old copy is destroyed on hv-a; hv-b holds the machine with the new plan and the same disk.
    await eventually(async () => (machinesOf("hv-a").length === 0 ? true : undefined), 15_000, "hv-a empty");
    assert.deepEqual(machinesOf("hv-b"), [
      { id, power: "stopped", vcpus: 4, memory_mb: 8192, storage_gb: 160, sha256: machine.sha256 },
    ]);
    assert.deepEqual(await allocated("hv-a"), { servers: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 });
    assert.deepEqual(await allocated("hv-b"), { servers: 1, vcpus: 4, memory_mb: 8192, disk_gb: 160 });

    // One migration, one resize, whatever the retries, and a retry now still answers the same action.
    assert.equal((await migrationsOf(id)).length, 1);
    assert.equal(actions.filter((a) => a.command === "resize").length, 1);
    assert.equal((await resize()).body.action_id, res.body.action_id);
    assert.equal((await migrationsOf(id)).length, 1);

    // The hour paid at create stays paid at the old plan's price; the hour after it is charged at the new one's
    // (its paid hour made to run out now, rather than waiting an hour).
    assert.equal(await balance(), paid);
    await inspect
      .updateTable("servers")
      .set({ billed_until: isoAt(systemClock) })
      .where("id", "=", id)
      .execute();
    const hourly = await hourlyPrice(2);
    assert.notEqual(hourly, await hourlyPrice(1));
    await eventually(async () => ((await balance()) !== paid ? true : undefined), 10_000, "the next charge");
    assert.equal(await balance(), paid - hourly);
  });

  it("answers 409 no_capacity when no host has room, and changes and queues nothing", async () => {
    // hv-a has room for a Standard server but not a Performance one; hv-b holds the one resized above.
    const id = await stoppedOnA("stays");
    const hostsBefore = { a: await allocated("hv-a"), b: await allocated("hv-b") };
    const actionsBefore = (await owner.get(`/api/v1/servers/${id}/actions/`)).body.results;

    const res = await owner.request(
      "POST",
      `/api/v1/servers/${id}/resize/`,
      { plan_id: 2 },
      { "Idempotency-Key": "no-room" },
    );
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, "no_capacity");

    const server = (await owner.get(`/api/v1/servers/${id}/`)).body;
    assert.deepEqual([server.status, server.plan.id], ["stopped", 1]);
    assert.deepEqual({ a: await allocated("hv-a"), b: await allocated("hv-b") }, hostsBefore);
    assert.deepEqual((await owner.get(`/api/v1/servers/${id}/actions/`)).body.results, actionsBefore);
    assert.deepEqual(await migrationsOf(id), []);
    assert.deepEqual(await unfinishedOf(id), []);
    assert.deepEqual(
      machinesOf("hv-a").map((m) => [m.id, m.power, m.storage_gb]),
      [[id, "stopped", 80]],
    );
  });

  it("leaves the server whole on its host, on its plan, when the move for its resize fails", async () => {
    // The one host with room now fails every copy in.
    const { id: bad, token } = await fleet.register("hv-bad", "us-west");
    hosts["hv-bad"] = bad;
    await fleet.startAgent(join(dir, "hv-bad"), {
      VPS_JOIN_TOKEN: token,
      VPS_SIM_HOST_CAPACITY: "disk=200",
      VPS_SIM_FAULTS: "import:permanent",
      VPS_AGENT_TRANSFER_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    const [machine] = machinesOf("hv-a");
    assert.ok(machine);
    const id = machine.id;
    const onA = await allocated("hv-a");

    const res = await owner.post(`/api/v1/servers/${id}/resize/`, { plan_id: 2 });
    assert.equal(res.status, 200, res.text);
    const [migration] = await migrationsOf(id);
    assert.equal(migration?.target_host_id, bad);
    await eventually(
      async () => ((await unfinishedOf(id)).length === 0 ? true : undefined),
      30_000,
      "the migration's steps to end",
    );
    const server = (await owner.get(`/api/v1/servers/${id}/`)).body;
    assert.deepEqual([server.status, server.plan.id, server.plan.storage], ["stopped", 1, 80]);
    const actions = (await owner.get(`/api/v1/servers/${id}/actions/`)).body.results as Json[];
    assert.deepEqual(
      actions.slice(0, 2).map((a) => [a.command, a.status]),
      [
        ["migrate", "error"],
        ["migrate", "success"],
      ],
    );
    assert.deepEqual(
      (await migrationsOf(id)).map((m) => m.state),
      ["failed"],
    );
    assert.deepEqual(await allocated("hv-a"), onA);
    assert.deepEqual(await allocated("hv-bad"), { servers: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 });
    assert.deepEqual(machinesOf("hv-a"), [machine]);
    assert.deepEqual(machinesOf("hv-bad"), []);
  });
});

// Slow transitions on the first host keep a resize running while an operator asks to move its server.
agentFleetSuite("a migration asked while a resize runs", FLEET, (fleet) => {
  it("refuses to move a server until its resize has ended, then claims its new plan's room on the target", async () => {
    const { admin, owner, dir } = fleet;
    const hosts: number[] = [];
    for (const [name, delay] of [
      ["hv-slow", "1500"],
      ["hv-next", "50"],
    ] as const) {
      const { id, token } = await fleet.register(name, "us-west");
      hosts.push(id);
      await fleet.startAgent(join(dir, name), {
        VPS_JOIN_TOKEN: token,
        VPS_SIM_DELAY_MS: delay,
        VPS_AGENT_TRANSFER_ADDRESS: `127.0.0.1:${await freePort()}`,
      });
    }
    const [slow, next] = hosts as [number, number];
    await admin.post(`/api/v1/admin/hosts/${next}/disable/`);
    const created = await owner.post("/api/v1/servers/", {
      ...SAMPLE_CREATE,
      name: "moved-while-resized",
      backups_enabled: false,
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    await waitForStatus(owner, id, "active", 30_000);
    await admin.post(`/api/v1/admin/hosts/${next}/enable/`);
    assert.equal((await owner.post(`/api/v1/servers/${id}/stop/`)).status, 200);
    await waitForStatus(owner, id, "stopped", 30_000);

    const resized = await owner.post(`/api/v1/servers/${id}/resize/`, { plan_id: 2 });
    assert.equal(resized.status, 200, resized.text);
    assert.equal((await owner.get(`/api/v1/actions/${resized.body.action_id}/`)).body.command, "resize");
    const migrate = () => admin.post(`/api/v1/admin/servers/${id}/migrate/`, { target_host_id: next });
    const refused = await migrate();
    assert.deepEqual([refused.status, refused.body.error?.code], [400, "server_busy"], refused.text);
    const resizedAction = (await owner.get(`/api/v1/actions/${resized.body.action_id}/?wait=30`)).body;
    assert.equal(resizedAction.status, "success", JSON.stringify(resizedAction));
    const moving = await migrate();
    assert.equal(moving.status, 202, moving.text);

    const migration = await eventually(
      async () => {
        const m = (await admin.get(`/api/v1/admin/migrations/${moving.body.id}/`)).body;
        return m.state === "running" ? undefined : m;
      },
      30_000,
      "the migration's end",
    );
    assert.equal(migration.state, "succeeded", JSON.stringify(migration));
    const server = await waitForStatus(owner, id, "stopped", 30_000);
    assert.equal(server.plan.id, 2);
    const held = async (host: number) => {
      const view = (await admin.get(`/api/v1/admin/hosts/${host}/`)).body;
      return [view.server_count, view.allocated.vcpus, view.allocated.memory_mb, view.allocated.disk_gb];
    };
    assert.deepEqual(await held(next), [1, 4, 8192, 160]);
    assert.deepEqual(await held(slow), [0, 0, 0, 0]);
  });
});
