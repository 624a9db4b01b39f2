import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, client, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const CAPACITY = { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 };
const CLAIM = "/api/v1/agent/operations/claim";
const DISK = { size: 65_536, sha256: "cd".repeat(32) };
const DOWN_AFTER_MS = 30_000;
const UNAVAILABLE_AFTER_MS = 300_000;

interface Host {
  id: number;
  name: string;
  agent: Client;
  /** Where its agent serves disks to migrations' targets. */
  transferUrl: string;
}

/**
 * Migrations between two agents of one location, driven step by step through the agent API, whose source or
 * target goes quiet (it stops beating and claims nothing, as when its machine dies) while a step waits for it.
 */
describe("a migration whose host goes down", () => {
  const clock = new SettableClock();
  let t: TestApp;
  let a: Host;
  let b: Host;

  before(async () => {
    t = await startTestApp(
      {
        VPS_EMBEDDED_HOSTS: "off",
        VPS_HOST_DOWN_AFTER_MS: String(DOWN_AFTER_MS),
        VPS_HOST_UNAVAILABLE_AFTER_MS: String(UNAVAILABLE_AFTER_MS),
      },
      clock,
    );
    // The test sweeps when it means to.
    await t.app.engine.hostUnavailable.stop();
    a = await joinedHost("hv-a", "http://10.0.0.1:9443");
    b = await joinedHost("hv-b", "http://10.0.0.2:9443");
  });
  after(() => t.close());

  const heartbeat = {
    capacity: CAPACITY,
    agent_version: "0.1.0",
    driver: "sim",
  };

  async function joinedHost(name: string, transferUrl: string): Promise<Host> {
    const registered = await t.admin.post("/api/v1/admin/hosts/", { name, location: "us-west" });
    assert.equal(registered.status, 201, registered.text);
    const joined = await t.anonymous.post("/api/v1/agent/join", {
      join_token: registered.body.join_token,
      ...heartbeat,
    });
    assert.equal(joined.status, 201, joined.text);
    const agent = client(t.url, joined.body.credential);
    const host = { id: registered.body.host.id as number, name, agent, transferUrl };
    await beat(host);
    return host;
  }

  /** The hosts' heartbeats, at the clock's time; a host left out goes down once the clock has moved on. */
  async function beat(...hosts: Host[]): Promise<void> {
    for (const host of hosts) {
      const res = await host.agent.post("/api/v1/agent/heartbeat", {
        ...heartbeat,
        transfer_url: host.transferUrl,
      });
      assert.equal(res.status, 200, res.text);
    }
  }

  /** Claims the host's one due operation of `kind` and ends it with `result`. */
  async function run(host: Host, kind: string, result: Json = { outcome: {} }): Promise<void> {
    const claimed = await host.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    assert.equal(claimed.status, 200, claimed.text);
    const op = claimed.body.operations.find((o: Json) => o.kind === kind);
    assert.ok(op, `no ${kind} in ${claimed.text}`);
    const ended = await host.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      ...result,
    });
    assert.equal(ended.status, 200, ended.text);
  }

  const sweep = () => t.app.engine.hostUnavailable.runOnce();
  const hostOf = async (host: Host) => (await t.admin.get(`/api/v1/admin/hosts/${host.id}/`)).body;
  const server = async (id: number) => (await t.owner.get(`/api/v1/servers/${id}/`)).body;
  const placedOn = async (id: number) => (await t.app.repos.servers.findById(id))?.host_id;
  const migration = async (id: number) => (await t.admin.get(`/api/v1/admin/migrations/${id}/`)).body;
  /** The server's unfinished operations, as kind@host name, in name order. */
  const waiting = async (id: number) =>
    (await t.app.repos.operations.unfinishedFor(id))
      .map((op) => `${op.kind}@${op.host_id === a.id ? "hv-a" : op.host_id === b.id ? "hv-b" : "its host"}`)
      .sort();

  /** A new server, made on whichever host placement picked, and (unless `stopped`) running. */
  async function madeServer(name: string, stopped = false) {
    await beat(a, b);
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name });
    assert.equal(created.status, 201, created.text);
    const id: number = created.body.id;
    const [from, to] = (await placedOn(id)) === a.id ? [a, b] : [b, a];
    await run(from, "create");
    if (stopped) {
      assert.equal((await t.owner.post(`/api/v1/servers/${id}/stop/`)).status, 200);
      await run(from, "stop");
    }
    assert.equal((await server(id)).status, stopped ? "stopped" : "active");
    return { id, from, to };
  }

  it("gives up a migrate_out whose source stays down: the server never left it, shown as it was, the target's room given back", async () => {
    const { id, from, to } = await madeServer("source-dies");
    const targetBefore = await hostOf(to);
    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    assert.equal((await hostOf(to)).server_count, targetBefore.server_count + 1);

    clock.advance(DOWN_AFTER_MS + 1000);
    await beat(to);
    assert.equal((await hostOf(from)).state, "down");
    assert.equal(await sweep(), 0, "not before the deadline");
    assert.equal((await server(id)).status, "stopping");

    clock.advance(UNAVAILABLE_AFTER_MS);
    await beat(to);
    const ended = await Promise.all([sweep(), sweep(), sweep()]);
    assert.equal(
      ended.reduce((x, y) => x + y, 0),
      1,
      "given up once however many sweeps run",
    );

    assert.equal((await server(id)).status, "active");
    assert.equal(await placedOn(id), from.id);
    const abandoned = await migration(migrating.body.id);
    assert.equal(abandoned.state, "failed");
    assert.equal(abandoned.error?.code, "host_unavailable");
    assert.equal((await hostOf(to)).server_count, targetBefore.server_count, "the target's room given back");
    assert.equal((await hostOf(to)).memory_mb_allocated ?? 0, targetBefore.memory_mb_allocated ?? 0);
    // Nothing was copied, and a start queued on a dead host would only wait: the host's return reconciles it.
    assert.deepEqual(await waiting(id), []);
    const migrateOut = (await t.app.repos.operations.listForServer(id, 1, 0))[0];
    assert.equal(migrateOut?.kind, "migrate_out");
    assert.equal(migrateOut?.error_code, "host_unavailable");
    // Power actions work again.
    await beat(from, to);
    assert.equal((await t.owner.post(`/api/v1/servers/${id}/reboot/`)).status, 200);
    await run(from, "reboot");
  });

  it("gives up a migrate_in whose target stays down: the server is whole on its source and started there, the target's copy destroyed once it returns, however late", async () => {
    const { id, from, to } = await madeServer("target-dies");
    const targetBefore = await hostOf(to);
    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    await run(from, "migrate_out", { outcome: { disk: DISK } });
    assert.equal((await server(id)).status, "starting");

    clock.advance(DOWN_AFTER_MS + 1000);
    await beat(from);
    assert.equal(await sweep(), 0, "not before the deadline");
    clock.advance(UNAVAILABLE_AFTER_MS);
    await beat(from);
    assert.equal(await sweep(), 1);

    const ended = await migration(migrating.body.id);
    assert.equal(ended.state, "failed");
    assert.equal(ended.error?.code, "host_unavailable");
    assert.equal(await placedOn(id), from.id);
    assert.equal((await hostOf(to)).server_count, targetBefore.server_count, "the target's room given back");
    assert.equal((await server(id)).status, "starting");
    assert.deepEqual(
      await waiting(id),
      ["cleanup@hv-b", "start@its host"].map((w) => swapNames(w, from)),
    );
    await run(from, "start");
    assert.equal((await server(id)).status, "active");

    // The clean-up waits for its host, however long it stays down.
    clock.advance(10 * 3_600_000);
    await beat(from);
    assert.equal(await sweep(), 0);
    assert.deepEqual(await waiting(id), [swapNames("cleanup@hv-b", from)]);
    await beat(to);
    await run(to, "cleanup");
    assert.deepEqual(await waiting(id), []);
    assert.equal(await placedOn(id), from.id);
  });

  it("keeps a migrate_in waiting while its target is up, though its source is down; a stopped server given up is left stopped", async () => {
    const { id, from, to } = await madeServer("both-die", true);
    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    await run(from, "migrate_out", { outcome: { disk: DISK } });
    assert.equal((await server(id)).status, "stopping");

    // The source dies; the target, which runs the migrate_in, is up.
    clock.advance(UNAVAILABLE_AFTER_MS + DOWN_AFTER_MS);
    await beat(to);
    assert.equal((await hostOf(from)).state, "down");
    assert.equal(await sweep(), 0, "the target may still copy the disk once the source returns");
    assert.equal((await migration(migrating.body.id)).state, "running");

    // Then the target dies too.
    clock.advance(UNAVAILABLE_AFTER_MS + DOWN_AFTER_MS);
    assert.equal(await sweep(), 1);
    assert.equal((await migration(migrating.body.id)).error?.code, "host_unavailable");
    assert.equal((await server(id)).status, "stopped", "put back as it was, with nothing to start");
    assert.equal(await placedOn(id), from.id);
    assert.deepEqual(await waiting(id), [swapNames("cleanup@hv-b", from)]);
    await beat(a, b);
    await run(to, "cleanup");
  });

  it("destroys the target's copy even when the server was deleted while its migrate_in waited", async () => {
    const { id, from, to } = await madeServer("deleted-meanwhile");
    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    await run(from, "migrate_out", { outcome: { disk: DISK } });
    assert.equal((await t.owner.delete(`/api/v1/servers/${id}/`)).status, 204);

    clock.advance(UNAVAILABLE_AFTER_MS + DOWN_AFTER_MS);
    await beat(from);
    assert.equal(await sweep(), 1, "the migrate_in gives up; the delete never does");
    assert.deepEqual(
      await waiting(id),
      ["cleanup@hv-b", "delete@its host"].map((w) => swapNames(w, from)),
    );
    await run(from, "delete");
    await beat(to);
    await run(to, "cleanup");
    assert.deepEqual(await waiting(id), []);
  });

  /** Names written for a server that started on hv-a, for one that started on `from`. */
  function swapNames(expected: string, from: Host): string {
    if (from.id === a.id) return expected;
    return expected.replace(/hv-[ab]/, (name) => (name === "hv-a" ? "hv-b" : "hv-a"));
  }
});
