import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, client, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const CAPACITY = { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 };
const CLAIM = "/api/v1/agent/operations/claim";
const REPORTS = "/api/v1/agent/reports";
const HEARTBEAT = { capacity: CAPACITY, agent_version: "0.1.0", driver: "sim" };

/** Joins a new host of the location: its id and its agent's client. */
async function joinedHost(
  t: TestApp,
  name: string,
  location: string,
): Promise<{ id: number; agent: Client }> {
  const registered = await t.admin.post("/api/v1/admin/hosts/", { name, location });
  assert.equal(registered.status, 201, registered.text);
  const joined = await t.anonymous.post("/api/v1/agent/join", {
    join_token: registered.body.join_token,
    ...HEARTBEAT,
  });
  assert.equal(joined.status, 201, joined.text);
  return { id: registered.body.host.id, agent: client(t.url, joined.body.credential) };
}

/** Claims every due operation of the agent's host and ends each as succeeded, as its agent would. */
async function runAll(agent: Client): Promise<Json[]> {
  const ops = (await agent.post(CLAIM, { limit: 100 })).body.operations;
  for (const op of ops) {
    const ended = await agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      outcome: {},
    });
    assert.equal(ended.status, 200, ended.text);
  }
  return ops;
}

describe("an agent's host that returns after it was down reconciles at its first report", () => {
  const clock = new SettableClock();
  let t: TestApp;
  let a: { id: number; agent: Client };
  const ids: Record<string, number> = {};
  before(async () => {
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off" }, clock);
    a = await joinedHost(t, "hv-a", "us-west");
    for (const name of ["steady", "drifted", "vanished"]) {
      const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name });
      assert.equal(created.status, 201, created.text);
      ids[name] = created.body.id;
    }
    await runAll(a.agent);
  });
  after(() => t.close());

  const status = async (name: string) => (await t.owner.get(`/api/v1/servers/${ids[name]}/`)).body.status;
  const hostState = async () => (await t.admin.get(`/api/v1/admin/hosts/${a.id}/`)).body.state;

  // Its machines drifted while it was gone: one stopped, one vanished, and one of no server appeared.
  const drifted = () => [
    { server_id: ids.steady, power: "running" },
    { server_id: ids.drifted, power: "stopped" },
    { server_id: 987_654, power: "running" },
  ];

  it("does not judge a report of a host that is down", async () => {
    clock.advance(60_000);
    assert.equal(await hostState(), "down");
    const report = await a.agent.post(REPORTS, { machines: drifted() });
    assert.equal(report.status, 200, report.text);
    assert.deepEqual(report.body, { applied: 0, ignored: 1, reconciled: false, queued: 0, destroy: [] });
    assert.equal(await status("drifted"), "active");
    assert.equal(await status("vanished"), "active");
  });

  it("makes the host follow the database at the first report after its heartbeat, not the reverse", async () => {
    const beat = await a.agent.post("/api/v1/agent/heartbeat", HEARTBEAT);
    assert.equal(beat.body.state, "enabled", beat.text);
    const report = await a.agent.post(REPORTS, { machines: drifted() });
    assert.equal(report.status, 200, report.text);
    assert.equal(report.body.reconciled, true);
    assert.equal(report.body.queued, 1);
    assert.deepEqual(report.body.destroy, [987_654]);
    // The active server whose machine stopped is started again; the one whose machine is gone is in error.
    assert.equal(await status("drifted"), "starting");
    assert.equal(await status("vanished"), "error");
    assert.equal(await status("steady"), "active");
    const started = await runAll(a.agent);
    assert.deepEqual(
      started.map((op: Json) => [op.server_id, op.kind]),
      [[ids.drifted, "start"]],
    );
    assert.equal(await status("drifted"), "active");
  });

  it("applies the power sync's rules again from the next report on", async () => {
    const report = await a.agent.post(REPORTS, {
      machines: [
        { server_id: ids.steady, power: "stopped" },
        { server_id: ids.drifted, power: "running" },
      ],
    });
    assert.deepEqual(report.body, { applied: 2, ignored: 0, reconciled: false, queued: 0, destroy: [] });
    assert.equal(await status("steady"), "stopped");
    assert.equal(await status("drifted"), "active");
  });

  it("leaves a server whose operation ended while the machines were observed to that operation", async () => {
    const report = await a.agent.post(REPORTS, {
      machines: [{ server_id: ids.drifted, power: "running" }],
      unsure: [ids.steady],
    });
    assert.deepEqual(report.body, { applied: 1, ignored: 0, reconciled: false, queued: 0, destroy: [] });
    assert.equal(await status("steady"), "stopped");
    // Not named and not unsure: its machine is gone.
    const gone = await a.agent.post(REPORTS, { machines: [{ server_id: ids.steady, power: "stopped" }] });
    assert.equal(gone.body.applied, 2);
    assert.equal(await status("drifted"), "error");
  });
});

describe("a restarted agent frees the leases its killed predecessor held", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off" });
  });
  after(() => t.close());

  const row = (id: number) =>
    t.app.services.repos.db
      .selectFrom("operations")
      .select(["status", "lease_owner"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  it("releases the host's earlier agents' leases, never the caller's nor another host's", async () => {
    const a = await joinedHost(t, "hv-a", "us-west");
    const b = await joinedHost(t, "hv-b", "eu-central");
    for (const location of ["us-west", "eu-central"]) {
      const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: location, location });
      assert.equal(created.status, 201, created.text);
    }
    const [killed] = (await a.agent.post(CLAIM, { limit: 10, instance: "deadbeef01" })).body.operations;
    const [other] = (await b.agent.post(CLAIM, { limit: 10, instance: "feedface02" })).body.operations;
    assert.ok(killed && other);
    assert.match(killed.owner, new RegExp(`^agent:${a.id}:deadbeef01:`));

    // The holder itself releases nothing of its own.
    const own = await a.agent.post("/api/v1/agent/leases/release-stale", { instance: "deadbeef01" });
    assert.deepEqual(own.body, { released: 0 });
    const restarted = await a.agent.post("/api/v1/agent/leases/release-stale", { instance: "cafe0003" });
    assert.equal(restarted.status, 200, restarted.text);
    assert.deepEqual(restarted.body, { released: 1 });
    assert.deepEqual(await row(killed.id), { status: "pending", lease_owner: null });
    assert.deepEqual(await row(other.id), { status: "running", lease_owner: other.owner });

    // The operation is due again at once, for the new agent.
    const [resumed] = (await a.agent.post(CLAIM, { limit: 10, instance: "cafe0003" })).body.operations;
    assert.equal(resumed.id, killed.id);
    assert.equal(resumed.attempt, killed.attempt + 1);

    const bad = await a.agent.post("/api/v1/agent/leases/release-stale", { instance: "agent:1:%" });
    assert.equal(bad.status, 400, bad.text);
  });
});
