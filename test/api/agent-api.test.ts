import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, client, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const CAPACITY = { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 };
const CLAIM = "/api/v1/agent/operations/claim";

describe("the agents' link: each host's credential reaches its own host's operations and servers only", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off" });
  });
  after(() => t.close());

  /** A host of the location, joined: its id and its agent's client. */
  async function joinedHost(name: string, location: string): Promise<{ id: number; agent: Client }> {
    const registered = await t.admin.post("/api/v1/admin/hosts/", { name, location });
    assert.equal(registered.status, 201, registered.text);
    const joined = await t.anonymous.post("/api/v1/agent/join", {
      join_token: registered.body.join_token,
      capacity: CAPACITY,
      agent_version: "0.1.0",
      driver: "sim",
    });
    assert.equal(joined.status, 201, joined.text);
    return { id: registered.body.host.id, agent: client(t.url, joined.body.credential) };
  }

  const server = async (id: number) => (await t.owner.get(`/api/v1/servers/${id}/`)).body;
  const operationRow = (id: number) =>
    t.app.services.repos.db
      .selectFrom("operations")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  let a: { id: number; agent: Client };
  let b: { id: number; agent: Client };
  before(async () => {
    a = await joinedHost("hv-a", "us-west");
    b = await joinedHost("hv-b", "eu-central");
  });

  it("hands a create to its host's agent with its spec, and settles the server from the agent's result", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "on-a" });
    assert.equal(created.status, 201, created.text);
    const claimed = await a.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    assert.equal(claimed.status, 200, claimed.text);
    const op: Json = claimed.body.operations.find((o: Json) => o.server_id === created.body.id);
    assert.ok(op, claimed.text);
    assert.equal(op.kind, "create");
    assert.equal(op.spec.hostname, SAMPLE_CREATE.hostname);
    // In the API's snake_case, like every other route.
    assert.deepEqual(Object.keys(op.spec).sort(), [
      "hostname",
      "id",
      "image",
      "ipv4",
      "ipv6",
      "memory_mb",
      "ssh_public_key",
      "storage_gb",
      "vcpus",
    ]);
    assert.equal(op.server_deleted, false);
    assert.equal(typeof op.max_attempts, "number");
    assert.match(op.owner, new RegExp(`^agent:${a.id}:`));
    const lease = { owner: op.owner, attempt: op.attempt };

    const renewed = await a.agent.post(`/api/v1/agent/operations/${op.id}/lease`, { lease });
    assert.equal(renewed.status, 200, renewed.text);
    // A lease the agent does not hold changes nothing.
    const before = await operationRow(op.id);
    expectError(
      await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
        lease: { ...lease, attempt: lease.attempt + 1 },
        outcome: {},
      }),
      409,
      "lease_lost",
    );
    assert.deepEqual(await operationRow(op.id), before);

    const ended = await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, { lease, outcome: {} });
    assert.equal(ended.status, 200, ended.text);
    assert.equal(ended.body.status, "succeeded");
    assert.equal((await server(created.body.id)).status, "active");
    expectError(
      await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, { lease, outcome: {} }),
      409,
      "lease_lost",
    );
  });

  it("wakes a waiting claim when its host's work arrives", async () => {
    const waiting = a.agent.post(CLAIM, { limit: 10, wait_seconds: 30 });
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "arrives" });
    const claimed = await waiting;
    assert.equal(claimed.status, 200, claimed.text);
    assert.deepEqual(
      claimed.body.operations.map((o: Json) => [o.server_id, o.kind]),
      [[created.body.id, "create"]],
    );
    const [op] = claimed.body.operations;
    const failed = await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      error: { code: "image_missing", message: "no such image" },
      permanent: true,
    });
    assert.equal(failed.body.status, "failed", failed.text);
    assert.equal((await server(created.body.id)).status, "error");
  });

  it("keeps host A's operations and servers from host B's credential: 404, and nothing changes", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "a-only" });
    const none = await b.agent.post(CLAIM, { limit: 10, wait_seconds: 0 });
    assert.deepEqual(none.body, { operations: [] });
    const [op] = (await a.agent.post(CLAIM, { limit: 10 })).body.operations;
    assert.equal(op.server_id, created.body.id);
    const lease = { owner: op.owner, attempt: op.attempt };
    const before = await operationRow(op.id);

    expectError(await b.agent.post(`/api/v1/agent/operations/${op.id}/lease`, { lease }), 404, "not_found");
    for (const body of [
      { lease, outcome: {} },
      { lease, error: { code: "x", message: "x" }, permanent: true },
    ]) {
      expectError(await b.agent.post(`/api/v1/agent/operations/${op.id}/result`, body), 404, "not_found");
    }
    const released = await b.agent.post("/api/v1/agent/operations/release", {
      leases: [{ id: op.id, lease }],
    });
    assert.deepEqual(released.body, { released: 0 });
    assert.deepEqual(await operationRow(op.id), before);

    await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, { lease, outcome: {} });
    assert.equal((await server(created.body.id)).status, "active");
    const report = await b.agent.post("/api/v1/agent/reports", {
      machines: [{ server_id: created.body.id, power: "stopped" }],
    });
    assert.deepEqual(report.body, { applied: 0, ignored: 1, reconciled: false, queued: 0, destroy: [] });
    assert.equal((await server(created.body.id)).status, "active");

    // Its own host's report (every machine of the host) applies the power sync's rules.
    const others = (await t.owner.get("/api/v1/servers/")).body.results
      .filter((s: Json) => s.status === "active" && s.id !== created.body.id)
      .map((s: Json) => ({ server_id: s.id, power: "running" }));
    const own = await a.agent.post("/api/v1/agent/reports", {
      machines: [{ server_id: created.body.id, power: "stopped" }, ...others],
    });
    assert.deepEqual(own.body, {
      applied: 1 + others.length,
      ignored: 0,
      reconciled: false,
      queued: 0,
      destroy: [],
    });
    assert.equal((await server(created.body.id)).status, "stopped");
  });

  it("records the usage of every server a report names, from its machine's counters", async () => {
    const ids: number[] = [];
    for (const name of ["metered-1", "metered-2", "metered-3"]) {
      const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name });
      assert.equal(created.status, 201, created.text);
      ids.push(created.body.id);
    }
    const claimed = await a.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    for (const op of claimed.body.operations as Json[]) {
      const lease = { owner: op.owner, attempt: op.attempt };
      assert.equal(
        (await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, { lease, outcome: {} })).status,
        200,
      );
    }
    const active = (await t.owner.get("/api/v1/servers/?status=active")).body.results as Json[];
    const usage = (i: number) => ({
      cpu_time_ns: 0,
      memory_used_mb: 100 * (i + 1),
      disk_used_gb: i + 1,
      net_bytes: 0,
    });
    const report = await a.agent.post("/api/v1/agent/reports", {
      machines: active.map((s) => {
        const i = ids.indexOf(s.id);
        return { server_id: s.id, power: "running", ...(i >= 0 ? { usage: usage(i) } : {}) };
      }),
    });
    assert.equal(report.status, 200, report.text);
    for (const [i, id] of ids.entries()) {
      const shown = (await server(id)).resource_usage;
      assert.equal(shown.memory_used, 100 * (i + 1), JSON.stringify(shown));
      assert.equal(shown.disk_used, i + 1, JSON.stringify(shown));
    }
    // The report is in the usage history too: the minute it came in shows its disk.
    const [start, end] = [Date.now() - 120_000, Date.now() + 60_000].map((ms) => new Date(ms).toISOString());
    for (const [i, id] of ids.entries()) {
      const res = await t.owner.get(`/api/v1/servers/${id}/metrics/?type=disk&start=${start}&end=${end}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.metrics.time_series["disk.0.used"].values.at(-1)?.[1], String(i + 1), res.text);
    }
  });

  it("bills a server's month for the larger of the bytes it received and sent, as its host's agent counted them", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "traffic" });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    const claimed = await a.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    for (const op of claimed.body.operations as Json[]) {
      const lease = { owner: op.owner, attempt: op.attempt };
      await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, { lease, outcome: {} });
    }
    const report = (usage: Json) =>
      a.agent.post("/api/v1/agent/reports", { machines: [{ server_id: id, power: "running", usage }] });
    const counters = { cpu_time_ns: 0, memory_used_mb: 100, disk_used_gb: 1 };
    // First seen: its counters count whole.
    assert.equal((await report({ ...counters, net_in_bytes: 2e9, net_out_bytes: 7e9 })).status, 200);
    assert.equal((await server(id)).resource_usage.bandwidth_used, 7);
    // 4 GB more received, 1 GB more sent: 6 GB in, 8 GB out this month.
    assert.equal((await report({ ...counters, net_in_bytes: 6e9, net_out_bytes: 8e9 })).status, 200);
    assert.equal((await server(id)).resource_usage.bandwidth_used, 8);
    // 5 GB more received: 11 GB in, more than the 8 GB out.
    assert.equal((await report({ ...counters, net_in_bytes: 11e9, net_out_bytes: 8e9 })).status, 200);
    assert.equal((await server(id)).resource_usage.bandwidth_used, 11);
    const [start, end] = [Date.now() - 120_000, Date.now() + 60_000].map((ms) => new Date(ms).toISOString());
    const res = await t.owner.get(
      `/api/v1/servers/${id}/metrics/?type=network&start=${start}&end=${end}&step=3600`,
    );
    assert.equal(res.status, 200, res.text);
    const total = (name: string) =>
      (res.body.metrics.time_series[name].values as [number, string][]).reduce(
        (sum, [, v]) => sum + Number(v),
        0,
      );
    // One point per hour of bytes per second: each direction's 11 GB and 8 GB over the hour they fell in.
    assert.ok(Math.abs(total("network.0.bandwidth.in") * 3600 - 11e9) < 3600 * 2, res.text);
    assert.ok(Math.abs(total("network.0.bandwidth.out") * 3600 - 8e9) < 3600 * 2, res.text);
  });

  it("counts the one sum an agent from before in and out were apart reports as sent", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "old-agent" });
    const id = created.body.id;
    const claimed = await a.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    for (const op of claimed.body.operations as Json[]) {
      const lease = { owner: op.owner, attempt: op.attempt };
      await a.agent.post(`/api/v1/agent/operations/${op.id}/result`, { lease, outcome: {} });
    }
    const usage = { cpu_time_ns: 0, memory_used_mb: 100, disk_used_gb: 1, net_bytes: 3e9 };
    const report = await a.agent.post("/api/v1/agent/reports", {
      machines: [{ server_id: id, power: "running", usage }],
    });
    assert.equal(report.status, 200, report.text);
    assert.equal((await server(id)).resource_usage.bandwidth_used, 3);
  });

  it("opens no customer or admin route to a host credential, and refuses a revoked one", async () => {
    expectError(await a.agent.get("/api/v1/account/"), 401, "unauthorized");
    expectError(await a.agent.get("/api/v1/servers/"), 401, "unauthorized");
    expectError(await a.agent.get("/api/v1/admin/hosts/"), 401, "unauthorized");
    expectError(await t.owner.post(CLAIM, { limit: 1 }), 401, "unauthorized");
    const beat = await b.agent.post("/api/v1/agent/heartbeat", {
      capacity: CAPACITY,
      agent_version: "0.1.1",
      driver: "sim",
    });
    assert.deepEqual(beat.body, { host_id: b.id, name: "hv-b", state: "enabled", admin_state: "enabled" });
    await t.admin.post(`/api/v1/admin/hosts/${b.id}/credentials/revoke/`);
    expectError(await b.agent.post(CLAIM, { limit: 1 }), 401, "unauthorized");
    expectError(
      await b.agent.post("/api/v1/agent/heartbeat", {
        capacity: CAPACITY,
        agent_version: "0.1.1",
        driver: "sim",
      }),
      401,
      "unauthorized",
    );
  });
});
