import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, client, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const CAPACITY = { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 };
const CLAIM = "/api/v1/agent/operations/claim";
const SPEND = "/api/v1/agent/transfers/spend";
const DISK = { size: 65_536, sha256: "ab".repeat(32) };

// A migration driven step by step through the agent API, as two agents of one location would: the control plane
// issues the target a single-use transfer token, the source spends it once, and the server moves only when the
// target reports its copy in.
describe("migrating a server between two hosts through the agents' link", () => {
  let t: TestApp;
  let a: { id: number; agent: Client };
  let b: { id: number; agent: Client };
  before(async () => {
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off" });
    a = await joinedHost("hv-a", "http://10.0.0.1:9443");
    b = await joinedHost("hv-b", "http://10.0.0.2:9443");
  });
  after(() => t.close());

  async function joinedHost(name: string, transferUrl: string): Promise<{ id: number; agent: Client }> {
    const registered = await t.admin.post("/api/v1/admin/hosts/", { name, location: "us-west" });
    assert.equal(registered.status, 201, registered.text);
    const joined = await t.anonymous.post("/api/v1/agent/join", {
      join_token: registered.body.join_token,
      capacity: CAPACITY,
      agent_version: "0.1.0",
      driver: "sim",
    });
    assert.equal(joined.status, 201, joined.text);
    const agent = client(t.url, joined.body.credential);
    const beat = await agent.post("/api/v1/agent/heartbeat", {
      capacity: CAPACITY,
      agent_version: "0.1.0",
      driver: "sim",
      transfer_url: transferUrl,
    });
    assert.equal(beat.status, 200, beat.text);
    return { id: registered.body.host.id, agent };
  }

  /** Claims the host's one due operation of `kind` and ends it with `result`. */
  async function run(host: { agent: Client }, kind: string, result: Json): Promise<Json> {
    const claimed = await host.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    assert.equal(claimed.status, 200, claimed.text);
    const op = claimed.body.operations.find((o: Json) => o.kind === kind);
    assert.ok(op, `no ${kind} in ${claimed.text}`);
    const ended = await host.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      ...result,
    });
    assert.equal(ended.status, 200, ended.text);
    return op;
  }

  const hostOf = async (id: number) => (await t.admin.get(`/api/v1/admin/hosts/${id}/`)).body;
  const server = async (id: number) => (await t.owner.get(`/api/v1/servers/${id}/`)).body;

  it("moves a running server: the target gets a single-use token, the server keeps its id and addresses", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "mover" });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    const source = (await t.app.services.repos.servers.findById(id))?.host_id;
    const [from, to] = source === a.id ? [a, b] : [b, a];
    await run(from, "create", { outcome: {} });
    const before = await server(id);
    assert.equal(before.status, "active");

    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    assert.equal(migrating.body.target_host_id, to.id);
    assert.equal((await server(id)).status, "stopping");
    // Power actions wait for the move.
    expectError(await t.owner.post(`/api/v1/servers/${id}/reboot/`), 400, "server_busy");
    // The target holds the room while the source still holds the server's.
    assert.equal((await hostOf(to.id)).server_count, 1);
    assert.equal((await hostOf(from.id)).server_count, 1);

    await run(from, "migrate_out", { outcome: { disk: DISK } });
    assert.equal((await server(id)).status, "starting");
    const claimed = await to.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    const op = claimed.body.operations.find((o: Json) => o.kind === "migrate_in");
    assert.ok(op, claimed.text);
    assert.equal(
      op.transfer.url,
      `${from === a ? "http://10.0.0.1:9443" : "http://10.0.0.2:9443"}/transfers/${id}`,
    );
    assert.deepEqual(
      [op.transfer.size, op.transfer.sha256, op.transfer.start],
      [DISK.size, DISK.sha256, true],
    );
    assert.equal(op.spec.ipv4, before.ip_address ?? op.spec.ipv4);

    // A wrong token, the target's own credential, and the right token a second time are all refused.
    expectError(
      await from.agent.post(SPEND, { server_id: id, token: "vpst_wrong" }),
      403,
      "transfer_token_invalid",
    );
    expectError(
      await to.agent.post(SPEND, { server_id: id, token: op.transfer.token }),
      403,
      "transfer_token_invalid",
    );
    const spent = await from.agent.post(SPEND, { server_id: id, token: op.transfer.token });
    assert.equal(spent.status, 200, spent.text);
    assert.deepEqual(spent.body, DISK);
    expectError(
      await from.agent.post(SPEND, { server_id: id, token: op.transfer.token }),
      403,
      "transfer_token_invalid",
    );

    const ended = await to.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      outcome: {},
    });
    assert.equal(ended.status, 200, ended.text);
    const after = await server(id);
    assert.equal(after.status, "active");
    assert.deepEqual(
      [after.id, after.ip_address, after.ipv6_address],
      [before.id, before.ip_address, before.ipv6_address],
    );
    assert.equal((await t.app.services.repos.servers.findById(id))?.host_id, to.id);
    // The old copy is destroyed on the source, which then holds nothing and can be deleted.
    assert.equal((await hostOf(from.id)).server_count, 0);
    expectError(await t.admin.delete(`/api/v1/admin/hosts/${from.id}/`), 409, "host_not_empty");
    await run(from, "cleanup", { outcome: {} });
    const migration = await t.admin.get(`/api/v1/admin/migrations/${migrating.body.id}/`);
    assert.equal(migration.body.state, "succeeded");
    assert.equal(migration.body.checksum, DISK.sha256);
  });

  it("a copy in that fails for good leaves the server whole on its source, started again, the target's room given back", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "stays" });
    const id = created.body.id;
    const source = (await t.app.services.repos.servers.findById(id))?.host_id;
    const [from, to] = source === a.id ? [a, b] : [b, a];
    await run(from, "create", { outcome: {} });
    const targetBefore = await hostOf(to.id);
    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`, { target_host_id: to.id });
    assert.equal(migrating.status, 202, migrating.text);
    await run(from, "migrate_out", { outcome: { disk: DISK } });
    await run(to, "migrate_in", {
      error: { code: "checksum_mismatch", message: "bad copy" },
      permanent: true,
    });
    assert.equal((await hostOf(to.id)).memory_mb_allocated ?? 0, targetBefore.memory_mb_allocated ?? 0);
    assert.equal((await hostOf(to.id)).server_count, targetBefore.server_count);
    assert.equal((await t.app.services.repos.servers.findById(id))?.host_id, from.id);
    assert.equal((await server(id)).status, "starting");
    // The target discards its copy; the source starts the server again.
    await run(to, "cleanup", { outcome: {} });
    await run(from, "start", { outcome: {} });
    assert.equal((await server(id)).status, "active");
    const migration = await t.admin.get(`/api/v1/admin/migrations/${migrating.body.id}/`);
    assert.equal(migration.body.state, "failed");
    assert.equal(migration.body.error.code, "checksum_mismatch");
  });

  it("shows the customer the move as one command migrate, and nothing of the old copy's clean-up", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "watched" });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    const source = (await t.app.services.repos.servers.findById(id))?.host_id;
    const [from, to] = source === a.id ? [a, b] : [b, a];
    await run(from, "create", { outcome: {} });
    const migrating = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(migrating.status, 202, migrating.text);
    const out = await run(from, "migrate_out", { outcome: { disk: DISK } });
    const moving = await t.owner.get(`/api/v1/actions/${out.id}/`);
    assert.equal(moving.status, 200, moving.text);
    assert.equal(moving.body.command, "migrate");
    await run(to, "migrate_in", { outcome: {} });

    // The move is done; the old copy's clean-up on the source is still due, and is the provider's business.
    const cleanup = (await t.app.services.repos.operations.unfinishedFor(id)).find(
      (op) => op.kind === "cleanup",
    );
    assert.ok(cleanup, "a clean-up is due on the source");
    const listed = await t.owner.get(`/api/v1/servers/${id}/actions/`);
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.body.count, 3);
    assert.deepEqual(
      listed.body.results.map((action: Json) => [action.command, action.status]),
      [
        ["migrate", "success"],
        ["migrate", "success"],
        ["create", "success"],
      ],
    );
    expectError(await t.owner.get(`/api/v1/actions/${cleanup.id}/`), 404, "not_found");
    // A refused power action names no action to wait for: the clean-up holds nothing up.
    const refused = await t.owner.post(`/api/v1/servers/${id}/start/`);
    expectError(refused, 400, "server_already_running");
    assert.equal(refused.body.action_id, undefined, refused.text);

    await run(from, "cleanup", { outcome: {} });
    expectError(await t.owner.get(`/api/v1/actions/${cleanup.id}/`), 404, "not_found");
    assert.equal((await t.owner.get(`/api/v1/servers/${id}/actions/`)).body.count, 3);
  });

  it("refuses what cannot move: no room elsewhere, the same host, a busy server, an unknown one", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "busy" });
    const id = created.body.id;
    const source = (await t.app.services.repos.servers.findById(id))?.host_id;
    expectError(await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`), 400, "server_busy");
    const [from] = source === a.id ? [a, b] : [b, a];
    await run(from, "create", { outcome: {} });
    expectError(
      await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`, { target_host_id: from.id }),
      409,
      "same_host",
    );
    expectError(await t.admin.post("/api/v1/admin/servers/999999/migrate/"), 404, "not_found");
    const other = from === a ? b : a;
    await t.admin.post(`/api/v1/admin/hosts/${other.id}/disable/`);
    expectError(await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`), 409, "no_capacity");
    assert.equal((await server(id)).status, "active");
    await t.admin.post(`/api/v1/admin/hosts/${other.id}/enable/`);
  });
});
