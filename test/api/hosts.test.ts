import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freshSince } from "../../src/domain/host-placement.ts";
import { client, type Json } from "../support/client.ts";
import { pathOf, queryOf } from "../support/page-links.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError, expectInvalid } from "./expect-error.ts";

const HOSTS = "/api/v1/admin/hosts/";
const JOIN = "/api/v1/agent/join";
const CAPACITY = { vcpus: 16, memory_mb: 65_536, disk_gb: 2000 };

describe("the fleet's hosts: admin API and the agents' join", () => {
  let t: TestApp;
  before(async () => {
    // Only the hosts these tests register: no embedded ones.
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off" });
  });
  after(async () => {
    await t.close();
  });

  let serial = 0;
  async function register(location = "us-west", extra: Record<string, unknown> = {}): Promise<Json> {
    serial += 1;
    const res = await t.admin.post(HOSTS, { name: `hv${serial}`, location, ...extra });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }

  async function join(token: string, capacity = CAPACITY) {
    return t.anonymous.post(JOIN, { join_token: token, capacity, agent_version: "1.2.3", driver: "qemu" });
  }

  /** A registered host whose agent joined: its id and the agent's client. */
  async function joinedHost(location = "us-west", capacity = CAPACITY) {
    const { host, join_token: token } = await register(location);
    const res = await join(token, capacity);
    assert.equal(res.status, 201, res.text);
    return { id: host.id as number, agent: client(t.url, res.body.credential) };
  }

  /** Places a server on the location's hosts the way a create will, since placement is not wired into it yet. */
  function claim(serverId: number, location: number, memoryMb: number) {
    const now = new Date();
    return t.app.services.repos.hostAllocations.claim(
      serverId,
      location,
      { vcpus: 1, memory_mb: memoryMb, disk_gb: 10 },
      "spread",
      freshSince(now),
      now.toISOString(),
    );
  }

  it("registers a host with a single-use join token, shown once; the host is down until its agent joins", async () => {
    const res = await t.admin.post(HOSTS, { name: "hv-a.fra.example.net", location: "eu-central" });
    assert.equal(res.status, 201, res.text);
    const { host, join_token: token, join_token_expires_at: expires } = res.body;
    assert.match(token, /^vpsj_[A-Za-z0-9_-]{40}$/);
    const ttl = Date.parse(expires) - Date.now();
    assert.ok(ttl > 3500_000 && ttl <= 3600_000, `expires in an hour: ${expires}`);
    assert.deepEqual(
      { ...host, id: 0, created_at: "", updated_at: "" },
      {
        id: 0,
        name: "hv-a.fra.example.net",
        location: "eu-central",
        state: "down",
        admin_state: "enabled",
        capacity: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        reserved: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        allocation_ratios: { vcpus: 4, memory_mb: 1, disk_gb: 1 },
        allocated: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        free: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
        server_count: 0,
        last_heartbeat_at: null,
        agent_version: null,
        driver: null,
        images: null,
        has_credential: false,
        created_at: "",
        updated_at: "",
      },
    );
    const stored = await t.app.services.repos.hosts.findById(host.id);
    assert.notEqual(stored?.join_token_hash, token, "only a digest is stored");
    assert.ok(!JSON.stringify(stored).includes(token));

    expectError(
      await t.admin.post(HOSTS, { name: "hv-a.fra.example.net", location: "us-east" }),
      409,
      "host_exists",
    );
    expectInvalid(await t.admin.post(HOSTS, { name: "hv-b", location: "mars" }), "location");
    expectInvalid(await t.admin.post(HOSTS, { name: "-bad-", location: "us-west" }), "name");
    expectInvalid(
      await t.admin.post(HOSTS, { name: "hv-c", location: "us-west", join_token_ttl_seconds: 5 }),
      "join_token_ttl_seconds",
    );
  });

  it("exchanges a join token once for a credential and records what the host reported", async () => {
    const { host, join_token: token } = await register("us-east", { join_token_ttl_seconds: 600 });
    const res = await join(token);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.host_id, host.id);
    assert.match(res.body.credential, /^vpsh_[A-Za-z0-9_-]{40}$/);
    const again = await join(token);
    expectError(again, 401, "join_token_invalid");
    assert.match(again.body.error.message, /used/);

    const shown = (await t.admin.get(`${HOSTS}${host.id}/`)).body;
    assert.equal(shown.state, "enabled");
    assert.deepEqual(shown.capacity, CAPACITY);
    assert.deepEqual(shown.free, { vcpus: 64, memory_mb: 65_536, disk_gb: 2000 });
    assert.equal(shown.agent_version, "1.2.3");
    assert.equal(shown.driver, "qemu");
    assert.equal(shown.has_credential, true);
    assert.ok(shown.last_heartbeat_at);

    const agent = client(t.url, res.body.credential);
    const me = await agent.get("/api/v1/agent/host/");
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body, { host_id: host.id, name: host.name, state: "enabled" });
  });

  it("refuses an unknown or expired join token, and one exchanged twice at once succeeds once", async () => {
    expectError(await join("vpsj_not-a-token"), 401, "join_token_invalid");
    const { host, join_token: token } = await register();
    await t.app.services.repos.db
      .updateTable("hosts")
      .set({ join_token_expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", host.id)
      .execute();
    const expired = await join(token);
    expectError(expired, 401, "join_token_invalid");
    assert.match(expired.body.error.message, /expired/);

    const fresh = await t.admin.post(`${HOSTS}${host.id}/join-token/`, {});
    assert.equal(fresh.status, 201, fresh.text);
    const both = await Promise.all([join(fresh.body.join_token), join(fresh.body.join_token)]);
    assert.deepEqual(both.map((r) => r.status).sort(), [201, 401]);
    expectError(both.find((r) => r.status === 401) as Json, 401, "join_token_invalid");
    expectInvalid(await join("x", { vcpus: -1, memory_mb: 1, disk_gb: 1 }), "capacity.vcpus");
  });

  it("keeps host credentials and customer or admin tokens each to their own routes", async () => {
    const { agent } = await joinedHost();
    expectError(await agent.get("/api/v1/servers/"), 401, "unauthorized");
    expectError(await agent.get("/api/v1/account/"), 401, "unauthorized");
    expectError(await agent.get(HOSTS), 401, "unauthorized");
    expectError(await t.owner.get("/api/v1/agent/host/"), 401, "unauthorized");
    expectError(await t.admin.get("/api/v1/agent/host/"), 401, "unauthorized");
    expectError(await t.anonymous.get("/api/v1/agent/host/"), 401, "unauthorized");
    expectError(await t.owner.get(HOSTS), 401, "unauthorized");
    expectError(await t.owner.post(HOSTS, { name: "sneaky", location: "us-west" }), 401, "unauthorized");
  });

  it("revokes a host's credentials; the host joins again only with a new join token", async () => {
    const { id, agent } = await joinedHost();
    assert.equal((await agent.get("/api/v1/agent/host/")).status, 200);
    const revoked = await t.admin.post(`${HOSTS}${id}/credentials/revoke/`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.deepEqual(revoked.body, { revoked: 1 });
    expectError(await agent.get("/api/v1/agent/host/"), 401, "unauthorized");
    assert.equal((await t.admin.get(`${HOSTS}${id}/`)).body.has_credential, false);

    const token = (await t.admin.post(`${HOSTS}${id}/join-token/`, { join_token_ttl_seconds: 120 })).body;
    assert.ok(Date.parse(token.join_token_expires_at) - Date.now() <= 120_000);
    const rejoined = await join(token.join_token);
    assert.equal(rejoined.status, 201, rejoined.text);
    assert.equal((await client(t.url, rejoined.body.credential).get("/api/v1/agent/host/")).status, 200);
    expectError(await t.admin.post(`${HOSTS}999999/credentials/revoke/`), 404, "not_found");
  });

  it("sets reserved amounts and allocation ratios, never below what is allocated", async () => {
    const { id } = await joinedHost("eu-central", { vcpus: 8, memory_mb: 8192, disk_gb: 100 });
    const set = await t.admin.patch(`${HOSTS}${id}/`, {
      reserved: { memory_mb: 1024 },
      allocation_ratios: { vcpus: 2.5, disk_gb: 1.5 },
    });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body.reserved, { vcpus: 0, memory_mb: 1024, disk_gb: 0 });
    assert.deepEqual(set.body.allocation_ratios, { vcpus: 2.5, memory_mb: 1, disk_gb: 1.5 });
    assert.deepEqual(set.body.free, { vcpus: 20, memory_mb: 7168, disk_gb: 150 });

    expectInvalid(
      await t.admin.patch(`${HOSTS}${id}/`, {
        reserved: { vcpus: -1 },
        allocation_ratios: { memory_mb: 1.0001, disk_gb: 0 },
      }),
      "reserved.vcpus",
      "allocation_ratios.memory_mb",
      "allocation_ratios.disk_gb",
    );
    expectInvalid(await t.admin.patch(`${HOSTS}${id}/`, { reserved: { gpus: 1 } }), "reserved.gpus");

    const eu = (await t.app.services.repos.catalogue.findLocationByCode("eu-central"))?.id as number;
    assert.equal((await claim(900_001, eu, 4096))?.host_id, id);
    const tooMuch = await t.admin.patch(`${HOSTS}${id}/`, { reserved: { memory_mb: 4097 } });
    expectError(tooMuch, 409, "host_capacity_in_use");
    assert.equal((await t.admin.get(`${HOSTS}${id}/`)).body.reserved.memory_mb, 1024, "nothing changed");
    const exact = await t.admin.patch(`${HOSTS}${id}/`, { reserved: { memory_mb: 4096 } });
    assert.equal(exact.status, 200, exact.text);
    assert.deepEqual(exact.body.free.memory_mb, 0);
    assert.deepEqual(exact.body.allocated, { vcpus: 1, memory_mb: 4096, disk_gb: 10 });
    assert.equal(exact.body.server_count, 1);
    expectError(await t.admin.patch(`${HOSTS}999999/`, { reserved: { vcpus: 1 } }), 404, "not_found");
  });

  it("deletes a host only when it is empty", async () => {
    const { id, agent } = await joinedHost("us-east");
    const east = (await t.app.services.repos.catalogue.findLocationByCode("us-east"))?.id as number;
    // Other us-east hosts may have room; a host of its own takes the server when the others are disabled.
    const others = (await t.admin.get(`${HOSTS}?location=us-east`)).body.results.filter(
      (h: Json) => h.id !== id,
    );
    for (const other of others) await t.admin.post(`${HOSTS}${other.id}/disable/`);
    assert.equal((await claim(900_002, east, 1024))?.host_id, id);
    expectError(await t.admin.delete(`${HOSTS}${id}/`), 409, "host_not_empty");
    assert.ok(await t.app.services.repos.hostAllocations.release(900_002, new Date().toISOString()));
    const deleted = await t.admin.delete(`${HOSTS}${id}/`);
    assert.equal(deleted.status, 204, deleted.text);
    expectError(await t.admin.get(`${HOSTS}${id}/`), 404, "not_found");
    expectError(await t.admin.delete(`${HOSTS}${id}/`), 404, "not_found");
    expectError(await agent.get("/api/v1/agent/host/"), 401, "unauthorized");
    for (const other of others) await t.admin.post(`${HOSTS}${other.id}/enable/`);
  });

  it("enables, disables and drains a host; only an enabled host that is up takes servers", async () => {
    const { id } = await joinedHost("us-east", { vcpus: 4, memory_mb: 4096, disk_gb: 100 });
    const drained = await t.admin.post(`${HOSTS}${id}/drain/`);
    assert.equal(drained.status, 200, drained.text);
    assert.equal(drained.body.state, "draining");
    const disabled = await t.admin.post(`${HOSTS}${id}/disable/`);
    assert.equal(disabled.body.state, "disabled");
    assert.equal((await t.admin.post(`${HOSTS}${id}/disable/`)).body.state, "disabled", "again: no change");
    const listed = (await t.admin.get(`${HOSTS}?state=disabled&location=us-east`)).body;
    assert.ok(listed.results.some((h: Json) => h.id === id));
    assert.ok(listed.results.every((h: Json) => h.state === "disabled" && h.location === "us-east"));

    // A silent host is down whatever was set, and takes nothing.
    await t.admin.post(`${HOSTS}${id}/enable/`);
    await t.app.services.repos.db
      .updateTable("hosts")
      .set({ last_heartbeat_at: "2020-01-01T00:00:00.000Z" })
      .where("id", "=", id)
      .execute();
    const down = (await t.admin.get(`${HOSTS}${id}/`)).body;
    assert.deepEqual([down.state, down.admin_state], ["down", "enabled"]);
    assert.ok((await t.admin.get(`${HOSTS}?state=down`)).body.results.some((h: Json) => h.id === id));
    assert.ok(!(await t.admin.get(`${HOSTS}?state=enabled`)).body.results.some((h: Json) => h.id === id));
    expectError(await t.admin.post(`${HOSTS}999999/drain/`), 404, "not_found");
    expectError(await t.admin.post(`${HOSTS}0x1/drain/`), 404, "not_found");
  });

  it("lists hosts by free memory and pages them with next and previous links", async () => {
    for (const memory_mb of [1024, 3072, 2048])
      await joinedHost("eu-central", { vcpus: 1, memory_mb, disk_gb: 1 });
    const all = (await t.admin.get(`${HOSTS}?order=free_memory&page_size=500`)).body;
    const free = all.results.map((h: Json) => h.free.memory_mb);
    assert.deepEqual(
      free,
      [...free].sort((a: number, b: number) => b - a),
    );
    const first = await t.admin.get(`${HOSTS}?location=eu-central&order=free_memory&page_size=2`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.results.length, 2);
    assert.equal(first.body.previous, null);
    assert.ok(pathOf(first.body.next).startsWith(HOSTS));
    assert.deepEqual(queryOf(first.body.next), {
      location: "eu-central",
      order: "free_memory",
      page: "2",
      page_size: "2",
    });
    const second = (await t.admin.get(pathOf(first.body.next))).body;
    assert.equal(second.count, first.body.count);
    assert.ok(second.results.every((h: Json) => !first.body.results.some((f: Json) => f.id === h.id)));
    expectInvalid(await t.admin.get(`${HOSTS}?order=name`), "order");
  });
});
