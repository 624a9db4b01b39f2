import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { before, it } from "node:test";
import { simDiskOf } from "../../src/drivers/sim/sim-driver.ts";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";

// A control plane and two host agents of one location (separate processes, each with its own sim machines) that
// reach one image store, a directory both mount: an image made on one host is restored on the other.
const FLEET = {
  prefix: "images",
  plane: { VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50" },
  agent: { VPS_SIM_DELAY_MS: "50", VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50", VPS_POWER_SYNC_MS: "300" },
};

agentFleetSuite("images between host agents", FLEET, (fleet) => {
  const { dir } = fleet;
  let admin: Client;
  let owner: Client;
  const hosts: Record<string, number> = {};
  before(() => {
    ({ admin, owner } = fleet);
  });

  /** An agent whose image store is the fleet's one directory. */
  async function addHost(name: string): Promise<void> {
    const { id, token } = await fleet.register(name, "us-west");
    hosts[name] = id;
    const state = join(dir, name);
    mkdirSync(state, { recursive: true });
    await fleet.startAgent(state, {
      VPS_JOIN_TOKEN: token,
      VPS_IMAGE_STORE: join(dir, "shared-image-store"),
    });
  }

  /** The checksum of a sim machine's disk on a host, from its agent's own state. */
  function diskSha(host: string, serverId: number): string | undefined {
    const db = new DatabaseSync(join(dir, host, "machines.db"), { readOnly: true });
    try {
      const row = db
        .prepare("select id, created_at, disk from sim_machines where id = ?")
        .get(String(serverId));
      if (!row) return undefined;
      const machine = {
        id: String(row.id),
        created_at: String(row.created_at),
        disk: row.disk as string | null,
      };
      return createHash("sha256").update(simDiskOf(machine)).digest("hex");
    } finally {
      db.close();
    }
  }

  /** Only this host takes new servers while `make` runs. */
  async function onlyOn(name: string, make: () => Promise<Json>): Promise<Json> {
    for (const other of Object.keys(hosts)) {
      await admin.post(`/api/v1/admin/hosts/${hosts[other]}/${other === name ? "enable" : "disable"}/`);
    }
    try {
      return await make();
    } finally {
      for (const other of Object.keys(hosts)) await admin.post(`/api/v1/admin/hosts/${hosts[other]}/enable/`);
    }
  }

  it("restores a snapshot made on one host as a new server on another, with the same disk", async () => {
    await addHost("hv-a");
    await addHost("hv-b");
    const original = await onlyOn("hv-a", async () => {
      const res = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "original" });
      assert.equal(res.status, 201, res.text);
      return waitForStatus(owner, res.body.id, "active", 30_000);
    });

    const made = await owner.post(`/api/v1/servers/${original.id}/create_image/`, { name: "golden" });
    assert.equal(made.status, 200, made.text);
    const action = (await owner.get(`/api/v1/actions/${made.body.action_id}/?wait=30`)).body;
    assert.equal(action.status, "success", JSON.stringify(action));
    assert.equal(action.progress, 100);
    const image = (await owner.get(`/api/v1/images/${made.body.image.id}/`)).body;
    assert.equal(image.status, "available");
    assert.equal(image.consistency, "crash");
    assert.equal(image.sha256, diskSha("hv-a", original.id));

    const copy = await onlyOn("hv-b", async () => {
      const res = await owner.post("/api/v1/servers/", {
        ...SAMPLE_CREATE,
        name: "copy",
        image_id: image.id,
      });
      assert.equal(res.status, 201, res.text);
      return waitForStatus(owner, res.body.id, "active", 30_000);
    });
    assert.equal(diskSha("hv-b", copy.id), image.sha256);
    assert.equal(diskSha("hv-a", copy.id), undefined);
  });
});
