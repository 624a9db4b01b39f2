import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { packageVersion } from "../../src/package-version.ts";
import { client, type Json, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const HOSTS = "/api/v1/admin/hosts/";
// Starter VPS (plan 3): 1 vCPU, 1024 MB, 25 GB. Debian 12 (OS 3) boots from debian-12.qcow2.
const STARTER = { vcpus: 1, memory_mb: 1024, disk_gb: 25 };
const starter = (name: string, location = "us-west", os_id = 3) => ({ name, plan_id: 3, os_id, location });

/** What a create refused for want of room leaves behind: nothing at all. */
async function footprint(t: TestApp, api: { get(path: string): Promise<Json> }) {
  const db = t.database.db;
  const count = async (table: "servers" | "operations" | "host_allocations") =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const taken = await db
    .selectFrom("ip_addresses")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("server_id", "is not", null)
    .executeTakeFirstOrThrow();
  return {
    balance: (await api.get("/api/v1/account/")).body.balance,
    servers: await count("servers"),
    operations: await count("operations"),
    allocations: await count("host_allocations"),
    addresses: Number(taken.n),
  };
}

async function hostNamed(t: TestApp, name: string): Promise<Json> {
  const all = (await t.admin.get(`${HOSTS}?page_size=500`)).body.results as Json[];
  const host = all.find((h) => h.name === name);
  assert.ok(host, `a host named ${name} among ${all.map((h) => h.name).join(", ")}`);
  return host;
}

describe("placement with the embedded sim hosts", () => {
  let t: TestApp;
  before(async () => {
    // Room for two Starter servers per location: 1 vCPU × 4.0, 2048 MB, 1000 GB.
    t = await startTestApp({ VPS_SIM_HOST_CAPACITY: "vcpus=1,memory=2048,disk=1000" });
  });
  after(() => t.close());

  it("registers one sim host per location at boot, up, with the configured capacity and every image", async () => {
    const listed = (await t.admin.get(`${HOSTS}?page_size=500`)).body;
    assert.deepEqual(listed.results.map((h: Json) => h.name).sort(), [
      "sim-eu-central",
      "sim-us-east",
      "sim-us-west",
    ]);
    for (const host of listed.results) {
      assert.equal(host.state, "enabled");
      assert.equal(host.driver, "sim");
      assert.equal(host.agent_version, packageVersion);
      assert.deepEqual(host.capacity, { vcpus: 1, memory_mb: 2048, disk_gb: 1000 });
      assert.equal(host.images, null);
      assert.equal(host.has_credential, false, "an embedded host needs no credential");
    }
  });

  it("refuses a create where the hosts are full with 409 no_capacity, writing and charging nothing", async () => {
    const api = await t.newAccount("10.00");
    for (const name of ["full-1", "full-2"]) {
      const created = await api.post("/api/v1/servers/", starter(name));
      assert.equal(created.status, 201, created.text);
    }
    assert.deepEqual((await hostNamed(t, "sim-us-west")).allocated, {
      vcpus: 2,
      memory_mb: 2048,
      disk_gb: 50,
    });

    const before = await footprint(t, api);
    const refused = await api.post("/api/v1/servers/", starter("full-3"));
    expectError(refused, 409, "no_capacity");
    assert.doesNotMatch(refused.text, /sim-/, "customers never see hosts");
    assert.deepEqual(await footprint(t, api), before, "no server, charge, operation, allocation or address");
    assert.equal((await api.get("/api/v1/servers/")).body.count, 2);
    assert.deepEqual((await hostNamed(t, "sim-us-west")).allocated, {
      vcpus: 2,
      memory_mb: 2048,
      disk_gb: 50,
    });

    // Another location's host has its own room.
    const east = await api.post("/api/v1/servers/", starter("east-1", "us-east"));
    assert.equal(east.status, 201, east.text);
  });

  it("shows customers the same server as before: no host in its detail or the list", async () => {
    const api = await t.newAccount("10.00");
    const created = await api.post("/api/v1/servers/", starter("plain", "eu-central"));
    assert.equal(created.status, 201, created.text);
    const detail = await api.get(`/api/v1/servers/${created.body.id}/`);
    const list = await api.get("/api/v1/servers/");
    for (const body of [created.text, detail.text, list.text])
      assert.doesNotMatch(body, /host_id|sim-eu-central/);
    const stored = await t.database.db
      .selectFrom("servers")
      .select("host_id")
      .where("id", "=", created.body.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.host_id, (await hostNamed(t, "sim-eu-central")).id, "the server lives on its host");
  });

  it("frees a deleted server's allocation once its machine is destroyed, so the room takes another", async () => {
    const api = await t.newAccount("10.00");
    // us-east holds one server of an earlier test: one more fills it.
    const created = await api.post("/api/v1/servers/", starter("east-a", "us-east"));
    assert.equal(created.status, 201, created.text);
    expectError(await api.post("/api/v1/servers/", starter("east-b", "us-east")), 409, "no_capacity");
    const full = (await hostNamed(t, "sim-us-east")).allocated;
    assert.deepEqual(full, { vcpus: 2, memory_mb: 2048, disk_gb: 50 });

    await waitForStatus(api, created.body.id, "active");
    const deleted = await api.delete(`/api/v1/servers/${created.body.id}/`);
    assert.equal(deleted.status, 204, deleted.text);
    const action = await api.get(`/api/v1/actions/${deleted.headers.get("action-id")}/?wait=30`);
    assert.equal(action.body.status, "success", action.text);
    assert.deepEqual((await hostNamed(t, "sim-us-east")).allocated, STARTER, "back to what it was");
    const again = await api.post("/api/v1/servers/", starter("east-c", "us-east"));
    assert.equal(again.status, 201, again.text);
  });

  it("frees the allocation of a create that fails for good", async () => {
    const api = await t.newAccount("10.00");
    const before = (await hostNamed(t, "sim-eu-central")).allocated;
    t.driver.faults.inject("create", { permanent: true });
    try {
      const created = await api.post("/api/v1/servers/", starter("doomed", "eu-central"));
      assert.equal(created.status, 201, created.text);
      const action = await api.get(`/api/v1/actions/${created.body.action_id}/?wait=30`);
      assert.equal(action.body.status, "error", action.text);
    } finally {
      t.driver.faults.clear();
    }
    assert.deepEqual((await hostNamed(t, "sim-eu-central")).allocated, before);
  });

  it("gives a location added through the admin API its embedded host at the next heartbeat", async () => {
    const made = await t.admin.post("/api/v1/admin/locations/", {
      code: "ap-south",
      name: "AP South",
      country: "IN",
    });
    assert.equal(made.status, 201, made.text);
    await t.app.engine.embeddedHosts?.beat();
    const host = await hostNamed(t, "sim-ap-south");
    assert.deepEqual([host.location, host.state], ["ap-south", "enabled"]);
  });
});

describe("placement over registered hosts (VPS_EMBEDDED_HOSTS=off)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off" });
  });
  after(() => t.close());

  async function joinedHost(name: string, location: string, capacity: Json, images?: string[]) {
    const registered = await t.admin.post(HOSTS, { name, location });
    assert.equal(registered.status, 201, registered.text);
    const joined = await t.anonymous.post("/api/v1/agent/join", {
      join_token: registered.body.join_token,
      capacity,
      agent_version: "0.1.0",
      driver: "qemu",
      ...(images ? { images } : {}),
    });
    assert.equal(joined.status, 201, joined.text);
    return { id: registered.body.host.id as number, agent: client(t.url, joined.body.credential) };
  }

  it("refuses a create in a location with no host at all with 409 no_capacity, charging nothing", async () => {
    assert.equal((await t.admin.get(HOSTS)).body.count, 0, "no embedded hosts");
    const api = await t.newAccount("10.00");
    const before = await footprint(t, api);
    expectError(await api.post("/api/v1/servers/", starter("nowhere", "us-east")), 409, "no_capacity");
    assert.deepEqual(await footprint(t, api), before);
  });

  it("places a server only on a host that has its OS's image, whatever the weighing prefers", async () => {
    const roomy = await joinedHost("hv-big", "us-west", { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 }, [
      "ubuntu-22.04.qcow2",
    ]);
    const small = await joinedHost("hv-small", "us-west", { vcpus: 4, memory_mb: 4096, disk_gb: 200 }, [
      "debian-12.qcow2",
      "ubuntu-22.04.qcow2",
    ]);
    assert.deepEqual((await t.admin.get(`${HOSTS}${roomy.id}/`)).body.images, ["ubuntu-22.04.qcow2"]);
    const api = await t.newAccount("10.00");
    const debian = await api.post("/api/v1/servers/", starter("deb", "us-west", 3));
    assert.equal(debian.status, 201, debian.text);
    assert.equal((await t.admin.get(`${HOSTS}${small.id}/`)).body.server_count, 1);
    assert.equal((await t.admin.get(`${HOSTS}${roomy.id}/`)).body.server_count, 0);
    // Spread (the default) takes the host with the most free memory among those with the image.
    const ubuntu = await api.post("/api/v1/servers/", starter("ubu", "us-west", 5));
    assert.equal(ubuntu.status, 201, ubuntu.text);
    assert.deepEqual((await t.admin.get(`${HOSTS}${roomy.id}/`)).body.allocated, STARTER);
    // Rocky Linux 9 is on neither.
    expectError(await api.post("/api/v1/servers/", starter("rocky", "us-west", 4)), 409, "no_capacity");
  });

  it("takes no server on a host that is disabled or not heard from", async () => {
    const { id } = await joinedHost("hv-eu", "eu-central", { vcpus: 8, memory_mb: 8192, disk_gb: 500 });
    const api = await t.newAccount("10.00");
    await t.admin.post(`${HOSTS}${id}/disable/`);
    expectError(await api.post("/api/v1/servers/", starter("off", "eu-central")), 409, "no_capacity");
    await t.admin.post(`${HOSTS}${id}/enable/`);
    await t.database.db
      .updateTable("hosts")
      .set({ last_heartbeat_at: new Date(Date.now() - 31_000).toISOString() })
      .where("id", "=", id)
      .execute();
    expectError(await api.post("/api/v1/servers/", starter("silent", "eu-central")), 409, "no_capacity");
  });
});
